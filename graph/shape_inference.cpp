#include "graph/shape_inference.h"

#include <exception>

#include "platform/checked_math.h"

namespace kiln::graph {

namespace {

ValueInfo fixed_info(const std::string& name, const Tensor& t) {
  ValueInfo v;
  v.name = name;
  v.dtype = t.dtype();
  v.has_shape = true;
  for (int64_t d : t.shape()) v.dims.push_back(Dim{d, ""});
  return v;
}

class EmptyCatalog final : public OpCatalog {
 public:
  const OpSchema* find(const std::string&, const std::string&, int64_t) const override { return nullptr; }
};

}  // namespace

const OpCatalog& empty_op_catalog() {
  static const EmptyCatalog catalog;
  return catalog;
}

std::vector<ValueInfo> infer_node(const Node& node, const std::vector<const ValueInfo*>& inputs,
                                  const std::vector<const Tensor*>& constants, const OpCatalog& ops) {
  const OpSchema* schema = ops.find(node);
  if (!schema || !schema->shape) return {};
  ShapeContext ctx{node, inputs, constants};
  std::vector<ValueInfo> out = schema->shape(ctx);
  for (size_t i = 0; i < out.size() && i < node.outputs.size(); ++i) {
    out[i].name = node.outputs[i];
    // The limit every Tensor has at run time (platform/tensor.cpp), applied
    // to what the rules compute at build time.
    for (const Dim& d : out[i].dims)
      if (d.is_fixed()) checked::dim(d.value, node.describe(), ("a dim of output '" + node.outputs[i] + "'").c_str());
  }
  return out;
}

std::optional<ValueInfoMap> try_infer_shapes(const Graph& g, const OpCatalog& ops) {
  try {
    return infer_shapes(g, ops);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

ValueInfoMap infer_shapes(const Graph& g, const OpCatalog& ops) {
  ValueInfoMap known;
  for (const ValueInfo& in : g.inputs) known[in.name] = in;
  for (const auto& [name, t] : g.initializers) known[name] = fixed_info(name, t);
  for (const Node& node : g.nodes) {
    std::vector<const ValueInfo*> inputs;
    std::vector<const Tensor*> constants;
    for (const std::string& name : node.inputs) {
      auto it = name.empty() ? known.end() : known.find(name);
      inputs.push_back(it == known.end() ? nullptr : &it->second);
      auto c = name.empty() ? g.initializers.end() : g.initializers.find(name);
      constants.push_back(c == g.initializers.end() ? nullptr : &c->second);
    }
    std::vector<ValueInfo> out = infer_node(node, inputs, constants, ops);
    for (size_t i = 0; i < out.size() && i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty() && out[i].dtype != DataType::kUndefined) known[node.outputs[i]] = out[i];
  }
  return known;
}

}  // namespace kiln::graph
