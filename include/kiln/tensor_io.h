// Reading and writing tensors as files, and deterministic stand-in inputs.
//
// .npy files follow numpy's format (versions 1.0, 2.0 and 3.0): little-endian,
// C order, dtypes f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1. The header is treated as
// untrusted: its sizes are checked against the file size before anything is
// allocated, and every failure is a kiln::Error that names the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/tensor.h"

namespace kiln {

Tensor load_npy(const std::string& path);
// Writes version 1.0 (2.0 when the header does not fit). bfloat16 has no npy
// dtype and is rejected.
void save_npy(const std::string& path, const Tensor& tensor);

// Picks the reader by extension: .npy -> load_npy, .pb -> a serialized ONNX
// TensorProto (the backend test-data format).
Tensor load_tensor_file(const std::string& path);

// Deterministic pseudo-random data: uniform in [-1, 1) for float types,
// integers in [0, 8) for integer types (safe as small indices and sizes),
// 0/1 for bool. The same (dtype, shape, seed) always gives the same bytes.
Tensor random_tensor(DataType dtype, const Shape& shape, uint64_t seed);

// A fixed seed for an input, derived from its name (64-bit FNV-1a).
uint64_t seed_from_name(std::string_view name);

}  // namespace kiln
