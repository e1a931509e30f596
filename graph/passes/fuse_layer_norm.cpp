#include "graph/passes/fuse_layer_norm.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph_editor.h"
#include "graph/pass.h"
#include "graph/passes/constant_values.h"
#include "graph/shape_inference.h"

namespace kiln::graph {

namespace {

bool is_op(const Node& node, const char* op_type, size_t inputs) {
  return node.domain.empty() && node.op_type == op_type && node.inputs.size() == inputs && node.outputs.size() == 1 &&
         !node.outputs[0].empty();
}

// The ReduceMean's axes when it keeps dims and reduces the trailing axes
// [axis, rank): that axis; else nullopt.
std::optional<int64_t> trailing_axis(const Node& reduce, int64_t rank) {
  if (!is_op(reduce, "ReduceMean", 1) || reduce.opset >= 18 || reduce.attr_int("keepdims", 1) != 1) return std::nullopt;
  std::vector<int64_t> axes = reduce.attr_ints("axes");
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank) return std::nullopt;
    if (a < 0) a += rank;
  }
  std::sort(axes.begin(), axes.end());
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != rank - static_cast<int64_t>(axes.size()) + static_cast<int64_t>(i)) return std::nullopt;
  if (axes.empty()) return std::nullopt;
  return axes.front();
}

// The node reading `value` once, as its only reader, with `op_type` and
// `inputs` inputs.
std::optional<size_t> sole(const GraphEditor& editor, const std::string& value, const char* op_type, size_t inputs) {
  std::optional<size_t> reader = editor.sole_reader(value);
  if (!reader || !is_op(editor.node(*reader), op_type, inputs)) return std::nullopt;
  return reader;
}

// For a two-input node reading `value`, its other input ("" if it does not read `value`).
std::string other_input(const Node& node, const std::string& value) {
  if (node.inputs.size() != 2) return "";
  if (node.inputs[0] == value) return node.inputs[1];
  if (node.inputs[1] == value) return node.inputs[0];
  return "";
}

// Whether float32 constant `t` broadcasts onto x (shape `x`) without
// changing it and varies only along adjacent axes >= axis of known size.
bool broadcasts_onto_rows(const Tensor* t, const ValueInfo& x, int64_t axis) {
  if (!t || t->dtype() != DataType::kFloat32 || t->rank() > x.dims.size()) return false;
  const size_t lead = x.dims.size() - t->rank();
  int64_t last = -1;
  for (size_t d = 0; d < t->rank(); ++d) {
    const int64_t size = t->dim(d);
    if (size == 1) continue;
    const size_t axis_of_x = lead + d;
    const Dim& dim = x.dims[axis_of_x];
    if (static_cast<int64_t>(axis_of_x) < axis || !dim.is_fixed() || dim.value != size) return false;
    if (last >= 0 && static_cast<int64_t>(axis_of_x) != last + 1) return false;
    last = static_cast<int64_t>(axis_of_x);
  }
  return true;
}

// One matched chain: the nodes it removes and what replaces it.
struct LayerNormMatch {
  int64_t axis = 0;
  float epsilon = 0;
  std::string scale, bias;  // "" when absent
  std::string output;
  std::vector<size_t> nodes;  // every node of the chain but the first ReduceMean
};

