// The table from (domain, op_type) to kernel factory.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "runtime/op_kernel.h"

namespace kiln {

class OpRegistry {
 public:
  // The registry with every op kiln implements.
  static const OpRegistry& global();

  // Registers an op valid for opsets [since, until] of `domain` ("" = the
  // default ONNX domain; kiln's own fused ops live in "com.kiln").
  void add(const std::string& op_type, KernelFactory factory, int since_opset = 1, int until_opset = 1000,
           const std::string& domain = "");
  // nullptr when (op_type, opset) is not supported.
  KernelFactory find(const std::string& domain, const std::string& op_type, int64_t opset) const;
  bool knows(const std::string& domain, const std::string& op_type) const;

 private:
  struct Entry {
    KernelFactory factory;
    int since;
    int until;
  };
  std::multimap<std::pair<std::string, std::string>, Entry> entries_;
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
void register_fused_layer_norm_ops(OpRegistry& registry);  // com.kiln FusedLayerNorm
void register_matmul_ops(OpRegistry& registry);        // Gemm MatMul
void register_norm_ops(OpRegistry& registry);          // BatchNormalization InstanceNormalization
void register_pool_ops(OpRegistry& registry);          // MaxPool AveragePool Global*Pool
void register_reduce_ops(OpRegistry& registry);        // ReduceMean ReduceSum Softmax
void register_shape_ops(OpRegistry& registry);         // Reshape Flatten Squeeze Unsqueeze Shape Expand ...
void register_tensor_ops(OpRegistry& registry);        // Concat Split Slice Gather Transpose Pad Cast ...
void register_resize_ops(OpRegistry& registry);        // Resize Upsample DepthToSpace

}  // namespace kiln
