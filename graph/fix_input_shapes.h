// Fixing the declared shapes of a graph's inputs before optimizing: whole
// inputs by name (`--shape x=1x3x736x1280`) and named symbolic dims
// (`--dim batch=1`), like onnxruntime's free-dimension overrides. The session,
// `kiln inspect` and `kiln optimize` all fix shapes through this one function.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "graph/ir.h"
#include "kiln/tensor.h"

namespace kiln::graph {

// Replaces the declared shape of every input named in `input_shapes`, then
// gives every still-symbolic input dim named in `dim_values` its value.
// kiln::Error (naming the input and the model's inputs) for an unknown input or
// symbol, a negative size, a rank that differs from the declared one, or a size
// that contradicts a fixed declared dim.
void fix_input_shapes(Graph& g, const std::map<std::string, Shape>& input_shapes,
                      const std::map<std::string, int64_t>& dim_values);

}  // namespace kiln::graph
