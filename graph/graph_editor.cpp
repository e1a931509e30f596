#include "graph/graph_editor.h"

#include <algorithm>

namespace kiln::graph {

GraphEditor::GraphEditor(Graph& g) : graph_(g), removed_(g.nodes.size(), false) {
  for (const auto& v : g.inputs) {
    graph_inputs_.insert(v.name);
    names_.insert(v.name);
  }
  for (const auto& v : g.outputs) {
    graph_outputs_.insert(v.name);
    names_.insert(v.name);
  }
  for (const auto& [name, t] : g.initializers) names_.insert(name);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    for (size_t i = 0; i < node.inputs.size(); ++i)
      if (!node.inputs[i].empty()) add_use(node.inputs[i], Use{n, i});
    for (const std::string& out : node.outputs) {
      if (out.empty()) continue;
      producer_.emplace(out, n);
      names_.insert(out);
    }
  }
}

const std::vector<GraphEditor::Use>& GraphEditor::uses(const std::string& value) const {
  static const std::vector<Use> kNone;
  auto it = uses_.find(value);
  return it == uses_.end() ? kNone : it->second;
}

std::optional<size_t> GraphEditor::producer(const std::string& value) const {
  auto it = producer_.find(value);
  if (it == producer_.end()) return std::nullopt;
  return it->second;
}

std::optional<size_t> GraphEditor::sole_reader(const std::string& value) const {
  const std::vector<Use>& reads = uses(value);
  if (reads.size() != 1 || is_graph_output(value)) return std::nullopt;
  return reads[0].node;
}

const Tensor* GraphEditor::constant(const std::string& value) const {
  if (value.empty()) return nullptr;
  auto it = graph_.initializers.find(value);
  return it == graph_.initializers.end() ? nullptr : &it->second;
}

void GraphEditor::add_use(const std::string& value, Use use) {
  std::vector<Use>& list = uses_[value];
  // Keep the list in node order so passes see readers as the graph orders them.
  auto pos = std::upper_bound(list.begin(), list.end(), use, [](const Use& a, const Use& b) {
    return a.node != b.node ? a.node < b.node : a.input < b.input;
  });
  list.insert(pos, use);
  names_.insert(value);
}

void GraphEditor::drop_use(const std::string& value, Use use) {
  auto it = uses_.find(value);
  if (it == uses_.end()) return;
  auto& list = it->second;
  list.erase(std::remove_if(list.begin(), list.end(),
                            [&](const Use& u) { return u.node == use.node && u.input == use.input; }),
             list.end());
  if (list.empty()) uses_.erase(it);
}

void GraphEditor::set_input(size_t node, size_t input, const std::string& value) {
  Node& n = graph_.nodes[node];
  if (input >= n.inputs.size()) n.inputs.resize(input + 1);
  if (!n.inputs[input].empty()) drop_use(n.inputs[input], Use{node, input});
  n.inputs[input] = value;
  if (!value.empty()) add_use(value, Use{node, input});
}

void GraphEditor::truncate_inputs(size_t node, size_t count) {
  Node& n = graph_.nodes[node];
  for (size_t i = count; i < n.inputs.size(); ++i)
    if (!n.inputs[i].empty()) drop_use(n.inputs[i], Use{node, i});
  if (count < n.inputs.size()) n.inputs.resize(count);
}

void GraphEditor::set_output(size_t node, size_t output, const std::string& value) {
  auto existing = producer_.find(value);
  if (existing != producer_.end() && existing->second != node)
    fail("graph rewrite: ", graph_.nodes[node].describe(), " cannot take over output '", value, "' of ",
         graph_.nodes[existing->second].describe());
  Node& n = graph_.nodes[node];
  const std::string& old = n.outputs[output];
  auto it = producer_.find(old);
  if (!old.empty() && it != producer_.end() && it->second == node) producer_.erase(it);
  n.outputs[output] = value;
  if (!value.empty()) {
    producer_[value] = node;
    names_.insert(value);
  }
}

void GraphEditor::replace_uses(const std::string& from, const std::string& to) {
  if (from == to) return;
  auto it = uses_.find(from);
  if (it == uses_.end()) return;
  std::vector<Use> moved = std::move(it->second);
  uses_.erase(it);
  for (const Use& u : moved) {
    graph_.nodes[u.node].inputs[u.input] = to;
    add_use(to, u);
  }
}

void GraphEditor::remove_node(size_t node) {
  if (removed_[node]) return;
  removed_[node] = true;
  const Node& n = graph_.nodes[node];
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (!n.inputs[i].empty()) drop_use(n.inputs[i], Use{node, i});
  for (const std::string& out : n.outputs) {
    auto it = producer_.find(out);
    if (!out.empty() && it != producer_.end() && it->second == node) producer_.erase(it);
  }
}

std::string GraphEditor::unique_name(const std::string& base) {
  std::string name = base;
  for (int k = 1; names_.count(name) || graph_.initializers.count(name); ++k) name = base + "_" + std::to_string(k);
  names_.insert(name);
  return name;
}

std::string GraphEditor::add_initializer(const std::string& base_name, Tensor tensor) {
  std::string name = unique_name(base_name);
  graph_.initializers[name] = std::move(tensor);
  return name;
}

void GraphEditor::add_initializer_named(const std::string& name, Tensor tensor) {
  if (producer_.count(name))
    fail("graph rewrite: initializer '", name, "' would shadow the output of ", graph_.nodes[producer_[name]].describe());
  names_.insert(name);
  graph_.initializers[name] = std::move(tensor);
}

void GraphEditor::commit() {
  std::vector<Node> kept;
  kept.reserve(graph_.nodes.size());
  for (size_t n = 0; n < graph_.nodes.size(); ++n)
    if (!removed_[n]) kept.push_back(std::move(graph_.nodes[n]));
  graph_.nodes = std::move(kept);
  removed_.assign(graph_.nodes.size(), false);
  producer_.clear();
  uses_.clear();
}

}  // namespace kiln::graph
