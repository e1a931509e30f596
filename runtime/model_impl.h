// The parsed graph behind a kiln::Model, shared by model_info.cpp (which
// describes it) and session.cpp (which opens sessions from it).
#pragma once

#include "graph/ir.h"
#include "kiln/model_info.h"

namespace kiln {

struct Model::Impl {
  graph::Graph graph;
};

// A declared or inferred value as the public API shows it (TensorInfo).
TensorInfo to_tensor_info(const graph::ValueInfo& v);

}  // namespace kiln
