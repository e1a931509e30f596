// ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp and
// ArgMax/ArgMin. Softmax and LogSoftmax live in softmax.cpp.
//
// A reduction first merges neighbouring dims that are all reduced or all
// kept (they are contiguous), so each output element walks its inputs as
// (a list of offsets of the outer reduced dims) x (the innermost reduced dim).
// Floating-point sums accumulate in double.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "platform/thread_pool.h"
#include "runtime/op_registry.h"
#include "runtime/ops/parallel_work.h"
#include "runtime/ops/softmax.h"

namespace kiln {

namespace {

enum class ReduceKind { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kSumSquare, kLogSum, kLogSumExp };

int64_t normalize_axis(const graph::Node& node, int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  const int64_t normalized = axis < 0 ? axis + r : axis;
  if (normalized < 0 || normalized >= std::max<int64_t>(r, 1))
    fail(node.describe(), ": axis ", axis, " is out of range for rank ", rank);
  return normalized;
}

// Where the inputs of each output element are.
struct ReductionPlan {
  Shape output_shape;
  int64_t outputs = 0;
  int64_t reduced_count = 1;             // inputs per output
  std::vector<int64_t> kept_sizes;       // merged kept dims, outer to inner
  std::vector<int64_t> kept_strides;     // their input strides
  int64_t inner_count = 1;               // innermost reduced (merged) dim
  int64_t inner_stride = 1;
  std::vector<int64_t> outer_offsets{0};  // offsets of every combination of the other reduced dims

  int64_t base_offset(int64_t output) const {
    int64_t offset = 0;
    for (size_t i = kept_sizes.size(); i-- > 0;) {
      offset += (output % kept_sizes[i]) * kept_strides[i];
      output /= kept_sizes[i];
    }
    return offset;
  }
};

ReductionPlan plan_reduction(const Shape& shape, const std::vector<bool>& reduced, bool keepdims) {
  ReductionPlan plan;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d]) plan.output_shape.push_back(shape[d]);
    else if (keepdims) plan.output_shape.push_back(1);
  }
  plan.outputs = element_count(plan.output_shape);

  // Merge runs of same-kind dims (size-1 dims change nothing and are skipped).
  struct Run { int64_t size; bool reduced; };
  std::vector<Run> runs;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!runs.empty() && runs.back().reduced == reduced[d]) runs.back().size *= shape[d];
    else runs.push_back({shape[d], reduced[d]});
  }
  std::vector<int64_t> strides(runs.size());
  int64_t stride = 1;
  for (size_t i = runs.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= runs[i].size;
  }
  std::vector<Run> reduced_runs;
  std::vector<int64_t> reduced_strides;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].reduced) {
      reduced_runs.push_back(runs[i]);
      reduced_strides.push_back(strides[i]);
      plan.reduced_count *= runs[i].size;
    } else {
      plan.kept_sizes.push_back(runs[i].size);
      plan.kept_strides.push_back(strides[i]);
    }
  }
  if (!reduced_runs.empty()) {
    plan.inner_count = reduced_runs.back().size;
    plan.inner_stride = reduced_strides.back();
    for (size_t i = 0; i + 1 < reduced_runs.size(); ++i) {
      std::vector<int64_t> next;
      for (int64_t base : plan.outer_offsets)
        for (int64_t k = 0; k < reduced_runs[i].size; ++k) next.push_back(base + k * reduced_strides[i]);
      plan.outer_offsets = std::move(next);
    }
  }
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) {  // empty input: nothing to visit
    plan.reduced_count = 0;
    plan.kept_sizes.clear();
    plan.kept_strides.clear();
    plan.outer_offsets.clear();
  }
  return plan;
}

