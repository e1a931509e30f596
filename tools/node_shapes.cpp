#include "tools/node_shapes.h"

namespace kiln::cli {
namespace {

int64_t product(const Shape& shape, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < shape.size(); ++i) p *= shape[i];
  return p;
}

ValueShape from_info(const graph::ValueInfo* info) {
  if (!info) return {"?", std::nullopt};
  return {info->shape_string(), info->static_shape()};
}

ValueShape from_tensor(const Tensor* tensor) {
  if (!tensor || !tensor->defined()) return {"-", std::nullopt};
  return {shape_to_string(tensor->shape()), tensor->shape()};
}

}  // namespace

bool counts_macs(const std::string& op_type) {
  return op_type == "Conv" || op_type == "FusedConv" || op_type == "ConvTranspose" || op_type == "Gemm" ||
         op_type == "MatMul";
}

std::optional<int64_t> count_macs(const NodeShapes& node) {
  if (!counts_macs(node.op_type)) return std::nullopt;
  auto in = [&](size_t i) -> const Shape* {
    return i < node.inputs.size() && node.inputs[i].fixed ? &*node.inputs[i].fixed : nullptr;
  };
  const Shape* out = !node.outputs.empty() && node.outputs[0].fixed ? &*node.outputs[0].fixed : nullptr;
  if (node.op_type == "ConvTranspose") {
    if (!in(0) || !in(1) || in(1)->size() < 2) return std::nullopt;
    return product(*in(0)) * product(*in(1), 1);
  }
  if (!out) return std::nullopt;
  if (node.op_type == "Conv" || node.op_type == "FusedConv") {
    if (!in(1) || in(1)->size() < 2) return std::nullopt;
    return product(*out) * product(*in(1), 1);
  }
  if (node.op_type == "MatMul") {
    if (!in(0) || in(0)->empty()) return std::nullopt;
    return product(*out) * in(0)->back();
  }
  // Gemm: A is MxK or KxM (transA), Y is MxN, so K = elements(A) / M.
  if (!in(0) || out->size() != 2) return std::nullopt;
  if ((*out)[0] == 0) return 0;
  return product(*out) * (product(*in(0)) / (*out)[0]);
}

std::vector<NodeShapes> node_shapes_from_inference(const graph::Graph& g, const graph::ValueInfoMap& infos) {
  auto lookup = [&](const std::string& name) -> const graph::ValueInfo* {
    auto it = infos.find(name);
    return it == infos.end() ? nullptr : &it->second;
  };
  std::vector<NodeShapes> nodes;
  for (const graph::Node& node : g.nodes) {
    NodeShapes shapes{node.name, node.op_type, {}, {}, std::nullopt};
    for (const std::string& name : node.inputs)
      shapes.inputs.push_back(name.empty() ? ValueShape{"-", std::nullopt} : from_info(lookup(name)));
    for (const std::string& name : node.outputs)
      shapes.outputs.push_back(name.empty() ? ValueShape{"-", std::nullopt} : from_info(lookup(name)));
    shapes.macs = count_macs(shapes);
    nodes.push_back(std::move(shapes));
  }
  return nodes;
}

NodeShapes node_shapes_from_run(const NodeRunInfo& info) {
  NodeShapes shapes{info.node_name, info.op_type, {}, {}, std::nullopt};
  for (const Tensor* t : info.inputs) shapes.inputs.push_back(from_tensor(t));
  for (const Tensor& t : info.outputs) shapes.outputs.push_back(from_tensor(&t));
  shapes.macs = count_macs(shapes);
  return shapes;
}

}  // namespace kiln::cli
