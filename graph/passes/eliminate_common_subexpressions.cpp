#include "graph/passes/eliminate_common_subexpressions.h"

#include <cstring>
#include <unordered_map>

#include "graph/graph_editor.h"

namespace kiln::graph {

namespace {

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Only ops kiln knows to be deterministic: two random draws are not one, and
// an op without a record may be random.
bool can_merge(const Node& node, const OpCatalog& ops) {
  const OpSchema* schema = ops.find(node);
  if (!schema || schema->has(kNondeterministic)) return false;
  for (const auto& [key, attr] : node.attrs)
    if (attr.kind == Attribute::Kind::kGraph || attr.kind == Attribute::Kind::kGraphs) return false;
  return true;
}

// Everything but the attributes, as one hashable string.
std::string signature(const Node& node) {
  std::string key = node.domain + '\x1f' + node.op_type + '\x1f' + std::to_string(node.opset);
  for (const std::string& in : node.inputs) key += '\x1e' + in;
  key += '\x1d';
  for (const std::string& out : node.outputs) key += out.empty() ? '0' : '1';
  return key;
}

bool same_attributes(const Node& a, const Node& b) {
  if (a.attrs.size() != b.attrs.size()) return false;
  for (auto ia = a.attrs.begin(), ib = b.attrs.begin(); ia != a.attrs.end(); ++ia, ++ib)
    if (ia->first != ib->first || !same_attribute(ia->second, ib->second)) return false;
  return true;
}

}  // namespace

bool same_attribute(const Attribute& a, const Attribute& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Attribute::Kind::kFloat: return std::memcmp(&a.f, &b.f, sizeof(float)) == 0;
    case Attribute::Kind::kInt: return a.i == b.i;
    case Attribute::Kind::kString: return a.s == b.s;
    case Attribute::Kind::kTensor: return same_tensor(a.t, b.t);
    case Attribute::Kind::kFloats: return same_floats(a.floats, b.floats);
    case Attribute::Kind::kInts: return a.ints == b.ints;
    case Attribute::Kind::kStrings: return a.strings == b.strings;
    case Attribute::Kind::kTensors:
      if (a.tensors.size() != b.tensors.size()) return false;
      for (size_t i = 0; i < a.tensors.size(); ++i)
        if (!same_tensor(a.tensors[i], b.tensors[i])) return false;
      return true;
    case Attribute::Kind::kGraph:
    case Attribute::Kind::kGraphs:
      return false;
  }
  return false;
}

size_t eliminate_common_subexpressions(Graph& g, const OpCatalog& ops) {
  GraphEditor editor(g);
  std::unordered_map<std::string, std::vector<size_t>> seen;  // signature -> earlier nodes
  size_t merged = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    const Node& node = editor.node(n);
    if (!can_merge(node, ops)) continue;
    // Inputs are read now: earlier merges in this sweep may have renamed them.
    std::vector<size_t>& candidates = seen[signature(node)];
    bool keeps_name = false;
    for (const std::string& out : node.outputs) keeps_name = keeps_name || (!out.empty() && editor.is_graph_output(out));
    size_t original = n;
    for (size_t c : candidates)
      if (same_attributes(editor.node(c), node)) original = c;
    if (original == n || keeps_name) {
      if (original == n) candidates.push_back(n);
      continue;
    }
    const std::vector<std::string> outputs = node.outputs;
    editor.remove_node(n);
    for (size_t i = 0; i < outputs.size(); ++i)
      if (!outputs[i].empty()) editor.replace_uses(outputs[i], editor.node(original).outputs[i]);
    ++merged;
  }
  editor.commit();
  return merged;
}

}  // namespace kiln::graph