// A double result as T: integers saturate and NaN gives 0 (a float-to-int
// cast outside the target's range is undefined behaviour).
template <class T>
T from_double(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (!(v == v)) return T{0};
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// The reduction of one output's inputs. Integer sums and products wrap
// around (as numpy's do): they are accumulated in uint64, since signed
// overflow would be undefined behaviour.
template <class T>
T reduce_one(ReduceKind kind, const T* x, const ReductionPlan& plan, int64_t base) {
  constexpr bool kFloating = std::is_floating_point_v<T>;
  using Sum = std::conditional_t<kFloating, double, uint64_t>;
  auto for_each_input = [&](auto&& visit) {
    for (int64_t offset : plan.outer_offsets) {
      const T* p = x + base + offset;
      for (int64_t i = 0; i < plan.inner_count; ++i) visit(p[i * plan.inner_stride]);
    }
  };
  const double count = static_cast<double>(plan.reduced_count);
  switch (kind) {
    case ReduceKind::kSum:
    case ReduceKind::kMean: {
      Sum sum = 0;
      for_each_input([&](T v) { sum += static_cast<Sum>(v); });
      if (kind == ReduceKind::kSum) return static_cast<T>(sum);
      if constexpr (kFloating) return static_cast<T>(sum / count);
      else if constexpr (std::is_signed_v<T>)
        return static_cast<T>(plan.reduced_count ? static_cast<int64_t>(sum) / plan.reduced_count : 0);
      else return static_cast<T>(plan.reduced_count ? sum / static_cast<uint64_t>(plan.reduced_count) : 0);
    }
    case ReduceKind::kMax: {
      T best = std::numeric_limits<T>::lowest();
      if constexpr (kFloating) best = -std::numeric_limits<T>::infinity();
      for_each_input([&](T v) { best = v > best || std::isnan(static_cast<double>(v)) ? v : best; });
      return best;
    }
    case ReduceKind::kMin: {
      T best = std::numeric_limits<T>::max();
      if constexpr (kFloating) best = std::numeric_limits<T>::infinity();
      for_each_input([&](T v) { best = v < best || std::isnan(static_cast<double>(v)) ? v : best; });
      return best;
    }
    case ReduceKind::kProd: {
      Sum product = 1;
      for_each_input([&](T v) { product *= static_cast<Sum>(v); });
      return static_cast<T>(product);
    }
    case ReduceKind::kL1: {
      Sum sum = 0;
      for_each_input([&](T v) {
        if constexpr (std::is_signed_v<T>) sum += v < 0 ? Sum{0} - static_cast<Sum>(v) : static_cast<Sum>(v);
        else sum += static_cast<Sum>(v);
      });
      return static_cast<T>(sum);
    }
    case ReduceKind::kSumSquare: {
      Sum sum = 0;
      for_each_input([&](T v) { sum += static_cast<Sum>(v) * static_cast<Sum>(v); });
      return static_cast<T>(sum);
    }
    case ReduceKind::kL2: {
      double sum = 0;
      for_each_input([&](T v) { sum += static_cast<double>(v) * static_cast<double>(v); });
      return from_double<T>(std::sqrt(sum));
    }
    case ReduceKind::kLogSum: {
      double sum = 0;
      for_each_input([&](T v) { sum += static_cast<double>(v); });
      return from_double<T>(std::log(sum));
    }
    case ReduceKind::kLogSumExp: {
      double largest = -std::numeric_limits<double>::infinity();
      for_each_input([&](T v) { largest = std::max(largest, static_cast<double>(v)); });
      if (std::isinf(largest)) return from_double<T>(largest);
      double sum = 0;
      for_each_input([&](T v) { sum += std::exp(static_cast<double>(v) - largest); });
      return from_double<T>(largest + std::log(sum));
    }
  }
  return T{};
}

template <class T>
void reduce_all(ReduceKind kind, const Tensor& x, const ReductionPlan& plan, Tensor& y, int threads) {
  const T* x_data = x.data<T>();
  T* y_data = y.data<T>();
  threads = threads_for_work(threads, plan.outputs * plan.reduced_count);
  const bool parallel = threads > 1 && plan.outputs > 1;
  parallel_ranges(plan.outputs, (parallel) ? threads : 1, 1, [&](int64_t o_begin, int64_t o_end) {
    for (int64_t o = o_begin; o < o_end; ++o) y_data[o] = reduce_one<T>(kind, x_data, plan, plan.base_offset(o));
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
    const ReductionPlan plan = plan_reduction(x.shape(), reduced, keepdims_);
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
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < x.rank(); ++d) {
      if (d < axis) outer *= x.dim(d);
      if (d > axis) inner *= x.dim(d);
      if (d != axis) y_shape.push_back(x.dim(d));
      else if (keepdims_) y_shape.push_back(1);
    }
    const int64_t n = x.dim(axis);
    if (n == 0 && outer * inner != 0) fail(node.describe(), ": cannot take the arg-extreme of an empty axis");
    Tensor& y = ctx.allocate_output(0, DataType::kInt64, y_shape);
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
  registry.add("ReduceSum", make_reduce<ReduceKind::kSum>, 1, 17);
  registry.add("ReduceMean", make_reduce<ReduceKind::kMean>, 1, 17);
  registry.add("ReduceMax", make_reduce<ReduceKind::kMax>, 1, 17);
  registry.add("ReduceMin", make_reduce<ReduceKind::kMin>, 1, 17);
  registry.add("ReduceProd", make_reduce<ReduceKind::kProd>, 1, 17);
  registry.add("ReduceL1", make_reduce<ReduceKind::kL1>, 1, 17);
  registry.add("ReduceL2", make_reduce<ReduceKind::kL2>, 1, 17);
  registry.add("ReduceSumSquare", make_reduce<ReduceKind::kSumSquare>, 1, 17);
  registry.add("ReduceLogSum", make_reduce<ReduceKind::kLogSum>, 1, 17);
  registry.add("ReduceLogSumExp", make_reduce<ReduceKind::kLogSumExp>, 1, 17);
  registry.add("ArgMax", make_kernel<ArgExtremeKernel<true>>, 1, 17);
  registry.add("ArgMin", make_kernel<ArgExtremeKernel<false>>, 1, 17);
  register_softmax_ops(registry);
}

}  // namespace kiln
