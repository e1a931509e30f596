#include "graph/passes/fuse_conv_activation.h"

#include <cmath>
#include <limits>

#include "graph/graph_editor.h"
#include "graph/pass.h"
#include "graph/passes/constant_values.h"

namespace kiln::graph {

namespace {

// What a matched pattern turns into.
struct Activation {
  std::string name;              // FusedConv's `activation`
  std::vector<float> params;     // FusedConv's `activation_params`
  std::vector<size_t> nodes;     // the pattern's nodes after the Conv, all removed
  std::string output;            // the pattern's result, which the FusedConv takes over
};

constexpr float kSixth = 1.0f / 6.0f;

bool is_op(const Node& node, const char* op_type) {
  return node.domain.empty() && node.op_type == op_type && node.outputs.size() == 1 && !node.outputs[0].empty();
}

// For a two-input node reading `value`, its other input ("" if it does not read `value`).
std::string other_input(const Node& node, const std::string& value) {
  if (node.inputs.size() != 2) return "";
  if (node.inputs[0] == value) return node.inputs[1];
  if (node.inputs[1] == value) return node.inputs[0];
  return "";
}

// A one-element float constant of rank 0 or 1: multiplying or adding it
// cannot change the shape of a Conv output (rank >= 3).
std::optional<float> scalar_constant(const GraphEditor& editor, const std::string& value) {
  const Tensor* t = editor.constant(value);
  if (!t || t->rank() > 1) return std::nullopt;
  return single_float(t);
}

bool is_constant_equal(const GraphEditor& editor, const std::string& value, float wanted) {
  std::optional<float> v = scalar_constant(editor, value);
  return v && *v == wanted;
}

// Clip's bounds when they are constants. Opset < 11 has attributes (defaults
// lowest/max per that spec); later opsets have optional scalar inputs (absent = unbounded).
std::optional<std::pair<float, float>> clip_bounds(const GraphEditor& editor, const Node& clip) {
  if (clip.opset < 11) {
    if (clip.inputs.size() != 1) return std::nullopt;
    return std::make_pair(clip.attr_float("min", std::numeric_limits<float>::lowest()),
                          clip.attr_float("max", std::numeric_limits<float>::max()));
  }
  if (clip.inputs.empty() || clip.inputs.size() > 3) return std::nullopt;
  std::pair<float, float> bounds{-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()};
  for (size_t i = 1; i < clip.inputs.size(); ++i) {
    if (clip.inputs[i].empty()) continue;
    std::optional<float> v = single_float(editor.constant(clip.inputs[i]));
    if (!v) return std::nullopt;
    (i == 1 ? bounds.first : bounds.second) = *v;
  }
  return bounds;
}

// `node` computes value / 6 (Div by 6, or Mul by a constant within 1e-5 of 1/6).
bool divides_by_six(const GraphEditor& editor, const Node& node, const std::string& value) {
  if (is_op(node, "Div")) return node.inputs.size() == 2 && node.inputs[0] == value && is_constant_equal(editor, node.inputs[1], 6.0f);
  if (!is_op(node, "Mul")) return false;
  std::optional<float> c = scalar_constant(editor, other_input(node, value));
  return c && std::fabs(*c * 6.0f - 1.0f) < 1e-5f;
}

// A single-input activation reading y.
std::optional<Activation> match_unary(const GraphEditor& editor, size_t index) {
  const Node& node = editor.node(index);
  if (!node.domain.empty() || node.outputs.size() != 1 || node.outputs[0].empty()) return std::nullopt;
  Activation a{node.op_type, {}, {index}, node.outputs[0]};
  const std::string& op = node.op_type;
  if (op == "Relu" || op == "Sigmoid" || op == "HardSwish") {
    if (node.inputs.size() != 1) return std::nullopt;
    if (op == "HardSwish") a.params = {kSixth, 0.5f};
    return a;
  }
  if (op == "LeakyRelu" && node.inputs.size() == 1) {
    a.params = {node.attr_float("alpha", 0.01f)};
    return a;
  }
  if (op == "HardSigmoid" && node.inputs.size() == 1) {
    a.params = {node.attr_float("alpha", 0.2f), node.attr_float("beta", 0.5f)};
    return a;
  }
  if (op == "Clip") {
    std::optional<std::pair<float, float>> bounds = clip_bounds(editor, node);
    if (!bounds) return std::nullopt;
    a.params = {bounds->first, bounds->second};
    return a;
  }
  return std::nullopt;
}

// Add(y, 3) -> Clip(0, 6), from the Add at `add`: the Clip's index, or nullopt.
std::optional<size_t> match_shifted_relu6(const GraphEditor& editor, size_t add, const std::string& y) {
  const Node& node = editor.node(add);
  if (!is_op(node, "Add") || !is_constant_equal(editor, other_input(node, y), 3.0f)) return std::nullopt;
  std::optional<size_t> clip = editor.sole_reader(node.outputs[0]);
  if (!clip || !is_op(editor.node(*clip), "Clip") || editor.node(*clip).inputs[0] != node.outputs[0]) return std::nullopt;
  std::optional<std::pair<float, float>> bounds = clip_bounds(editor, editor.node(*clip));
  if (!bounds || bounds->first != 0.0f || bounds->second != 6.0f) return std::nullopt;
  return clip;
}

// The node multiplying y by `value` when it is value's only reader.
std::optional<size_t> mul_by_y(const GraphEditor& editor, const std::string& value, const std::string& y) {
  std::optional<size_t> mul = editor.sole_reader(value);
  if (!mul || !is_op(editor.node(*mul), "Mul") || other_input(editor.node(*mul), value) != y) return std::nullopt;
  return mul;
}

// y has one reader, the node at `first`.
std::optional<Activation> match_single_reader(const GraphEditor& editor, size_t first, const std::string& y) {
  if (std::optional<Activation> a = match_unary(editor, first)) {
    if (editor.node(first).inputs[0] != y) return std::nullopt;
    return a;
  }
  // Clip(y + 3, 0, 6) / 6
  std::optional<size_t> clip = match_shifted_relu6(editor, first, y);
  if (!clip) return std::nullopt;
  std::optional<size_t> div = editor.sole_reader(editor.node(*clip).outputs[0]);
  if (!div || !divides_by_six(editor, editor.node(*div), editor.node(*clip).outputs[0])) return std::nullopt;
  return Activation{"HardSigmoid", {kSixth, 0.5f}, {first, *clip, *div}, editor.node(*div).outputs[0]};
}

// y has two readers, the nodes at `first` and `second`: y * f(y) forms.
std::optional<Activation> match_gated(const GraphEditor& editor, size_t first, size_t second, const std::string& y) {
  const Node& gate = editor.node(first);
  // y * Sigmoid(y), y * HardSigmoid(y)
  if ((is_op(gate, "Sigmoid") || is_op(gate, "HardSigmoid")) && gate.inputs.size() == 1) {
    std::optional<size_t> mul = mul_by_y(editor, gate.outputs[0], y);
    if (!mul || *mul != second) return std::nullopt;
    if (gate.op_type == "Sigmoid") return Activation{"Swish", {}, {first, second}, editor.node(second).outputs[0]};
    return Activation{"HardSwish", {gate.attr_float("alpha", 0.2f), gate.attr_float("beta", 0.5f)}, {first, second},
                      editor.node(second).outputs[0]};
  }
  // y * Sigmoid(y * 1): Paddle's swish with beta 1
  if (is_op(gate, "Mul") && is_constant_equal(editor, other_input(gate, y), 1.0f)) {
    std::optional<size_t> sigmoid = editor.sole_reader(gate.outputs[0]);
    if (!sigmoid || !is_op(editor.node(*sigmoid), "Sigmoid") || editor.node(*sigmoid).inputs.size() != 1)
      return std::nullopt;
    std::optional<size_t> mul = mul_by_y(editor, editor.node(*sigmoid).outputs[0], y);
    if (!mul || *mul != second) return std::nullopt;
    return Activation{"Swish", {}, {first, *sigmoid, second}, editor.node(second).outputs[0]};
  }
  // y * Clip(y + 3, 0, 6) / 6 in its two orders
  std::optional<size_t> clip = match_shifted_relu6(editor, first, y);
  if (!clip) return std::nullopt;
  const std::string& h = editor.node(*clip).outputs[0];
  std::optional<size_t> next = editor.sole_reader(h);
  if (!next) return std::nullopt;
  std::optional<size_t> mul, div, last;
  if (std::optional<size_t> m = mul_by_y(editor, h, y)) {  // (y * h) / 6
    mul = m;
    div = last = editor.sole_reader(editor.node(*m).outputs[0]);
    if (!div || !divides_by_six(editor, editor.node(*div), editor.node(*m).outputs[0])) return std::nullopt;
  } else if (divides_by_six(editor, editor.node(*next), h)) {  // y * (h / 6)
    div = next;
    mul = last = mul_by_y(editor, editor.node(*next).outputs[0], y);
    if (!mul) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (*mul != second) return std::nullopt;
  return Activation{"HardSwish", {kSixth, 0.5f}, {first, *clip, *mul, *div}, editor.node(*last).outputs[0]};
}

std::optional<Activation> match_activation(const GraphEditor& editor, const std::string& y) {
  if (editor.is_graph_output(y)) return std::nullopt;
  const std::vector<GraphEditor::Use>& uses = editor.uses(y);
  if (uses.size() == 1) return match_single_reader(editor, uses[0].node, y);
  if (uses.size() != 2 || uses[0].node == uses[1].node) return std::nullopt;
  if (std::optional<Activation> a = match_gated(editor, uses[0].node, uses[1].node, y)) return a;
  return match_gated(editor, uses[1].node, uses[0].node, y);
}

// A Conv with a float32 constant weight, a FusedConv without an activation
// yet, or a FusedLayerNorm without one (fuse_layer_norm's result).
bool is_fusable_conv(const GraphEditor& editor, const Node& node) {
  if (node.outputs.size() != 1 || node.outputs[0].empty()) return false;
  if (node.domain == kKilnDomain && node.op_type == "FusedLayerNorm") return !node.has_attr("activation");
  if (node.inputs.size() < 2) return false;
  const bool conv = node.domain.empty() && node.op_type == "Conv";
  const bool fused = node.domain == kKilnDomain && node.op_type == "FusedConv" && !node.has_attr("activation");
  if (!conv && !fused) return false;
  const Tensor* weight = editor.constant(node.inputs[1]);
  return weight && weight->dtype() == DataType::kFloat32;
}

}  // namespace

size_t fuse_conv_activation(Graph& g) {
  GraphEditor editor(g);
  size_t fused = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    if (editor.is_removed(n) || !is_fusable_conv(editor, editor.node(n))) continue;
    std::optional<Activation> activation = match_activation(editor, editor.node(n).outputs[0]);
    if (!activation) continue;
    for (size_t m : activation->nodes) editor.remove_node(m);
    Node& conv = editor.node(n);
    if (conv.op_type != "FusedLayerNorm") conv.op_type = "FusedConv";
    conv.domain = kKilnDomain;
    conv.opset = kKilnOpset;
    Attribute name;
    name.kind = Attribute::Kind::kString;
    name.s = activation->name;
    conv.attrs["activation"] = name;
    if (!activation->params.empty()) {
      Attribute params;
      params.kind = Attribute::Kind::kFloats;
      params.floats = activation->params;
      conv.attrs["activation_params"] = params;
    }
    editor.set_output(n, 0, activation->output);
    g.opsets[kKilnDomain] = kKilnOpset;
    ++fused;
  }
  editor.commit();
  return fused;
}

}  // namespace kiln::graph