std::optional<LayerNormMatch> match(const GraphEditor& editor, size_t mean_node, const ValueInfoMap& infos) {
  const Node& reduce = editor.node(mean_node);
  if (reduce.inputs.size() != 1) return std::nullopt;
  const std::string& x = reduce.inputs[0];
  auto info = infos.find(x);
  if (info == infos.end() || !info->second.has_shape || info->second.dtype != DataType::kFloat32) return std::nullopt;
  const int64_t rank = static_cast<int64_t>(info->second.dims.size());
  LayerNormMatch m;
  std::optional<int64_t> axis = trailing_axis(reduce, rank);
  if (!axis) return std::nullopt;
  m.axis = *axis;
  const std::vector<int64_t> axes = reduce.attr_ints("axes");

  std::optional<size_t> sub = sole(editor, reduce.outputs[0], "Sub", 2);
  if (!sub || editor.node(*sub).inputs[0] != x || editor.node(*sub).inputs[1] != reduce.outputs[0]) return std::nullopt;
  const std::string centered = editor.node(*sub).outputs[0];
  // `centered` feeds the square and the Div, nothing else.
  if (editor.is_graph_output(centered)) return std::nullopt;
  std::optional<size_t> square, divide;
  for (const GraphEditor::Use& use : editor.uses(centered)) {
    const Node& reader = editor.node(use.node);
    if (is_op(reader, "Pow", 2) && reader.inputs[0] == centered) {
      std::optional<float> exponent = single_float(editor.constant(reader.inputs[1]));
      if (!exponent || *exponent != 2.0f || square) return std::nullopt;
      square = use.node;
    } else if (is_op(reader, "Mul", 2) && reader.inputs[0] == centered && reader.inputs[1] == centered) {
      if (square && *square != use.node) return std::nullopt;
      square = use.node;
    } else if (is_op(reader, "Div", 2) && reader.inputs[0] == centered) {
      if (divide) return std::nullopt;
      divide = use.node;
    } else {
      return std::nullopt;
    }
  }
  if (!square || !divide) return std::nullopt;
  std::optional<size_t> variance = sole(editor, editor.node(*square).outputs[0], "ReduceMean", 1);
  if (!variance || trailing_axis(editor.node(*variance), rank) != m.axis ||
      editor.node(*variance).attr_ints("axes") != axes)
    return std::nullopt;
  std::optional<size_t> add_epsilon = sole(editor, editor.node(*variance).outputs[0], "Add", 2);
  if (!add_epsilon) return std::nullopt;
  const Tensor* epsilon = editor.constant(other_input(editor.node(*add_epsilon), editor.node(*variance).outputs[0]));
  std::optional<float> epsilon_value = epsilon && epsilon->rank() <= 1 ? single_float(epsilon) : std::nullopt;
  if (!epsilon_value || !(*epsilon_value >= 0.0f)) return std::nullopt;
  m.epsilon = *epsilon_value;
  std::optional<size_t> root = sole(editor, editor.node(*add_epsilon).outputs[0], "Sqrt", 1);
  if (!root || editor.sole_reader(editor.node(*root).outputs[0]) != divide ||
      editor.node(*divide).inputs[1] != editor.node(*root).outputs[0])
    return std::nullopt;
  m.nodes = {*sub, *square, *variance, *add_epsilon, *root, *divide};
  m.output = editor.node(*divide).outputs[0];

  // Optional Mul by the scale, then Add of the bias.
  if (std::optional<size_t> mul = sole(editor, m.output, "Mul", 2)) {
    const std::string scale = other_input(editor.node(*mul), m.output);
    if (scale != m.output && broadcasts_onto_rows(editor.constant(scale), info->second, m.axis)) {
      m.scale = scale;
      m.nodes.push_back(*mul);
      m.output = editor.node(*mul).outputs[0];
    }
  }
  if (std::optional<size_t> add = sole(editor, m.output, "Add", 2)) {
    const std::string bias = other_input(editor.node(*add), m.output);
    if (bias != m.output && broadcasts_onto_rows(editor.constant(bias), info->second, m.axis)) {
      m.bias = bias;
      m.nodes.push_back(*add);
      m.output = editor.node(*add).outputs[0];
    }
  }
  return m;
}

}  // namespace

size_t fuse_layer_norm(Graph& g, const OpCatalog& ops) {
  const std::optional<ValueInfoMap> inferred = try_infer_shapes(g, ops);
  if (!inferred) return 0;
  const ValueInfoMap& infos = *inferred;
  GraphEditor editor(g);
  size_t fused = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    if (editor.is_removed(n) || !is_op(editor.node(n), "ReduceMean", 1)) continue;
    std::optional<LayerNormMatch> m = match(editor, n, infos);
    if (!m) continue;
    for (size_t node : m->nodes) editor.remove_node(node);
    Node& norm = editor.node(n);
    const std::string x = norm.inputs[0];
    norm.op_type = "FusedLayerNorm";
    norm.domain = kKilnDomain;
    norm.opset = kKilnOpset;
    norm.attrs.clear();
    Attribute axis;
    axis.kind = Attribute::Kind::kInt;
    axis.i = m->axis;
    norm.attrs["axis"] = axis;
    Attribute epsilon;
    epsilon.kind = Attribute::Kind::kFloat;
    epsilon.f = m->epsilon;
    norm.attrs["epsilon"] = epsilon;
    if (!m->bias.empty()) {
      editor.set_input(n, 1, m->scale);
      editor.set_input(n, 2, m->bias);
    } else if (!m->scale.empty()) {
      editor.set_input(n, 1, m->scale);
    }
    editor.set_output(n, 0, m->output);
    g.opsets[kKilnDomain] = kKilnOpset;
    ++fused;
  }
  editor.commit();
  return fused;
}

}  // namespace kiln::graph
