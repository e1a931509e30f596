#include "graph/passes/expand_fused_conv.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <unordered_set>

#include "graph/graph_editor.h"
#include "graph/pass.h"
#include "graph/shape_inference.h"

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
    std::vector<std::string> conv_inputs = fused.inputs;
    const std::string pad_mode = fused.attr_string("pad_mode", "constant");
    if (pad_mode != "constant" && pad_mode != "reflect")
      fail(fused.describe(), ": unknown pad_mode '", pad_mode, "'");
    if (pad_mode == "reflect" && !conv_inputs.empty()) conv_inputs[0] = reflect_pad(fused, conv_inputs[0]);
    Node& conv = add(fused.name, "Conv", conv_inputs, activation.empty() ? z : editor_.unique_name(z + "_conv"));
    conv.attrs = fused.attrs;
    for (const char* key : {"activation", "activation_params", "output_scale", "output_shift", "pad_mode"})
      conv.attrs.erase(key);
    if (pad_mode == "reflect") conv.attrs.erase("pads");  // the Pad node has them
    const std::string y = conv.outputs[0];
    emit_activation(activation, params, y, z);
    if (scales || shifts) output_affine(fused, z, scales ? one_if_uniform(scale) : std::vector<float>{},
                                        shifts ? one_if_uniform(shift) : std::vector<float>{}, result);
    return std::move(nodes_);
  }

  // A FusedLayerNorm as the chain fuse_layer_norm reads: ReduceMean, Sub,
  // Mul (the square), ReduceMean, Add epsilon, Sqrt, Div, then Mul by Scale
  // and Add of B when present, then the activation. `rank` is X's rank.
  std::vector<Node> expand_layer_norm(const Node& fused, int64_t rank) {
    const std::string activation = fused.attr_string("activation", "");
    const std::vector<float> params = fused.attr_floats("activation_params");
    if (params_of(activation) == SIZE_MAX || params.size() != params_of(activation))
      fail(fused.describe(), ": bad activation '", activation, "' with ", params.size(), " activation_params");
    if (fused.inputs.empty() || fused.outputs.size() != 1) fail(fused.describe(), ": FusedLayerNorm needs X and one output");
    int64_t axis = fused.attr_int("axis", -1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) fail(fused.describe(), ": axis out of range for rank ", rank);
    nodes_.clear();
    base_ = fused.name;
    const std::string& x = fused.inputs[0];
    const std::string result = fused.outputs[0];
    std::vector<int64_t> axes;
    for (int64_t a = axis; a < rank; ++a) axes.push_back(a);
    auto reduce_mean = [&](const std::string& in, const std::string& out, const std::string& name) {
      std::vector<std::string> inputs = {in};
      if (opset_ >= 18) {
        Tensor t(DataType::kInt64, {static_cast<int64_t>(axes.size())});
        std::copy(axes.begin(), axes.end(), t.data<int64_t>());
        inputs.push_back(editor_.add_initializer(base_ + "_axes", std::move(t)));
      }
      Node& n = add(name, "ReduceMean", inputs, out);
      if (opset_ < 18) {
        Attribute a;
        a.kind = Attribute::Kind::kInts;
        a.ints = axes;
        n.attrs["axes"] = a;
      }
      Attribute keep;
      keep.kind = Attribute::Kind::kInt;
      keep.i = 1;
      n.attrs["keepdims"] = keep;
    };
    auto fresh = [&](const char* what) { return editor_.unique_name(result + "_" + what); };
    const std::string mean = fresh("mean"), centered = fresh("centered"), squared = fresh("squared"),
                      variance = fresh("variance"), shifted = fresh("variance_eps"), std_dev = fresh("std");
    reduce_mean(x, mean, fused.name);
    add_named("Sub", {x, mean}, centered);
    add_named("Mul", {centered, centered}, squared);
    reduce_mean(squared, variance, unique_node_name(base_ + "/ReduceMean"));
    const std::string eps = editor_.add_initializer(base_ + "_epsilon",
                                                    Tensor::from_floats({}, {fused.attr_float("epsilon", 1e-5f)}));
    add_named("Add", {variance, eps}, shifted);
    add_named("Sqrt", {shifted}, std_dev);
    const bool has_scale = fused.inputs.size() > 1 && !fused.inputs[1].empty();
    const bool has_bias = fused.inputs.size() > 2 && !fused.inputs[2].empty();
    std::string value = activation.empty() && !has_scale && !has_bias ? result : fresh("normalized");
    add_named("Div", {centered, std_dev}, value);
    if (has_scale) {
      const std::string out = activation.empty() && !has_bias ? result : fresh("scaled");
      add_named("Mul", {value, fused.inputs[1]}, out);
      value = out;
    }
    if (has_bias) {
      const std::string out = activation.empty() ? result : fresh("shifted");
      add_named("Add", {value, fused.inputs[2]}, out);
      value = out;
    }
    if (!activation.empty()) emit_activation(activation, params, value, result);
    return std::move(nodes_);
  }

 private:
  // f(y) -> z in standard ops (nothing for no activation: then y is z).
  void emit_activation(const std::string& activation, const std::vector<float>& params, const std::string& y,
                       const std::string& z) {
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
  }

  // A Pad(x, reflect) with the FusedConv's spatial pads; returns its output.
  std::string reflect_pad(const Node& fused, const std::string& x) {
    const std::vector<int64_t> pads = fused.attr_ints("pads", std::vector<int64_t>(4, 0));
    if (pads.size() != 4) fail(fused.describe(), ": pad_mode 'reflect' needs 4 pads (a 2-D conv), got ", pads.size());
    const std::vector<int64_t> all = {0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]};
    const std::string padded = editor_.unique_name(x + "_reflect_padded");
    Attribute mode;
    mode.kind = Attribute::Kind::kString;
    mode.s = "reflect";
    if (opset_ < 11) {
      Node& n = add_named("Pad", {x}, padded);
      n.attrs["mode"] = mode;
      Attribute p;
      p.kind = Attribute::Kind::kInts;
      p.ints = all;
      n.attrs["pads"] = p;
      return padded;
    }
    Tensor t(DataType::kInt64, {8});
    std::copy(all.begin(), all.end(), t.data<int64_t>());
    Node& n = add_named("Pad", {x, editor_.add_initializer(base_ + "_pads", std::move(t))}, padded);
    n.attrs["mode"] = mode;
    return padded;
  }

  std::string unique_node_name(const std::string& wanted) {
    std::string name = wanted;
    for (int k = 1; node_names_.count(name); ++k) name = wanted + "_" + std::to_string(k);
    return name;
  }

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
bool is_fused_layer_norm(const Node& node) {
  return node.domain == kKilnDomain && node.op_type == "FusedLayerNorm";
}

}  // namespace

