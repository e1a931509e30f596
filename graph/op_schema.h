// What the graph layer knows about an operator: its shape rule, arity, traits
// and (for kiln's own ops) its expansion into standard ONNX.
//
// Each operator is registered once, in runtime/ops/<group>.cpp, as a record
// that adds its kernel factory to this schema (runtime/op_registry.h). The
// graph layer cannot link the runtime, so whoever runs shape inference or the
// passes hands them the registry as an OpCatalog; none of them keeps a list of
// op types of its own. docs/adding_an_operator.md names the files to touch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace kiln::graph {

class ExpansionBuilder;  // graph/expansion_builder.h

// What a shape rule sees: the node, its inputs' infos (nullptr = unknown) and
// the inputs that are constants (nullptr = not constant or omitted).
struct ShapeContext {
  const Node& node;
  const std::vector<const ValueInfo*>& in;
  const std::vector<const Tensor*>& constants;

  // The input's info when its rank is known, else nullptr.
  const ValueInfo* shaped(size_t i) const { return i < in.size() && in[i] && in[i]->has_shape ? in[i] : nullptr; }
  DataType dtype(size_t i) const { return i < in.size() && in[i] ? in[i]->dtype : DataType::kUndefined; }
  const Tensor* constant(size_t i) const {
    return i < constants.size() && i < node.inputs.size() && !node.inputs[i].empty() ? constants[i] : nullptr;
  }
  bool has_input(size_t i) const { return i < node.inputs.size() && !node.inputs[i].empty(); }
  // An int list from attribute `attr` (older opsets) or constant input `index`
  // (newer ones). Sets `known` false when the input exists but is not constant.
  std::vector<int64_t> ints_from(const std::string& attr, size_t index, bool& known) const;
};

// Output infos of one node, in output order. An output the rule cannot know
// has dtype kUndefined (or has_shape false when only its rank is unknown); the
// executor then learns it at run time. Throws kiln::Error naming the node when
// the inputs are provably incompatible. graph/shape_rules.h has the shared ones.
using ShapeRule = std::vector<ValueInfo> (*)(const ShapeContext&);

// Facts the passes rely on. A trait is a promise about every opset of the
// record that carries it (ops whose meaning changed get one record per range).
enum OpTrait : uint32_t {
  // Output element i is computed from element i of input 0 alone (other
  // inputs, if any, are scalar parameters such as Clip's bounds), and the
  // output has input 0's shape: sink_transposes moves a Transpose across it,
  // because permuting the input permutes the output the same way.
  kElementwise = 1u << 0,
  // Every input is data, combined element by element after numpy
  // broadcasting; the output has the broadcast shape (Add, Equal, Where, PRelu
  // from 7). sink_transposes moves a Transpose across it, transposing a
  // constant other input to match.
  kBroadcasting = 1u << 2,
  // Its output is random: never folded into a constant, never merged with an
  // equal-looking node (fold_constants, eliminate_common_subexpressions).
  kNondeterministic = 1u << 1,
};

// A set of traits. Built only from OpTrait values (kElementwise |
// kNondeterministic), so a stray integer cannot pass for one.
struct OpTraits {
  uint32_t bits = 0;
  constexpr OpTraits() = default;
  constexpr OpTraits(OpTrait trait) : bits(trait) {}  // NOLINT: implicit on purpose
};
constexpr OpTraits operator|(OpTraits a, OpTraits b) {
  OpTraits t;
  t.bits = a.bits | b.bits;
  return t;
}
constexpr OpTraits operator|(OpTrait a, OpTrait b) { return OpTraits(a) | OpTraits(b); }
inline constexpr OpTraits kNoTraits{};

// Input and output counts. Standard ops take theirs from ONNX's schemas
// (libonnx, the checker's definitions); kiln-domain ops state them here.
struct Arity {
  int min_inputs = 0, max_inputs = 0, min_outputs = 0, max_outputs = 0;
  // Inputs (and outputs) before this index that may not be omitted.
  int required_inputs = 0, required_outputs = 0;
};

// Writes one kiln-domain node as standard ONNX nodes through `builder`.
using Expansion = void (*)(const Node& node, ExpansionBuilder& builder);

struct OpSchema {
  std::string domain;  // "" = ai.onnx; kiln's own ops use kKilnDomain
  std::string op_type;
  int since = 1;       // valid for opsets [since, until] of the domain
  int until = 1000;
  ShapeRule shape = nullptr;
  uint32_t traits = 0;
  std::optional<Arity> arity;  // required for kiln-domain ops, from ONNX otherwise
  Expansion expand = nullptr;  // required for kiln-domain ops

  bool has(OpTrait trait) const { return (traits & trait) != 0; }
};

// The operators a graph may contain. The runtime's OpRegistry is one; graph
// code only ever sees this interface.
class OpCatalog {
 public:
  virtual ~OpCatalog() = default;
  // The schema of (domain, op_type) at `opset` (domain "ai.onnx" = ""), or
  // nullptr when kiln does not know that op at that opset.
  virtual const OpSchema* find(const std::string& domain, const std::string& op_type, int64_t opset) const = 0;

  const OpSchema* find(const Node& node) const { return find(node.domain, node.op_type, node.opset); }
  bool has_trait(const Node& node, OpTrait trait) const {
    const OpSchema* schema = find(node);
    return schema && schema->has(trait);
  }
};

// A catalog with no operators: shape inference then learns only what the
// graph's inputs and initializers state. For graph-only code and tests.
const OpCatalog& empty_op_catalog();

}  // namespace kiln::graph
