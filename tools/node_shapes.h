// Per-node shapes and multiply-accumulate counts for `kiln inspect` and
// `kiln profile`, from static shape inference (kiln::describe_model) or from
// the session's node observer during a run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kiln/model_info.h"
#include "kiln/session.h"

namespace kiln::cli {

// One input or output of a node.
struct ValueShape {
  std::string text;            // "1x3xHxW"; "?" when unknown; "-" for an omitted optional value
  std::optional<Shape> fixed;  // set when every dim is known
};

struct NodeShapes {
  std::string name;
  std::string op_type;
  std::vector<ValueShape> inputs;
  std::vector<ValueShape> outputs;
  std::optional<int64_t> macs;  // for the ops of kiln::counts_macs() with fixed shapes
};

// kiln::count_macs on the node's fixed shapes.
std::optional<int64_t> count_macs(const NodeShapes& node);

// Every node of `model` with the shapes static inference found.
std::vector<NodeShapes> node_shapes_from_description(const ModelDescription& model);

// One node as the session ran it.
NodeShapes node_shapes_from_run(const NodeRunInfo& info);

}  // namespace kiln::cli
