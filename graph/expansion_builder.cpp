#include "graph/expansion_builder.h"

#include <cmath>

namespace kiln::graph {

namespace {

// The first opsets with Clip's min/max as inputs and with HardSwish.
constexpr int64_t kClipInputsOpset = 11;
constexpr int64_t kHardSwishOpset = 14;

}  // namespace

ExpansionBuilder::ExpansionBuilder(GraphEditor& editor, const Graph& g, const OpCatalog& ops, int64_t opset)
    : editor_(editor), g_(g), ops_(ops), opset_(opset) {
  for (const Node& node : g.nodes) node_names_.insert(node.name);
}

void ExpansionBuilder::begin(const Node& node) {
  base_ = node.name;
  nodes_.clear();
}

std::vector<Node> ExpansionBuilder::take_nodes() { return std::move(nodes_); }

std::optional<int64_t> ExpansionBuilder::rank_of(const std::string& value) {
  // The graph as it was before any expansion: the expanded nodes keep every
  // value the kiln ops read, so their shapes stay what inference says.
  if (!shapes_) shapes_ = infer_shapes(g_, ops_);
  auto it = shapes_->find(value);
  if (it == shapes_->end() || !it->second.has_shape) return std::nullopt;
  return static_cast<int64_t>(it->second.dims.size());
}

std::string ExpansionBuilder::unique_node_name(const std::string& wanted) {
  std::string name = wanted;
  for (int k = 1; node_names_.count(name); ++k) name = wanted + "_" + std::to_string(k);
  return name;
}

Node& ExpansionBuilder::add(const std::string& name, const std::string& op_type, std::vector<std::string> inputs,
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

Node& ExpansionBuilder::add_named(const std::string& op_type, std::vector<std::string> inputs,
                                  const std::string& output) {
  return add(unique_node_name(base_ + "/" + op_type), op_type, std::move(inputs), output);
}

Attribute ExpansionBuilder::float_attr(float value) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = value;
  return a;
}

Attribute ExpansionBuilder::ints_attr(std::vector<int64_t> values) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(values);
  return a;
}

size_t ExpansionBuilder::activation_param_count(const std::string& activation) {
  if (activation.empty() || activation == "Relu" || activation == "Sigmoid" || activation == "Swish") return 0;
  if (activation == "LeakyRelu") return 1;
  if (activation == "Clip" || activation == "HardSigmoid" || activation == "HardSwish") return 2;
  return SIZE_MAX;
}

void ExpansionBuilder::activation(const std::string& activation, const std::vector<float>& params,
                                  const std::string& y, const std::string& z) {
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

void ExpansionBuilder::hard_sigmoid(const std::string& y, const std::vector<float>& params,
                                    const std::string& output) {
  Node& n = add_named("HardSigmoid", {y}, output);
  n.attrs["alpha"] = float_attr(params[0]);
  n.attrs["beta"] = float_attr(params[1]);
}

void ExpansionBuilder::clip(const std::string& y, float lo, float hi, const std::string& output) {
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

}  // namespace kiln::graph
