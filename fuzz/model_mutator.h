// A structure-aware mutation for kiln_fuzz_model: parses the input as an ONNX
// ModelProto and changes one thing a hostile file could change (an attribute
// value, a dim, an op type, a value name, an initializer's type or bytes, an
// opset), choosing numbers near the edges (0, -1, 2^31, INT64_MAX, ...).
// Plain byte flips rarely get past protobuf parsing into the interesting
// checks; this reaches them in a few steps.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::fuzz {

// Rewrites data[0, size) in place; returns the new size (<= max_size), or 0
// when the bytes are not a model or the mutated model does not fit.
size_t mutate_model(uint8_t* data, size_t size, size_t max_size, unsigned seed);

}  // namespace kiln::fuzz
