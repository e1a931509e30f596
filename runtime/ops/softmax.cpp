// Softmax and LogSoftmax, float32.
//
// Before opset 13 the input is coerced to 2-D at `axis` (default 1) and each
// row [prod(dims[axis:])] is normalized; from opset 13 the normalization runs
// along the single dim `axis` (default -1). Both are a view of the input as
// [outer, n, inner] normalized along n (the old form has inner = 1).
// Maxima are subtracted first; the sum of exponentials accumulates in double.
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
    int64_t outer = 1, n = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t size = x.dim(static_cast<size_t>(d));
      if (d < axis) outer *= size;
      else if (d == axis || coerce_2d_) n *= size;
      else inner *= size;
    }
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, x.shape());
    if (y.size() == 0) return;
    const float* x_data = x.data<float>();
    float* y_data = y.data<float>();
    const int threads = threads_for_work(ctx.threads(), x.size());
    if (inner == 1) {
      parallel_ranges(outer, (threads > 1 && outer > 1) ? threads : 1, 1, [&](int64_t o_begin, int64_t o_end) {
        for (int64_t o = o_begin; o < o_end; ++o) normalize_row(x_data + o * n, y_data + o * n, n);
      });
    } else {
      parallel_ranges(outer, (threads > 1 && outer > 1) ? threads : 1, 1, [&](int64_t o_begin, int64_t o_end) {
        for (int64_t o = o_begin; o < o_end; ++o) normalize_columns(x_data + o * n * inner, y_data + o * n * inner, n, inner);
      });
    }
  }

 private:
  // One contiguous row of n values.
  static void normalize_row(const float* x, float* y, int64_t n) {
    float largest = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) largest = std::max(largest, x[i]);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float e = std::exp(x[i] - largest);
      if (!kLog) y[i] = e;
      sum += e;
    }
    if constexpr (kLog) {
      // (x - largest) first: it is exact where largest + log(sum) would round.
      const float log_sum = static_cast<float>(std::log(sum));
      for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - largest) - log_sum;
    } else {
      const float scale = static_cast<float>(1.0 / sum);
      for (int64_t i = 0; i < n; ++i) y[i] *= scale;
    }
  }

  // n rows of `inner` values, each column normalized: row-by-row passes with
  // per-column maxima and sums, so memory is read contiguously.
  static void normalize_columns(const float* x, float* y, int64_t n, int64_t inner) {
    std::vector<float> largest(static_cast<size_t>(inner), -std::numeric_limits<float>::infinity());
    std::vector<double> sum(static_cast<size_t>(inner), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < inner; ++j) largest[j] = std::max(largest[j], x[i * inner + j]);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < inner; ++j) {
        const float e = std::exp(x[i * inner + j] - largest[j]);
        if (!kLog) y[i * inner + j] = e;
        sum[j] += e;
      }
    if constexpr (kLog) {
      std::vector<float> log_sum(static_cast<size_t>(inner));
      for (int64_t j = 0; j < inner; ++j) log_sum[j] = static_cast<float>(std::log(sum[j]));
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < inner; ++j) y[i * inner + j] = (x[i * inner + j] - largest[j]) - log_sum[j];
    } else {
      std::vector<float> scale(static_cast<size_t>(inner));
      for (int64_t j = 0; j < inner; ++j) scale[j] = static_cast<float>(1.0 / sum[j]);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < inner; ++j) y[i * inner + j] *= scale[j];
    }
  }

  bool coerce_2d_ = false;
  int64_t axis_ = -1;
};

}  // namespace

void register_softmax_ops(OpRegistry& registry) {
  registry.add("Softmax", make_kernel<SoftmaxKernel<false>>, 1, 17);
  registry.add("LogSoftmax", make_kernel<SoftmaxKernel<true>>, 1, 17);
}

}  // namespace kiln
