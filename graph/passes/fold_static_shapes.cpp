#include "graph/passes/fold_static_shapes.h"

#include <algorithm>

#include "graph/graph_editor.h"
#include "graph/shape_inference.h"

namespace kiln::graph {

namespace {

// Shape's result for a known shape: dims [start, end) (negative = from the
// back, clamped to [0, rank]; absent attributes = all dims).
Tensor shape_value(const Node& node, const Shape& shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  int64_t start = node.attr_int("start", 0), end = node.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(shape[i]);
  return Tensor::from_int64s({static_cast<int64_t>(dims.size())}, dims);
}

}  // namespace

size_t fold_static_shapes(Graph& g, const OpCatalog& ops) {
  bool any = false;
  for (const Node& node : g.nodes) any |= node.domain.empty() && (node.op_type == "Shape" || node.op_type == "Size");
  if (!any) return 0;
  ValueInfoMap inferred;
  try {
    inferred = infer_shapes(g, ops);
  } catch (const Error&) {
    return 0;
  }

  GraphEditor editor(g);
  size_t folded = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    const Node& node = editor.node(n);
    if (!node.domain.empty() || (node.op_type != "Shape" && node.op_type != "Size")) continue;
    if (node.inputs.size() != 1 || node.inputs[0].empty() || node.outputs.size() != 1 || node.outputs[0].empty())
      continue;
    auto info = inferred.find(node.inputs[0]);
    if (info == inferred.end()) continue;
    std::optional<Shape> shape = info->second.static_shape();
    if (!shape) continue;
    Tensor value = node.op_type == "Shape" ? shape_value(node, *shape)
                                           : Tensor::from_int64s({}, {element_count(*shape)});
    const std::string output = node.outputs[0];
    editor.remove_node(n);
    editor.add_initializer_named(output, std::move(value));
    ++folded;
  }
  editor.commit();
  return folded;
}

}  // namespace kiln::graph
