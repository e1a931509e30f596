// Per-node shapes and multiply-accumulate counts for `kiln inspect`, from
// static shape inference or from the session's node observer during a run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/shape_inference.h"
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
  std::optional<int64_t> macs;  // for the ops of counts_macs() with fixed shapes
};

// True for the ops whose MACs are counted: Conv, FusedConv, ConvTranspose, Gemm, MatMul.
bool counts_macs(const std::string& op_type);

// Multiply-accumulates from the shapes alone (no attributes needed); nullopt
// when the op is not counted or a needed shape is not fixed.
//   Conv:          output elements x (C/group x kernel), W = [M, C/group, k...]
//   ConvTranspose: input elements x (M/group x kernel),  W = [C, M/group, k...]
//   Gemm, MatMul:  output elements x K
std::optional<int64_t> count_macs(const NodeShapes& node);

// Every node of `g` with the shapes static inference found.
std::vector<NodeShapes> node_shapes_from_inference(const graph::Graph& g, const graph::ValueInfoMap& infos);

// One node as the session ran it.
NodeShapes node_shapes_from_run(const NodeRunInfo& info);

}  // namespace kiln::cli
