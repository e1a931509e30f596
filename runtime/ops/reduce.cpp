// ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp and
// ArgMax/ArgMin. Softmax and LogSoftmax live in softmax.cpp.
//
// The loops are kernels/reduce.h; this file reads the attributes and threads
// over ranges of outputs.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/reduce.h"
#include "platform/checked_math.h"
#include "platform/thread_pool.h"
#include "runtime/op_registry.h"
#include "runtime/ops/parallel_work.h"
#include "runtime/ops/softmax.h"

namespace kiln {

namespace {

using kernels::ReduceKind;
using kernels::ReductionPlan;

int64_t normalize_axis(const graph::Node& node, int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  const int64_t normalized = axis < 0 ? axis + r : axis;
  if (normalized < 0 || normalized >= std::max<int64_t>(r, 1))
    fail(node.describe(), ": axis ", axis, " is out of range for rank ", rank);
  return normalized;
}

template <class T>
void reduce_all(ReduceKind kind, const Tensor& x, const ReductionPlan& plan, Tensor& y, int threads) {
  const T* x_data = x.data<T>();
  T* y_data = y.data<T>();
  threads = threads_for_work(threads, plan.outputs * plan.reduced_count);
  const bool parallel = threads > 1 && plan.outputs > 1;
  parallel_ranges(plan.outputs, (parallel) ? threads : 1, 1, [&](int64_t o_begin, int64_t o_end) {
    kernels::reduce_outputs<T>(kind, plan, x_data, o_begin, o_end, y_data);
  });
}

class ReduceKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  ReduceKernel(const KernelInit& init, ReduceKind kind) : kind_(kind) {
    const graph::Node& node = init.node();
    keepdims_ = node.attr_int("keepdims", 1) != 0;
    noop_with_empty_axes_ = node.attr_int("noop_with_empty_axes", 0) != 0;
    axes_from_input_ = node.op_type == "ReduceSum" && node.opset >= 13;
    if (axes_from_input_ && node.has_attr("axes"))
      fail(node.describe(), ": from opset 13 ReduceSum takes axes as input 1, not as an attribute");
    axes_ = node.attr_ints("axes");
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    std::vector<int64_t> axes = axes_;
    if (axes_from_input_ && ctx.input(1)) {
      const Tensor& axes_tensor = *ctx.input(1);
      if (axes_tensor.dtype() != DataType::kInt64 || axes_tensor.rank() > 1)
        fail(node.describe(), ": axes must be a 1-D int64 tensor, got ", dtype_name(axes_tensor.dtype()), " ",
             shape_to_string(axes_tensor.shape()));
      axes = axes_tensor.to_int64_vector();
    }
    if (axes.empty() && noop_with_empty_axes_) {
      ctx.set_output(0, x);
      return;
    }
    std::vector<bool> reduced(x.rank(), axes.empty());
    for (int64_t axis : axes) {
      const int64_t a = normalize_axis(node, axis, x.rank());
      if (x.rank() == 0) continue;
      if (reduced[static_cast<size_t>(a)])
        fail(node.describe(), ": axis ", axis, " is listed twice");
      reduced[static_cast<size_t>(a)] = true;
    }
    const ReductionPlan plan = kernels::plan_reduction(x.shape(), reduced, keepdims_);
    Tensor& y = ctx.allocate_output(0, x.dtype(), plan.output_shape);
    const int threads = ctx.threads();
    switch (x.dtype()) {
      case DataType::kFloat32: return reduce_all<float>(kind_, x, plan, y, threads);
      case DataType::kFloat64: return reduce_all<double>(kind_, x, plan, y, threads);
      case DataType::kInt32: return reduce_all<int32_t>(kind_, x, plan, y, threads);
      case DataType::kInt64: return reduce_all<int64_t>(kind_, x, plan, y, threads);
      case DataType::kUInt32: return reduce_all<uint32_t>(kind_, x, plan, y, threads);
      case DataType::kUInt64: return reduce_all<uint64_t>(kind_, x, plan, y, threads);
      case DataType::kInt8: return reduce_all<int8_t>(kind_, x, plan, y, threads);
      case DataType::kUInt8: return reduce_all<uint8_t>(kind_, x, plan, y, threads);
      default: fail_unsupported(node.describe(), ": input type ", dtype_name(x.dtype()), " is not supported");
    }
  }

