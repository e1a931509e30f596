#include "graph/passes/expand_fused_conv.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <unordered_set>

#include "graph/graph_editor.h"
#include "graph/pass.h"

namespace kiln::graph {

namespace {

// The first opsets with Clip's min/max as inputs and with HardSwish.
constexpr int64_t kClipInputsOpset = 11;
constexpr int64_t kHardSwishOpset = 14;
// Used when a graph of only com.kiln nodes imports no ai.onnx opset: the first
// opset where every form written here exists.
constexpr int64_t kFallbackOpset = 11;

size_t params_of(const std::string& activation) {
  if (activation.empty() || activation == "Relu" || activation == "Sigmoid" || activation == "Swish") return 0;
  if (activation == "LeakyRelu") return 1;
  if (activation == "Clip" || activation == "HardSigmoid" || activation == "HardSwish") return 2;
  return SIZE_MAX;
}

Attribute float_attr(float value) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = value;
  return a;
}

// Builds the nodes that replace one FusedConv, in order.
class Expansion {
 public:
  Expansion(GraphEditor& editor, std::unordered_set<std::string>& node_names, int64_t opset)
      : editor_(editor), node_names_(node_names), opset_(opset) {}

  std::vector<Node> expand(const Node& fused) {
    const std::string activation = fused.attr_string("activation", "");
    const std::vector<float> params = fused.attr_floats("activation_params");
    const size_t wanted = params_of(activation);
    if (wanted == SIZE_MAX) fail(fused.describe(), ": unknown activation '", activation, "'");
    if (params.size() != wanted)
      fail(fused.describe(), ": activation '", activation, "' takes ", wanted, " activation_params, got ",
           params.size());
    if (fused.outputs.size() != 1 || fused.outputs[0].empty())
      fail(fused.describe(), ": FusedConv has ", fused.outputs.size(), " outputs, expected 1");

    const std::vector<float> scale = fused.attr_floats("output_scale");
    const std::vector<float> shift = fused.attr_floats("output_shift");
    if (scale.size() != shift.size())
      fail(fused.describe(), ": output_scale and output_shift come together, got ", scale.size(), " and ",
           shift.size(), " values");
    const bool scales = std::any_of(scale.begin(), scale.end(), [](float v) { return v != 1.0f; });
    const bool shifts = std::any_of(shift.begin(), shift.end(), [](float v) { return v != 0.0f; });

    nodes_.clear();
    base_ = fused.name;
    // The activation (then the scale, then the shift) writes `z` when it is the last step.
    const std::string result = fused.outputs[0];
    const std::string z = scales || shifts ? editor_.unique_name(result + "_activation") : result;
    Node& conv = add(fused.name, "Conv", fused.inputs, activation.empty() ? z : editor_.unique_name(z + "_conv"));
    conv.attrs = fused.attrs;
    for (const char* key : {"activation", "activation_params", "output_scale", "output_shift"}) conv.attrs.erase(key);
    const std::string y = conv.outputs[0];

    if (activation == "Relu" || activation == "Sigmoid") {
      add_named(activation, {y}, z);
    } else if (activation == "LeakyRelu") {
      add_named("LeakyRelu", {y}, z).attrs["alpha"] = float_attr(params[0]);
    } else if (activation == "HardSigmoid") {
      hard_sigmoid(y, params, z);
    } else if (activation == "Clip") {
      clip(y, params[0], params[1], z);
    } else if (activation == "HardSwish") {
      if (opset_ >= kHardSwishOpset && params[0] == 1.0f / 6.0f && params[1] == 0.5f) {
        add_named("HardSwish", {y}, z);
      } else {
        const std::string gate = editor_.unique_name(z + "_hardsigmoid");
        hard_sigmoid(y, params, gate);
        add_named("Mul", {y, gate}, z);
      }
    } else if (activation == "Swish") {
      const std::string gate = editor_.unique_name(z + "_sigmoid");
      add_named("Sigmoid", {y}, gate);
      add_named("Mul", {y, gate}, z);
    }
    if (scales || shifts) output_affine(fused, z, scales ? one_if_uniform(scale) : std::vector<float>{},
                                        shifts ? one_if_uniform(shift) : std::vector<float>{}, result);
    return std::move(nodes_);
  }

 private:
  Node& add(const std::string& name, const std::string& op_type, std::vector<std::string> inputs,
            const std::string& output) {
    Node n;
    n.name = name;
    n.op_type = op_type;
    n.opset = opset_;
    n.inputs = std::move(inputs);
    n.outputs = {output};
    node_names_.insert(name);
    nodes_.push_back(std::move(n));
    return nodes_.back();
  }

