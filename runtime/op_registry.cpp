#include "runtime/op_registry.h"

namespace kiln {

const Tensor& KernelContext::required_input(size_t i) const {
  const Tensor* t = input(i);
  if (!t) fail(node_.describe(), ": input ", i, " is required");
  return *t;
}

Tensor& KernelContext::allocate_output(size_t i, DataType type, Shape shape) {
  if (i >= outputs_.size()) fail(node_.describe(), ": output ", i, " does not exist");
  if (placements_ && i < placements_->size()) {
    const OutputPlacement& place = (*placements_)[i];
    size_t bytes = 0;  // overflow-checked: a wrapped size must never match a planned place
    if (place.data && is_supported_dtype(type) &&
        !__builtin_mul_overflow(static_cast<size_t>(element_count(shape)), element_size(type), &bytes) &&
        bytes == place.bytes) {
      outputs_[i] = Tensor::view(type, std::move(shape), place.arena, place.data);
      return outputs_[i];
    }
  }
  outputs_[i] = Tensor(type, std::move(shape));
  return outputs_[i];
}

void KernelContext::set_output(size_t i, Tensor tensor) {
  if (i >= outputs_.size()) fail(node_.describe(), ": output ", i, " does not exist");
  outputs_[i] = std::move(tensor);
}

const OpRegistry& OpRegistry::global() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_elementwise_ops(r);
    register_activation_ops(r);
    register_conv_ops(r);
    register_fused_layer_norm_ops(r);
    register_matmul_ops(r);
    register_norm_ops(r);
    register_pool_ops(r);
    register_reduce_ops(r);
    register_shape_ops(r);
    register_tensor_ops(r);
    register_resize_ops(r);
    return r;
  }();
  return registry;
}

void OpRegistry::add(const std::string& op_type, KernelFactory factory, int since_opset, int until_opset,
                     const std::string& domain) {
  entries_.emplace(std::make_pair(domain == "ai.onnx" ? std::string() : domain, op_type),
                   Entry{factory, since_opset, until_opset});
}

KernelFactory OpRegistry::find(const std::string& domain, const std::string& op_type, int64_t opset) const {
  std::string d = domain == "ai.onnx" ? std::string() : domain;
  auto range = entries_.equal_range({d, op_type});
  for (auto it = range.first; it != range.second; ++it)
    if (opset >= it->second.since && opset <= it->second.until) return it->second.factory;
  return nullptr;
}

bool OpRegistry::knows(const std::string& domain, const std::string& op_type) const {
  std::string d = domain == "ai.onnx" ? std::string() : domain;
  return entries_.count({d, op_type}) != 0;
}

}  // namespace kiln