 private:
  ReduceKind kind_;
  bool keepdims_ = true;
  bool noop_with_empty_axes_ = false;
  bool axes_from_input_ = false;
  std::vector<int64_t> axes_;
};

template <ReduceKind kKind>
std::unique_ptr<OpKernel> make_reduce(const KernelInit& init) {
  return std::make_unique<ReduceKernel>(init, kKind);
}

// ---------------------------------------------------------------- ArgMax / ArgMin

template <bool kMax>
class ArgExtremeKernel : public OpKernel {
 public:
  explicit ArgExtremeKernel(const KernelInit& init) {
    const graph::Node& node = init.node();
    axis_ = node.attr_int("axis", 0);
    keepdims_ = node.attr_int("keepdims", 1) != 0;
    select_last_ = node.attr_int("select_last_index", 0) != 0;
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    if (x.rank() == 0) fail(node.describe(), ": input must have rank >= 1");
    const size_t axis = static_cast<size_t>(normalize_axis(node, axis_, x.rank()));
    Shape y_shape;
    for (size_t d = 0; d < x.rank(); ++d) {
      if (d != axis) y_shape.push_back(x.dim(d));
      else if (keepdims_) y_shape.push_back(1);
    }
    const int64_t n = x.dim(axis);
    Tensor& y = ctx.allocate_output(0, DataType::kInt64, y_shape);
    if (n == 0 && y.size() != 0) fail(node.describe(), ": cannot take the arg-extreme of an empty axis");
    if (y.size() == 0) return;
    // Past here X is not empty, so these products fit.
    const std::string who = node.describe();
    const int64_t outer = checked::product(x.shape(), 0, axis, who, "the row count");
    const int64_t inner = checked::product(x.shape(), axis + 1, x.rank(), who, "the row");
    switch (x.dtype()) {
      case DataType::kFloat32: return scan<float>(x, y, outer, n, inner);
      case DataType::kFloat64: return scan<double>(x, y, outer, n, inner);
      case DataType::kInt32: return scan<int32_t>(x, y, outer, n, inner);
      case DataType::kInt64: return scan<int64_t>(x, y, outer, n, inner);
      case DataType::kInt8: return scan<int8_t>(x, y, outer, n, inner);
      case DataType::kUInt8: return scan<uint8_t>(x, y, outer, n, inner);
      default: fail_unsupported(node.describe(), ": input type ", dtype_name(x.dtype()), " is not supported");
    }
  }

 private:
  template <class T>
  void scan(const Tensor& x, Tensor& y, int64_t outer, int64_t n, int64_t inner) const {
    const T* x_data = x.data<T>();
    int64_t* y_data = y.data<int64_t>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        const T* column = x_data + o * n * inner + j;
        int64_t best = 0;
        for (int64_t i = 1; i < n; ++i) {
          const T v = column[i * inner], b = column[best * inner];
          const bool better = kMax ? (v > b || (select_last_ && v == b)) : (v < b || (select_last_ && v == b));
          if (better) best = i;
        }
        y_data[o * inner + j] = best;
      }
  }

  int64_t axis_ = 0;
  bool keepdims_ = true;
  bool select_last_ = false;
};

}  // namespace

void register_reduce_ops(OpRegistry& registry) {
  registry.add("ReduceSum", make_reduce<ReduceKind::kSum>, shape_rules::reduce_sum, graph::kNoTraits, 1, 17);
  registry.add("ReduceMean", make_reduce<ReduceKind::kMean>, shape_rules::reduce_other, graph::kNoTraits, 1, 17);
  registry.add("ReduceMax", make_reduce<ReduceKind::kMax>, shape_rules::reduce_other, graph::kNoTraits, 1, 17);
  registry.add("ReduceMin", make_reduce<ReduceKind::kMin>, shape_rules::reduce_other, graph::kNoTraits, 1, 17);
  registry.add("ReduceProd", make_reduce<ReduceKind::kProd>, shape_rules::reduce_other, graph::kNoTraits, 1, 17);
  registry.add("ReduceL1", make_reduce<ReduceKind::kL1>, shape_rules::reduce_other, graph::kNoTraits, 1, 17);
  registry.add("ReduceL2", make_reduce<ReduceKind::kL2>, shape_rules::reduce_other, graph::kNoTraits, 1, 17);
  registry.add("ReduceSumSquare", make_reduce<ReduceKind::kSumSquare>,
               shape_rules::reduce_other, graph::kNoTraits, 1, 17);
  registry.add("ReduceLogSum", make_reduce<ReduceKind::kLogSum>, shape_rules::reduce_other, graph::kNoTraits, 1, 17);
  registry.add("ReduceLogSumExp", make_reduce<ReduceKind::kLogSumExp>,
               shape_rules::reduce_other, graph::kNoTraits, 1, 17);
  registry.add("ArgMax", make_kernel<ArgExtremeKernel<true>>, shape_rules::arg_reduce, graph::kNoTraits, 1, 17);
  registry.add("ArgMin", make_kernel<ArgExtremeKernel<false>>, shape_rules::arg_reduce, graph::kNoTraits, 1, 17);
  register_softmax_ops(registry);
}

}  // namespace kiln
