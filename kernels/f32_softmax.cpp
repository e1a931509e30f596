#include "kernels/f32_softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace kiln::kernels {

namespace {

// One contiguous row of n values.
template <bool kLog>
void normalize_row(const float* x, float* y, int64_t n) {
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
template <bool kLog>
void normalize_columns(const float* x, float* y, int64_t n, int64_t inner) {
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

template <bool kLog>
void normalize(const float* x, float* y, int64_t n, int64_t inner) {
  if (inner == 1) normalize_row<kLog>(x, y, n);
  else normalize_columns<kLog>(x, y, n, inner);
}

}  // namespace

void f32_softmax(const float* x, float* y, int64_t n, int64_t inner) { normalize<false>(x, y, n, inner); }

void f32_log_softmax(const float* x, float* y, int64_t n, int64_t inner) { normalize<true>(x, y, n, inner); }

}  // namespace kiln::kernels
