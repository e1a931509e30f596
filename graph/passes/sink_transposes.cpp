#include "graph/passes/sink_transposes.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "graph/graph_editor.h"
#include "graph/passes/transpose_perm.h"
#include "graph/shape_inference.h"

namespace kiln::graph {

namespace {

// Element-wise ops (OpTrait kElementwise): each output element from the
// input element at the same index (other inputs, if any, must be constants:
// Clip's bounds).
bool is_unary_elementwise(const Node& node, const OpCatalog& ops) {
  return node.outputs.size() == 1 && !node.inputs.empty() && ops.has_trait(node, kElementwise);
}

// Two-input ops with numpy broadcasting (OpTrait kBroadcasting).
bool is_binary_elementwise(const Node& node, const OpCatalog& ops) {
  return node.inputs.size() == 2 && node.outputs.size() == 1 && ops.has_trait(node, kBroadcasting);
}

std::vector<int64_t> inverse(const std::vector<int64_t>& perm) {
  std::vector<int64_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  return inv;
}

// `c` with leading 1s up to `rank`, transposed by `inv` (output dim i is
// input dim inv[i]). An element-by-element copy: the graph layer cannot call
// the Transpose kernel, and the constants moved here are small.
Tensor transposed_constant(const Tensor& c, const std::vector<int64_t>& inv) {
  const size_t rank = inv.size();
  Shape padded(rank - c.rank(), 1);
  padded.insert(padded.end(), c.shape().begin(), c.shape().end());
  std::vector<int64_t> in_strides(rank, 1);
  for (size_t i = rank; i-- > 1;) in_strides[i - 1] = in_strides[i] * padded[i];
  Shape out_shape(rank);
  std::vector<int64_t> strides(rank);
  for (size_t i = 0; i < rank; ++i) {
    out_shape[i] = padded[static_cast<size_t>(inv[i])];
    strides[i] = in_strides[static_cast<size_t>(inv[i])];
  }
  Tensor out(c.dtype(), out_shape);
  const size_t bytes = element_size(c.dtype());
  const auto* src = static_cast<const uint8_t*>(c.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  std::vector<int64_t> index(rank, 0);
  int64_t from = 0;  // source element of output element i
  for (int64_t i = 0; i < out.size(); ++i) {
    std::memcpy(dst + i * bytes, src + from * bytes, bytes);
    for (size_t d = rank; d-- > 0;) {  // step the output index, last dim fastest
      from += strides[d];
      if (++index[d] < out_shape[d]) break;
      from -= strides[d] * out_shape[d];
      index[d] = 0;
    }
  }
  return out;
}

class Sinker {
 public:
  Sinker(Graph& g, const OpCatalog& ops) : g_(g), ops_(ops), editor_(g) {}

  size_t run() {
    size_t moved = 0;
    for (size_t n = 0; n < editor_.node_count(); ++n) {
      if (editor_.is_removed(n)) continue;
      const Node& node = editor_.node(n);
      if (is_unary_elementwise(node, ops_)) moved += sink_into_unary(n);
      else if (is_binary_elementwise(node, ops_)) moved += sink_into_binary(n);
    }
    editor_.commit();
    return moved;
  }

 private:
  // The Transpose producing input `input` of node `op` whose only reader is
  // `op`, with a known perm; nullopt otherwise.
  std::optional<size_t> sinkable_transpose(size_t op, size_t input) {
    const std::string& value = editor_.node(op).inputs[input];
    if (value.empty()) return std::nullopt;
    std::optional<size_t> t = editor_.producer(value);
    if (!t || !is_transpose(editor_.node(*t)) || editor_.sole_reader(value) != op) return std::nullopt;
    if (!perm_of(editor_.node(*t), declared_rank(editor_.node(*t)))) return std::nullopt;
    // A Transpose of a Transpose waits for cancel_transposes to merge the two.
    std::optional<size_t> before = editor_.producer(editor_.node(*t).inputs[0]);
    if (before && is_transpose(editor_.node(*before))) return std::nullopt;
    return t;
  }

  std::vector<int64_t> perm(size_t t) const {
    return *perm_of(editor_.node(t), declared_rank(editor_.node(t)));
  }

  size_t sink_into_unary(size_t n) {
    std::optional<size_t> t = sinkable_transpose(n, 0);
    if (!t) return 0;
    const Node& op = editor_.node(n);
    for (size_t i = 1; i < op.inputs.size(); ++i)
      if (!op.inputs[i].empty() && !editor_.constant(op.inputs[i])) return 0;
    std::vector<std::string> inputs = op.inputs;
    inputs[0] = editor_.node(*t).inputs[0];
    swap_places(*t, n, inputs);
    return 1;
  }

  size_t sink_into_binary(size_t n) {
    const Node& op = editor_.node(n);
    std::optional<size_t> t0 = sinkable_transpose(n, 0), t1 = sinkable_transpose(n, 1);
    if (t0 && t1) {
      if (perm(*t0) != perm(*t1)) return 0;
      std::vector<std::string> inputs = {editor_.node(*t0).inputs[0], editor_.node(*t1).inputs[0]};
      const size_t later = std::max(*t0, *t1), earlier = std::min(*t0, *t1);
      editor_.remove_node(earlier);
      swap_places(later, n, inputs);
      return 1;
    }
    const size_t side = t0 ? 0 : 1;
    std::optional<size_t> t = t0 ? t0 : t1;
    if (!t) return 0;
    const Tensor* c = editor_.constant(op.inputs[1 - side]);
    const std::vector<int64_t> p = perm(*t);
    if (!c || c->rank() > p.size() || !is_supported_dtype(c->dtype())) return 0;
    if (c->size() != 1 && !broadcasts_into(*c, editor_.node(*t).outputs[0])) return 0;
    std::vector<std::string> inputs = op.inputs;
    inputs[side] = editor_.node(*t).inputs[0];
    inputs[1 - side] = editor_.add_initializer(op.inputs[1 - side] + "_transposed", transposed_constant(*c, inverse(p)));
    swap_places(*t, n, inputs);
    return 1;
  }

  // True when every dim of `c` (right-aligned) is 1 or the fixed dim of `y`.
  bool broadcasts_into(const Tensor& c, const std::string& y) {
    // Inconsistent shapes give no infos: then only scalar constants move.
    if (!shapes_) shapes_ = try_infer_shapes(g_, ops_).value_or(ValueInfoMap{});
    auto it = shapes_->find(y);
    if (it == shapes_->end() || !it->second.has_shape || it->second.dims.size() < c.rank()) return false;
    const size_t offset = it->second.dims.size() - c.rank();
    for (size_t d = 0; d < c.rank(); ++d) {
      const Dim& dim = it->second.dims[offset + d];
      if (c.dim(d) != 1 && !(dim.is_fixed() && dim.value == c.dim(d))) return false;
    }
    return true;
  }

  // What a node is, apart from its inputs and outputs (those the editor tracks).
  static void take_identity(Node& node, const Node& from) {
    node.op_type = from.op_type;
    node.domain = from.domain;
    node.opset = from.opset;
    node.attrs = from.attrs;
    node.name = from.name;
  }

  // Transpose `t` (before `n`) and op `n` trade places: node t becomes the op
  // reading `inputs` into a fresh value, node n the Transpose from that value
  // to the op's old output. Names go with their ops.
  void swap_places(size_t t, size_t n, const std::vector<std::string>& inputs) {
    const Node transpose = editor_.node(t);
    const Node op = editor_.node(n);
    const std::string moved = editor_.unique_name(op.outputs[0] + "_before_transpose");
    // Node t: the op. (Its old output loses its producer; nothing else reads it.)
    editor_.set_output(t, 0, moved);
    for (size_t i = 0; i < inputs.size(); ++i) editor_.set_input(t, i, inputs[i]);
    take_identity(editor_.node(t), op);
    // Node n: the Transpose.
    editor_.set_input(n, 0, moved);
    editor_.truncate_inputs(n, 1);
    take_identity(editor_.node(n), transpose);
    // shapes_ stays valid for what broadcasts_into asks: a Transpose output
    // here is always a value that existed before this pass, with its shape.
  }

  Graph& g_;
  const OpCatalog& ops_;
  GraphEditor editor_;
  std::optional<ValueInfoMap> shapes_;
};

}  // namespace

size_t sink_transposes(Graph& g, const OpCatalog& ops) { return Sinker(g, ops).run(); }

}  // namespace kiln::graph
