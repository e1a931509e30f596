// GraphEditor: the index a graph pass reads (who produces and who reads each
// value) and the edits it makes, kept consistent with each other.
//
// A pass edits nodes in place (retargeting a Conv's output, swapping in a new
// weight) and removes the nodes a rewrite made redundant. Node indices stay
// valid until commit(), which drops the removed nodes and keeps the order of
// the rest. In-place edits keep the graph topologically sorted as long as a
// node only takes over outputs of nodes after it and only reads values that
// exist before it, which is how every rewrite here is shaped.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "graph/ir.h"

namespace kiln::graph {

class GraphEditor {
 public:
  // One read of a value: input `input` of node `node`.
  struct Use {
    size_t node;
    size_t input;
  };

  explicit GraphEditor(Graph& g);

  Graph& graph() { return graph_; }
  // Every node index ever valid in this edit, including removed ones.
  size_t node_count() const { return graph_.nodes.size(); }
  Node& node(size_t i) { return graph_.nodes[i]; }
  const Node& node(size_t i) const { return graph_.nodes[i]; }
  bool is_removed(size_t i) const { return removed_[i]; }

  // Reads of `value` by live nodes, in node order (a node reading it twice appears twice).
  const std::vector<Use>& uses(const std::string& value) const;
  // The live node producing `value`, if any (graph inputs and initializers have none).
  std::optional<size_t> producer(const std::string& value) const;
  // The node that reads `value` once and is its only reader, when `value` is
  // not also a graph output: the condition for folding a value into a fusion.
  std::optional<size_t> sole_reader(const std::string& value) const;
  bool is_graph_output(const std::string& value) const { return graph_outputs_.count(value) != 0; }
  bool is_graph_input(const std::string& value) const { return graph_inputs_.count(value) != 0; }
  // The initializer named `value`, or nullptr.
  const Tensor* constant(const std::string& value) const;

  // Points input `input` of `node` at `value` (growing the input list when
  // needed: an omitted optional input becomes present).
  void set_input(size_t node, size_t input, const std::string& value);
  // Drops the inputs of `node` from index `count` on.
  void truncate_inputs(size_t node, size_t count);
  // Renames output `output` of `node`; `value` must not be produced by another live node.
  void set_output(size_t node, size_t output, const std::string& value);
  // Makes every live reader of `from` read `to` instead (graph outputs keep their names).
  void replace_uses(const std::string& from, const std::string& to);
  // Removes the node: its reads are forgotten and its outputs have no producer.
  void remove_node(size_t node);
  // Adds an initializer under a fresh name derived from `base_name`; returns the name.
  std::string add_initializer(const std::string& base_name, Tensor tensor);
  // Adds an initializer named exactly `name`, which must not be produced by a live node.
  void add_initializer_named(const std::string& name, Tensor tensor);
  // A value name not used anywhere in the graph: `base`, or `base_1`, `base_2`, ...
  std::string unique_name(const std::string& base);

  // Drops the removed nodes from the graph. The editor must not be used afterwards.
  void commit();

 private:
  void add_use(const std::string& value, Use use);
  void drop_use(const std::string& value, Use use);

  Graph& graph_;
  std::vector<bool> removed_;
  std::unordered_map<std::string, size_t> producer_;
  std::unordered_map<std::string, std::vector<Use>> uses_;
  std::unordered_set<std::string> graph_outputs_;
  std::unordered_set<std::string> graph_inputs_;
  std::unordered_set<std::string> names_;  // every value name seen, for unique_name
};

}  // namespace kiln::graph
