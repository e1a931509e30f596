// Softmax and LogSoftmax, float32.
//
// Before opset 13 the input is coerced to 2-D at `axis` (default 1) and each
// row [prod(dims[axis:])] is normalized; from opset 13 the normalization runs
// along the single dim `axis` (default -1). Both are a view of the input as
// [outer, n, inner] normalized along n (the old form has inner = 1).
// The loops are kernels/f32_softmax.h.
#include "kernels/f32_softmax.h"
#include "platform/thread_pool.h"
#include "runtime/ops/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/ops/parallel_work.h"

namespace kiln {

namespace {

template <bool kLog>
class SoftmaxKernel : public OpKernel {
 public:
  explicit SoftmaxKernel(const KernelInit& init) {
    coerce_2d_ = init.opset() < 13;
    axis_ = init.node().attr_int("axis", coerce_2d_ ? 1 : -1);
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    if (x.dtype() != DataType::kFloat32)
      fail_unsupported(node.describe(), ": input type ", dtype_name(x.dtype()), " is not supported (float32 only)");
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    // The old form allows axis == rank (rows of one element).
    if (axis < 0 || axis > rank || (!coerce_2d_ && axis == rank) || (rank == 0 && !coerce_2d_))
      fail(node.describe(), ": axis ", axis_, " is out of range for input ", shape_to_string(x.shape()));
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, x.shape());
    // Past here X is not empty, so no product of its dims overflows.
    if (y.size() == 0) return;
    int64_t outer = 1, n = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t size = x.dim(static_cast<size_t>(d));
      if (d < axis) outer *= size;
      else if (d == axis || coerce_2d_) n *= size;
      else inner *= size;
    }
    const float* x_data = x.data<float>();
    float* y_data = y.data<float>();
    const int threads = threads_for_work(ctx.threads(), x.size());
    parallel_ranges(outer, (threads > 1 && outer > 1) ? threads : 1, 1, [&](int64_t o_begin, int64_t o_end) {
      for (int64_t o = o_begin; o < o_end; ++o) normalize(x_data + o * n * inner, y_data + o * n * inner, n, inner);
    });
  }

 private:
  static void normalize(const float* x, float* y, int64_t n, int64_t inner) {
    if constexpr (kLog) kernels::f32_log_softmax(x, y, n, inner);
    else kernels::f32_softmax(x, y, n, inner);
  }

  bool coerce_2d_ = false;
  int64_t axis_ = -1;
};

}  // namespace

void register_softmax_ops(OpRegistry& registry) {
  registry.add("Softmax", make_kernel<SoftmaxKernel<false>>, shape_rules::same_as_input, graph::kNoTraits, 1, 17);
  registry.add("LogSoftmax", make_kernel<SoftmaxKernel<true>>, shape_rules::same_as_input, graph::kNoTraits, 1, 17);
}

}  // namespace kiln
