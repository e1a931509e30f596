// The operator records: one per (domain, op type, opset range), each with
// everything kiln knows about the op (graph/op_schema.h: shape rule, arity,
// traits, expansion) plus the factory that builds its kernel. Shape inference,
// validation, the passes and the executor all read this one table; the graph
// layer sees it as a graph::OpCatalog. docs/adding_an_operator.md.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "graph/op_schema.h"
#include "graph/shape_rules.h"
#include "runtime/op_kernel.h"

namespace kiln {

namespace shape_rules = graph::shape_rules;

struct OpRecord {
  graph::OpSchema schema;
  KernelFactory kernel = nullptr;
};

class OpRegistry final : public graph::OpCatalog {
 public:
  // The registry with every op kiln implements.
  static const OpRegistry& global();

  // Registers a standard ONNX op (default domain) valid for opsets
  // [since, until], with its kernel factory, shape rule and traits
  // (graph::kNoTraits when none applies).
  void add(const std::string& op_type, KernelFactory kernel, graph::ShapeRule shape, graph::OpTraits traits,
           int since = 1, int until = 1000);
  // Registers one of kiln's own com.kiln ops (docs/fused_ops.md), valid at
  // kiln's opset: it states its arity and its expansion into standard ONNX.
  void add_kiln_op(const std::string& op_type, KernelFactory kernel, graph::ShapeRule shape, graph::Arity arity,
                   graph::Expansion expand);
  // Registers a full record.
  void add(OpRecord record);

  using graph::OpCatalog::find;
  const graph::OpSchema* find(const std::string& domain, const std::string& op_type,
                              int64_t opset) const override;
  // The record of (domain, op_type) at `opset`, or nullptr.
  const OpRecord* record(const std::string& domain, const std::string& op_type, int64_t opset) const;
  // The kernel factory, or nullptr when (op_type, opset) is not supported.
  KernelFactory kernel(const std::string& domain, const std::string& op_type, int64_t opset) const;
  // Whether any opset of (domain, op_type) is registered.
  bool knows(const std::string& domain, const std::string& op_type) const;
  // Every record, in (domain, op_type, since) order.
  std::vector<const OpRecord*> records() const;

 private:
  std::multimap<std::pair<std::string, std::string>, OpRecord> entries_;
};

// Helper: a factory for a kernel class constructed from KernelInit.
template <class Kernel>
std::unique_ptr<OpKernel> make_kernel(const KernelInit& init) {
  return std::make_unique<Kernel>(init);
}

// Each group lives in runtime/ops/<group>.cpp and registers its ops.
void register_elementwise_ops(OpRegistry& registry);   // Add Sub Mul Div Pow Max Min Equal Where ...
void register_activation_ops(OpRegistry& registry);    // Relu Sigmoid Tanh Clip HardSwish ...
void register_conv_ops(OpRegistry& registry);          // Conv ConvTranspose
void register_fused_conv_ops(OpRegistry& registry);    // com.kiln FusedConv
void register_fused_layer_norm_ops(OpRegistry& registry);  // com.kiln FusedLayerNorm
void register_fused_elementwise_ops(OpRegistry& registry);  // com.kiln FusedElementwise
void register_matmul_ops(OpRegistry& registry);        // Gemm MatMul
void register_norm_ops(OpRegistry& registry);          // BatchNormalization InstanceNormalization
void register_pool_ops(OpRegistry& registry);          // MaxPool AveragePool Global*Pool
void register_reduce_ops(OpRegistry& registry);        // ReduceMean ReduceSum Softmax
void register_shape_ops(OpRegistry& registry);         // Reshape Flatten Squeeze Unsqueeze Shape Expand ...
void register_tensor_ops(OpRegistry& registry);        // Concat Split Slice Gather Transpose Pad Cast ...
void register_resize_ops(OpRegistry& registry);        // Resize Upsample DepthToSpace

}  // namespace kiln
