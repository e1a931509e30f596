#include "graph/passes/fuse_elementwise.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "graph/graph_editor.h"
#include "graph/pass.h"
#include "graph/passes/constant_values.h"
#include "graph/shape_inference.h"

namespace kiln::graph {

namespace {

// FusedElementwise's input limit (plan_broadcast's walk).
constexpr size_t kMaxInputs = 8;

// One node as a program instruction: the op name the program uses, the
// data operands (indices into node.inputs), its float parameters. "" op =
// the identity (a Cast from float32 to float32).
struct Step {
  std::string op;
  std::vector<size_t> operands;
  float p0 = 0.0f, p1 = 0.0f;
  std::optional<size_t> condition;  // Where: input 0, a bool
};

const std::set<std::string>& plain_unary() {
  static const std::set<std::string> ops = {"Relu", "Sigmoid", "Tanh",  "Exp",   "Log",   "Sqrt",     "Reciprocal",
                                            "Neg",  "Abs",     "Erf",   "Floor", "Ceil",  "Round",    "Softplus",
                                            "HardSwish"};
  return ops;
}
const std::set<std::string>& binary() {
  static const std::set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};
  return ops;
}

class Grouper {
 public:
  Grouper(GraphEditor& editor, const OpCatalog& ops, const ValueInfoMap& infos)
      : editor_(editor), ops_(ops), infos_(infos) {}

  const ValueInfo* info(const std::string& value) const {
    auto it = infos_.find(value);
    return it == infos_.end() ? nullptr : &it->second;
  }
  bool is_float(const std::string& value) const {
    if (const Tensor* t = editor_.constant(value)) return t->dtype() == DataType::kFloat32;
    const ValueInfo* v = info(value);
    return v && v->dtype == DataType::kFloat32;
  }

  // The node as a program step, when the program supports it on float32 data.
  std::optional<Step> step(const Node& node) const {
    if (!node.domain.empty() || node.outputs.size() != 1 || node.outputs[0].empty()) return std::nullopt;
    if (!is_float(node.outputs[0])) return std::nullopt;
    const std::string& op = node.op_type;
    Step s;
    s.op = op;
    auto data = [&](std::initializer_list<size_t> inputs) {
      for (size_t i : inputs) {
        if (i >= node.inputs.size() || node.inputs[i].empty() || !is_float(node.inputs[i])) return false;
        s.operands.push_back(i);
      }
      return true;
    };
    const bool elementwise = ops_.has_trait(node, kElementwise);
    const bool broadcasting = ops_.has_trait(node, kBroadcasting);
    if (plain_unary().count(op) || op == "LeakyRelu" || op == "HardSigmoid") {
      if (!elementwise || node.inputs.size() != 1 || !data({0})) return std::nullopt;
      if (op == "LeakyRelu") s.p0 = node.attr_float("alpha", 0.01f);
      if (op == "HardSigmoid") s.p0 = node.attr_float("alpha", 0.2f), s.p1 = node.attr_float("beta", 0.5f);
      return s;
    }
    if (op == "Clip") {
      if (!elementwise || !data({0})) return std::nullopt;
      // Bounds as constants: attributes before opset 11 (defaults lowest and
      // max), optional scalar inputs after (absent = unbounded).
      if (node.opset < 11) {
        if (node.inputs.size() != 1) return std::nullopt;
        s.p0 = node.attr_float("min", std::numeric_limits<float>::lowest());
        s.p1 = node.attr_float("max", std::numeric_limits<float>::max());
        return s;
      }
      s.p0 = -std::numeric_limits<float>::infinity(), s.p1 = std::numeric_limits<float>::infinity();
      for (size_t i = 1; i < node.inputs.size(); ++i) {
        if (node.inputs[i].empty()) continue;
        std::optional<float> v = single_float(editor_.constant(node.inputs[i]));
        if (!v || i > 2) return std::nullopt;
        (i == 1 ? s.p0 : s.p1) = *v;
      }
      return s;
    }
    if (binary().count(op)) {
      if (!broadcasting || node.inputs.size() != 2 || !data({0, 1})) return std::nullopt;
      return s;
    }
    if (op == "Where") {
      if (!broadcasting || node.inputs.size() != 3 || !data({1, 2})) return std::nullopt;
      const ValueInfo* c = info(node.inputs[0]);
      const Tensor* ct = editor_.constant(node.inputs[0]);
      if (!(ct ? ct->dtype() == DataType::kBool : c && c->dtype == DataType::kBool)) return std::nullopt;
      s.condition = 0;
      return s;
    }
    if (op == "Cast") {
      // float32 to float32 only: the identity.
      if (node.inputs.size() != 1 || !data({0})) return std::nullopt;
      s.op.clear();
      return s;
    }
    return std::nullopt;
  }

  // Equal shapes: same rank, each dim the same fixed size or the same symbol.
  bool same_shape(const std::string& a, const std::string& b) const {
    const ValueInfo* x = info(a);
    const ValueInfo* y = info(b);
    if (!x || !y || !x->has_shape || !y->has_shape || x->dims.size() != y->dims.size()) return false;
    for (size_t d = 0; d < x->dims.size(); ++d) {
      const Dim& p = x->dims[d];
      const Dim& q = y->dims[d];
      if (p.is_fixed() ? !(q.is_fixed() && p.value == q.value) : (p.symbol.empty() || p.symbol != q.symbol))
        return false;
    }
    return true;
  }

