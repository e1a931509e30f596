#include "graph/ir.h"

#include <sstream>

namespace kiln::graph {

std::optional<Shape> ValueInfo::static_shape() const {
  if (!has_shape) return std::nullopt;
  Shape shape;
  for (const Dim& d : dims) {
    if (!d.is_fixed()) return std::nullopt;
    shape.push_back(d.value);
  }
  return shape;
}

std::string ValueInfo::shape_string() const {
  if (!has_shape) return "?";
  if (dims.empty()) return "scalar";
  std::ostringstream out;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out << "x";
    if (dims[i].is_fixed()) out << dims[i].value;
    else if (!dims[i].symbol.empty()) out << dims[i].symbol;
    else out << "?";
  }
  return out.str();
}

namespace {
const char* kind_name(Attribute::Kind kind) {
  switch (kind) {
    case Attribute::Kind::kFloat: return "float";
    case Attribute::Kind::kInt: return "int";
    case Attribute::Kind::kString: return "string";
    case Attribute::Kind::kTensor: return "tensor";
    case Attribute::Kind::kGraph: return "graph";
    case Attribute::Kind::kFloats: return "floats";
    case Attribute::Kind::kInts: return "ints";
    case Attribute::Kind::kStrings: return "strings";
    case Attribute::Kind::kTensors: return "tensors";
    case Attribute::Kind::kGraphs: return "graphs";
  }
  return "?";
}
}  // namespace

std::string Node::describe() const {
  std::string out = "node '" + name + "' (" + op_type + ")";
  return out;
}

const Attribute& Node::required_attr(const std::string& key) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) fail(describe(), ": missing attribute '", key, "'");
  return it->second;
}

namespace {
const Attribute* find_typed(const Node& node, const std::string& key, Attribute::Kind kind) {
  auto it = node.attrs.find(key);
  if (it == node.attrs.end()) return nullptr;
  if (it->second.kind != kind)
    fail(node.describe(), ": attribute '", key, "' is ", kind_name(it->second.kind),
         ", expected ", kind_name(kind));
  return &it->second;
}
}  // namespace

int64_t Node::attr_int(const std::string& key, int64_t fallback) const {
  const Attribute* a = find_typed(*this, key, Attribute::Kind::kInt);
  return a ? a->i : fallback;
}

float Node::attr_float(const std::string& key, float fallback) const {
  auto it = attrs.find(key);
  // Some exporters write integer-valued float attributes as ints.
  if (it != attrs.end() && it->second.kind == Attribute::Kind::kInt)
    return static_cast<float>(it->second.i);
  const Attribute* a = find_typed(*this, key, Attribute::Kind::kFloat);
  return a ? a->f : fallback;
}

std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  const Attribute* a = find_typed(*this, key, Attribute::Kind::kString);
  return a ? a->s : fallback;
}

std::vector<int64_t> Node::attr_ints(const std::string& key, std::vector<int64_t> fallback) const {
  const Attribute* a = find_typed(*this, key, Attribute::Kind::kInts);
  return a ? a->ints : fallback;
}

std::vector<float> Node::attr_floats(const std::string& key, std::vector<float> fallback) const {
  const Attribute* a = find_typed(*this, key, Attribute::Kind::kFloats);
  return a ? a->floats : fallback;
}

const Tensor* Node::attr_tensor(const std::string& key) const {
  const Attribute* a = find_typed(*this, key, Attribute::Kind::kTensor);
  return a ? &a->t : nullptr;
}

}  // namespace kiln::graph
