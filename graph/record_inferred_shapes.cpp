#include "graph/record_inferred_shapes.h"

#include <unordered_set>

namespace kiln::graph {

namespace {

// Refines `declared` with `inferred` (see the header); true when it changed.
bool refine(ValueInfo& declared, const ValueInfo& inferred) {
  bool changed = false;
  if (declared.dtype == DataType::kUndefined && inferred.dtype != DataType::kUndefined) {
    declared.dtype = inferred.dtype;
    changed = true;
  }
  if (!inferred.has_shape) return changed;
  if (!declared.has_shape) {
    declared.has_shape = true;
    declared.dims = inferred.dims;
    return true;
  }
  if (declared.dims.size() != inferred.dims.size()) return changed;
  for (size_t i = 0; i < declared.dims.size(); ++i) {
    Dim& d = declared.dims[i];
    const Dim& known = inferred.dims[i];
    if (d.is_fixed()) continue;
    if (known.is_fixed()) {
      d = known;
      changed = true;
    } else if (d.symbol.empty() && !known.symbol.empty()) {
      d.symbol = known.symbol;
      changed = true;
    }
  }
  return changed;
}

}  // namespace

size_t record_inferred_shapes(Graph& g, const ValueInfoMap& inferred) {
  size_t changed = 0;
  std::unordered_set<std::string> outputs;
  for (ValueInfo& out : g.outputs) {
    outputs.insert(out.name);
    if (auto it = inferred.find(out.name); it != inferred.end()) changed += refine(out, it->second);
  }
  for (const Node& node : g.nodes)
    for (const std::string& value : node.outputs) {
      auto it = value.empty() || outputs.count(value) ? inferred.end() : inferred.find(value);
      if (it == inferred.end()) continue;
      auto [declared, added] = g.value_info.try_emplace(value);
      if (added) declared->second.name = value;
      changed += refine(declared->second, it->second) || added;
    }
  return changed;
}

}  // namespace kiln::graph