size_t expand_fused_conv(Graph& g) {
  size_t found = 0;
  bool layer_norms = false;
  for (const Node& node : g.nodes) {
    found += is_fused_conv(node) || is_fused_layer_norm(node);
    layer_norms |= is_fused_layer_norm(node);
  }
  if (found == 0) return 0;
  // A FusedLayerNorm's ReduceMeans list their axes, so they need X's rank.
  ValueInfoMap infos;
  if (layer_norms) infos = infer_shapes(g);
  if (!g.opsets.count("")) g.opsets[""] = kFallbackOpset;
  std::unordered_set<std::string> node_names;
  for (const Node& node : g.nodes) node_names.insert(node.name);

  GraphEditor editor(g);  // for fresh value names and initializers; no node is removed
  Expansion expansion(editor, node_names, g.opsets.at(""));
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size() + found);
  for (Node& node : g.nodes) {
    if (is_fused_layer_norm(node)) {
      auto info = node.inputs.empty() ? infos.end() : infos.find(node.inputs[0]);
      if (info == infos.end() || !info->second.has_shape)
        fail(node.describe(), ": the rank of its input is unknown, so it cannot be written as standard ops");
      for (Node& n : expansion.expand_layer_norm(node, static_cast<int64_t>(info->second.dims.size())))
        nodes.push_back(std::move(n));
      continue;
    }
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
