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

// Gives dim 0 of every input of rank >= 1 the value `batch`, whether the model
// declares it fixed (an exporter's batch of 1) or symbolic; a symbolic dim 0
// passes its value on to every other input dim with the same symbol, as
// `dim_values` would. Runs after fix_input_shapes (SessionOptions::batch).
// Inputs of unknown rank or rank 0 are left alone. kiln::Error for batch < 1.
// Whether the graph can take the new batch is for shape inference to find out:
// a Reshape to a hard-coded shape fails there, naming the node.
void set_batch(Graph& g, int64_t batch);

}  // namespace kiln::graph