  // A node named "<FusedConv name>/<op>" (made unique).
  Node& add_named(const std::string& op_type, std::vector<std::string> inputs, const std::string& output) {
    std::string name = base_ + "/" + op_type;
    for (int k = 1; node_names_.count(name); ++k) name = base_ + "/" + op_type + "_" + std::to_string(k);
    return add(name, op_type, std::move(inputs), output);
  }

  void hard_sigmoid(const std::string& y, const std::vector<float>& params, const std::string& output) {
    Node& n = add_named("HardSigmoid", {y}, output);
    n.attrs["alpha"] = float_attr(params[0]);
    n.attrs["beta"] = float_attr(params[1]);
  }

  void clip(const std::string& y, float lo, float hi, const std::string& output) {
    if (opset_ < kClipInputsOpset) {
      Node& n = add_named("Clip", {y}, output);
      n.attrs["min"] = float_attr(lo);
      n.attrs["max"] = float_attr(hi);
      return;
    }
    std::vector<std::string> inputs = {y, "", ""};
    if (!(std::isinf(lo) && lo < 0)) inputs[1] = editor_.add_initializer(base_ + "_clip_min", Tensor::from_floats({}, {lo}));
    if (!(std::isinf(hi) && hi > 0)) inputs[2] = editor_.add_initializer(base_ + "_clip_max", Tensor::from_floats({}, {hi}));
    while (inputs.size() > 1 && inputs.back().empty()) inputs.pop_back();
    add_named("Clip", std::move(inputs), output);
  }

  // fuse_conv_output_affine stores one value per channel even for a scalar
  // constant; written back, equal values are one scalar again.
  static std::vector<float> one_if_uniform(const std::vector<float>& values) {
    if (std::adjacent_find(values.begin(), values.end(), std::not_equal_to<float>()) == values.end())
      return {values.front()};
    return values;
  }

  // z * scale + shift -> output, the per-channel constants shaped [M, 1, ...]
  // (one 1 per spatial axis of the Conv, from W's rank) so they broadcast
  // along the channel axis; one value becomes a scalar. Empty = not needed.
  void output_affine(const Node& fused, const std::string& z, const std::vector<float>& scale,
                     const std::vector<float>& shift, const std::string& output) {
    auto constant_shape = [&](size_t values) -> Shape {
      if (values == 1) return {};
      const Tensor* w = fused.inputs.size() > 1 ? editor_.constant(fused.inputs[1]) : nullptr;
      if (!w || w->rank() < 3)
        fail(fused.describe(), ": per-channel output_scale/output_shift need the weight W as an initializer of rank "
             ">= 3 to be written in standard ops");
      Shape shape(w->rank() - 1, 1);
      shape[0] = static_cast<int64_t>(values);
      return shape;
    };
    std::string value = z;
    if (!scale.empty()) {
      const std::string c = editor_.add_initializer(base_ + "_output_scale",
                                                    Tensor::from_floats(constant_shape(scale.size()), scale));
      const std::string scaled = shift.empty() ? output : editor_.unique_name(output + "_scaled");
      add_named("Mul", {value, c}, scaled);
      value = scaled;
    }
    if (!shift.empty()) {
      const std::string c = editor_.add_initializer(base_ + "_output_shift",
                                                    Tensor::from_floats(constant_shape(shift.size()), shift));
      add_named("Add", {value, c}, output);
    }
  }

  GraphEditor& editor_;
  std::unordered_set<std::string>& node_names_;
  int64_t opset_;
  std::string base_;
  std::vector<Node> nodes_;
};

bool is_fused_conv(const Node& node) { return node.domain == kKilnDomain && node.op_type == "FusedConv"; }

}  // namespace

size_t expand_fused_conv(Graph& g) {
  size_t found = 0;
  for (const Node& node : g.nodes) found += is_fused_conv(node);
  if (found == 0) return 0;
  if (!g.opsets.count("")) g.opsets[""] = kFallbackOpset;
  std::unordered_set<std::string> node_names;
  for (const Node& node : g.nodes) node_names.insert(node.name);

  GraphEditor editor(g);  // for fresh value names and initializers; no node is removed
  Expansion expansion(editor, node_names, g.opsets.at(""));
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size() + found);
  for (Node& node : g.nodes) {
    if (!is_fused_conv(node)) {
      nodes.push_back(std::move(node));
      continue;
    }
    for (Node& n : expansion.expand(node)) nodes.push_back(std::move(n));
  }
  g.nodes = std::move(nodes);
  bool kiln_ops_left = false;
  for (const Node& node : g.nodes) kiln_ops_left |= node.domain == kKilnDomain;
  if (!kiln_ops_left) g.opsets.erase(kKilnDomain);
  return found;
}

}  // namespace kiln::graph
