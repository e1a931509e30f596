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

DataType target(const graph::Node& node) {
  const graph::Attribute& to = node.required_attr("to");
  if (to.kind != graph::Attribute::Kind::kString) return checked_target_type(node.attr_int("to", 0), node);
  const DataType type = shape_rules::cast_target(node);
  if (type == DataType::kUndefined) fail(node.describe(), ": 'to' = '", to.s, "' is no ONNX data type name");
  return checked_target_type(static_cast<int64_t>(type), node);
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

// Cast: the target type is the `to` attribute, an ONNX TensorProto type
// (opset 6 on) or its name (opsets 1-5, e.g. "FLOAT").
class CastKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit CastKernel(const KernelInit& init) : to_(target(init.node())) {}
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
  registry.add("Cast", make_kernel<CastKernel>, shape_rules::cast, graph::kElementwise, 1);
  registry.add("CastLike", make_kernel<CastLikeKernel>, shape_rules::cast_like, graph::kElementwise, 15);
}

}  // namespace kiln
