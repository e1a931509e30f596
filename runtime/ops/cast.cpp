// Type conversion operators (rules in kernels/convert_elements.h).
//
// Cast CastLike
#include "kernels/convert_elements.h"
#include "runtime/op_registry.h"
#include "runtime/ops/shape_util.h"
#include "runtime/ops/tensor_groups.h"

namespace kiln {

namespace {

DataType checked_target_type(int64_t onnx_type, const graph::Node& node) {
  const auto type = static_cast<DataType>(onnx_type);
  if (type == DataType::kString) fail_unsupported(node.describe(), ": casting to string is not supported");
  if (!is_supported_dtype(type))
    fail_unsupported(node.describe(), ": cannot cast to ONNX data type ", onnx_type, " (unsupported)");
  return type;
}

// Converts input 0 to `to`; the same type is a zero-copy pass-through.
void cast_to(KernelContext& ctx, DataType to) {
  const Tensor& input = ctx.required_input(0);
  if (input.dtype() == to) {
    ctx.set_output(0, input);
    return;
  }
  Tensor& out = ctx.allocate_output(0, to, input.shape());
  kernels::convert_elements(input.raw(), input.dtype(), out.raw(), to, input.size(), ctx.threads());
}

// Cast-6+: the target type is the `to` attribute (an ONNX TensorProto type).
class CastKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit CastKernel(const KernelInit& init)
      : to_(checked_target_type(ops::required_int_attr(init.node(), "to"), init.node())) {}
  void run(KernelContext& ctx) override { cast_to(ctx, to_); }

 private:
  DataType to_;
};

// CastLike-15: the target type is that of input 1.
class CastLikeKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit CastLikeKernel(const KernelInit& init) {
    if (init.num_inputs() < 2) fail(init.node().describe(), ": CastLike needs the target_type input");
  }
  void run(KernelContext& ctx) override { cast_to(ctx, ctx.required_input(1).dtype()); }
};

}  // namespace

void register_cast_ops(OpRegistry& registry) {
  registry.add("Cast", make_kernel<CastKernel>, shape_rules::cast, graph::kElementwise, 6);
  registry.add("CastLike", make_kernel<CastLikeKernel>, shape_rules::cast_like, graph::kElementwise, 15);
}

}  // namespace kiln
