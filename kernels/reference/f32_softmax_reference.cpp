// The reference twins of kernels/f32_softmax.h, straight from the definition.
#include <cmath>
#include <cstdint>

#include "kernels/f32_softmax.h"

namespace kiln::kernels {

namespace {

// sum over i of exp(x[i * inner + j]), in double.
double sum_of_exp(const float* x, int64_t n, int64_t inner, int64_t j) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i * inner + j]));
  return sum;
}

}  // namespace

void f32_softmax_reference(const float* x, float* y, int64_t n, int64_t inner) {
  for (int64_t j = 0; j < inner; ++j) {
    const double sum = sum_of_exp(x, n, inner, j);
    for (int64_t i = 0; i < n; ++i)
      y[i * inner + j] = static_cast<float>(std::exp(static_cast<double>(x[i * inner + j])) / sum);
  }
}

void f32_log_softmax_reference(const float* x, float* y, int64_t n, int64_t inner) {
  for (int64_t j = 0; j < inner; ++j) {
    const double log_sum = std::log(sum_of_exp(x, n, inner, j));
    for (int64_t i = 0; i < n; ++i) y[i * inner + j] = static_cast<float>(x[i * inner + j] - log_sum);
  }
}

}  // namespace kiln::kernels