  // Groups grown backwards from each sink, last node first: a producer joins
  // when it is supported, has the sink's output shape, its output is no
  // graph output, and every reader of it is already in the group.
  std::vector<std::vector<size_t>> groups() {
    std::vector<std::optional<Step>> steps(editor_.node_count());
    for (size_t n = 0; n < editor_.node_count(); ++n)
      if (!editor_.is_removed(n)) steps[n] = step(editor_.node(n));
    std::vector<bool> taken(editor_.node_count(), false);
    std::vector<std::vector<size_t>> result;
    for (size_t sink = editor_.node_count(); sink-- > 0;) {
      if (taken[sink] || !steps[sink]) continue;
      taken[sink] = true;
      const std::string& out = editor_.node(sink).outputs[0];
      std::set<size_t> group = {sink};
      for (bool grew = true; grew;) {
        grew = false;
        for (size_t member : std::vector<size_t>(group.begin(), group.end())) {
          for (size_t i : steps[member]->operands) {
            std::optional<size_t> p = editor_.producer(editor_.node(member).inputs[i]);
            if (!p || taken[*p] || !steps[*p]) continue;
            const std::string& value = editor_.node(*p).outputs[0];
            if (editor_.is_graph_output(value) || !same_shape(value, out)) continue;
            bool inside = true;
            for (const GraphEditor::Use& use : editor_.uses(value)) inside = inside && group.count(use.node) != 0;
            if (!inside) continue;
            group.insert(*p);
            taken[*p] = true;
            grew = true;
          }
        }
      }
      if (group.size() >= 2) result.emplace_back(group.begin(), group.end());
    }
    return result;
  }

  // Rewrites one group (node indices, ascending) into a FusedElementwise at
  // its last node. Returns false (graph untouched) when it needs too many inputs.
  bool fuse(const std::vector<size_t>& group) {
    std::vector<std::string> ops, inputs;
    std::vector<int64_t> args;
    std::vector<float> params;
    std::map<std::string, int64_t> value_of;  // value name -> instruction
    auto emit = [&](const std::string& op, int64_t a, int64_t b, int64_t c, float p0, float p1) {
      ops.push_back(op);
      args.insert(args.end(), {a, b, c});
      params.insert(params.end(), {p0, p1});
      return static_cast<int64_t>(ops.size()) - 1;
    };
    // An outside value: a program constant when it is a one-element float32
    // constant of rank <= the output's, else a node input.
    auto operand = [&](const std::string& value, bool condition) -> int64_t {
      auto it = value_of.find(value);
      if (it != value_of.end()) return it->second;
      int64_t k;
      const Tensor* t = editor_.constant(value);
      std::optional<float> c = condition ? std::nullopt : single_float(t);
      const ValueInfo* out = info(editor_.node(group.back()).outputs[0]);
      if (c && out && out->has_shape && t->rank() <= out->dims.size()) {
        k = emit("Constant", -1, -1, -1, *c, 0.0f);
      } else {
        inputs.push_back(value);
        k = emit("Input", static_cast<int64_t>(inputs.size()) - 1, -1, -1, 0.0f, 0.0f);
      }
      value_of[value] = k;
      return k;
    };
    for (size_t n : group) {
      const Node& node = editor_.node(n);
      const Step s = *step(node);
      int64_t a[3] = {-1, -1, -1};
      size_t next = 0;
      if (s.condition) a[next++] = operand(node.inputs[*s.condition], true);
      for (size_t i : s.operands) a[next++] = operand(node.inputs[i], false);
      value_of[node.outputs[0]] = s.op.empty() ? a[0] : emit(s.op, a[0], a[1], a[2], s.p0, s.p1);
    }
    if (inputs.size() > kMaxInputs || inputs.empty()) return false;
    // The program's result must be its last instruction (a trailing Cast
    // identity would leave it earlier).
    const int64_t result = value_of[editor_.node(group.back()).outputs[0]];
    if (result != static_cast<int64_t>(ops.size()) - 1) return false;

    const size_t sink = group.back();
    for (size_t n : group)
      if (n != sink) editor_.remove_node(n);
    Node& fused = editor_.node(sink);
    fused.op_type = "FusedElementwise";
    fused.domain = kKilnDomain;
    fused.opset = kKilnOpset;
    fused.attrs.clear();
    Attribute op_names;
    op_names.kind = Attribute::Kind::kStrings;
    op_names.strings = ops;
    fused.attrs["ops"] = op_names;
    Attribute arg_list;
    arg_list.kind = Attribute::Kind::kInts;
    arg_list.ints = args;
    fused.attrs["args"] = arg_list;
    Attribute param_list;
    param_list.kind = Attribute::Kind::kFloats;
    param_list.floats = params;
    fused.attrs["params"] = param_list;
    for (size_t i = 0; i < inputs.size(); ++i) editor_.set_input(sink, i, inputs[i]);
    editor_.truncate_inputs(sink, inputs.size());
    return true;
  }

 private:
  GraphEditor& editor_;
  const OpCatalog& ops_;
  const ValueInfoMap& infos_;
};

}  // namespace

size_t fuse_elementwise(Graph& g, const OpCatalog& ops) {
  const std::optional<ValueInfoMap> inferred = try_infer_shapes(g, ops);
  if (!inferred) return 0;
  const ValueInfoMap& infos = *inferred;
  GraphEditor editor(g);
  Grouper grouper(editor, ops, infos);
  size_t fused = 0;
  for (const std::vector<size_t>& group : grouper.groups()) fused += grouper.fuse(group) ? 1 : 0;
  if (fused) g.opsets[kKilnDomain] = kKilnOpset;
  editor.commit();
  return fused;
}

}  // namespace kiln::graph
