// The reference twin of kernels/reduce.h: one pass over the input in
// row-major order, each element added into its output's double accumulator.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/reduce.h"

namespace kiln::kernels {

void f32_reduce_reference(ReduceKind kind, const std::vector<int64_t>& shape, const std::vector<bool>& reduced,
                          const float* x, float* y) {
  const size_t rank = shape.size();
  // Output index of an input index: drop the reduced coordinates.
  std::vector<int64_t> out_stride(rank, 0);
  int64_t outputs = 1;
  for (size_t d = rank; d-- > 0;) {
    if (reduced[d]) continue;
    out_stride[d] = outputs;
    outputs *= shape[d];
  }
  int64_t inputs = 1;
  for (int64_t size : shape) inputs *= size;
  const int64_t per_output = outputs == 0 ? 0 : inputs / outputs;

  const double inf = std::numeric_limits<double>::infinity();
  double start = 0.0;
  if (kind == ReduceKind::kProd) start = 1.0;
  if (kind == ReduceKind::kMax) start = -inf;
  if (kind == ReduceKind::kMin) start = inf;
  std::vector<double> acc(static_cast<size_t>(outputs), start);

  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < inputs; ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < rank; ++d) o += index[d] * out_stride[d];
    double& a = acc[static_cast<size_t>(o)];
    const double v = x[i];
    switch (kind) {
      case ReduceKind::kSum:
      case ReduceKind::kMean:
      case ReduceKind::kLogSum: a += v; break;
      case ReduceKind::kMax: a = (std::isnan(v) || std::isnan(a)) ? NAN : std::fmax(a, v); break;
      case ReduceKind::kMin: a = (std::isnan(v) || std::isnan(a)) ? NAN : std::fmin(a, v); break;
      case ReduceKind::kProd: a *= v; break;
      case ReduceKind::kL1: a += std::fabs(v); break;
      case ReduceKind::kL2:
      case ReduceKind::kSumSquare: a += v * v; break;
      case ReduceKind::kLogSumExp: a += std::exp(v); break;
    }
    for (size_t d = rank; d-- > 0;) {  // next row-major index
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }

  for (int64_t o = 0; o < outputs; ++o) {
    const double a = acc[static_cast<size_t>(o)];
    double r = a;
    if (kind == ReduceKind::kMean) r = a / static_cast<double>(per_output);
    if (kind == ReduceKind::kL2) r = std::sqrt(a);
    if (kind == ReduceKind::kLogSum || kind == ReduceKind::kLogSumExp) r = std::log(a);
    y[o] = static_cast<float>(r);
  }
}

}  // namespace kiln::kernels
