#include "runtime/op_registry.h"

#include "graph/pass.h"

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
    register_fused_conv_ops(r);
    register_fused_layer_norm_ops(r);
    register_fused_elementwise_ops(r);
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

namespace {

std::string canonical_domain(const std::string& domain) { return domain == "ai.onnx" ? std::string() : domain; }

}  // namespace

void OpRegistry::add(const std::string& op_type, KernelFactory kernel, graph::ShapeRule shape,
                     graph::OpTraits traits, int since, int until) {
  OpRecord record;
  record.schema.op_type = op_type;
  record.schema.since = since;
  record.schema.until = until;
  record.schema.shape = shape;
  record.schema.traits = traits.bits;
  record.kernel = kernel;
  add(std::move(record));
}

void OpRegistry::add_kiln_op(const std::string& op_type, KernelFactory kernel, graph::ShapeRule shape,
                             graph::Arity arity, graph::Expansion expand) {
  OpRecord record;
  record.schema.domain = graph::kKilnDomain;
  record.schema.op_type = op_type;
  record.schema.since = record.schema.until = static_cast<int>(graph::kKilnOpset);
  record.schema.shape = shape;
  record.schema.arity = arity;
  record.schema.expand = expand;
  record.kernel = kernel;
  add(std::move(record));
}

void OpRegistry::add(OpRecord record) {
  record.schema.domain = canonical_domain(record.schema.domain);
  auto key = std::make_pair(record.schema.domain, record.schema.op_type);
  entries_.emplace(std::move(key), std::move(record));
}

const OpRecord* OpRegistry::record(const std::string& domain, const std::string& op_type, int64_t opset) const {
  auto range = entries_.equal_range({canonical_domain(domain), op_type});
  for (auto it = range.first; it != range.second; ++it)
    if (opset >= it->second.schema.since && opset <= it->second.schema.until) return &it->second;
  return nullptr;
}

const graph::OpSchema* OpRegistry::find(const std::string& domain, const std::string& op_type, int64_t opset) const {
  const OpRecord* r = record(domain, op_type, opset);
  return r ? &r->schema : nullptr;
}

KernelFactory OpRegistry::kernel(const std::string& domain, const std::string& op_type, int64_t opset) const {
  const OpRecord* r = record(domain, op_type, opset);
  return r ? r->kernel : nullptr;
}

bool OpRegistry::knows(const std::string& domain, const std::string& op_type) const {
  return entries_.count({canonical_domain(domain), op_type}) != 0;
}

std::vector<const OpRecord*> OpRegistry::records() const {
  std::vector<const OpRecord*> out;
  for (const auto& [key, r] : entries_) out.push_back(&r);
  return out;
}

}  // namespace kiln
