#include "kernels/f32_norm.h"

#include <cmath>

namespace kiln::kernels {

namespace {

struct Moments {
  double mean;
  double variance;  // population variance (divide by count)
};

Moments moments_of(const float* x, int64_t count) {
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) sum += x[i];
  const double mean = count ? sum / static_cast<double>(count) : 0.0;
  double squares = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double d = x[i] - mean;
    squares += d * d;
  }
  return {mean, count ? squares / static_cast<double>(count) : 0.0};
}

// Sum of f(x[i]) in double with eight independent partial sums (a single
// running sum would wait on each add's latency).
template <class F>
double sum_of(const float* x, int64_t n, F f) {
  double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) partial[j] += f(x[i + j]);
  for (; i < n; ++i) partial[0] += f(x[i]);
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

}  // namespace

void f32_batch_norm_fold(int64_t features, const float* scale, const float* bias, const float* mean,
                         const float* var, float epsilon, float* multiplier, float* offset) {
  for (int64_t f = 0; f < features; ++f) {
    const double m = scale[f] / std::sqrt(static_cast<double>(var[f]) + epsilon);
    multiplier[f] = static_cast<float>(m);
    offset[f] = static_cast<float>(bias[f] - mean[f] * m);
  }
}

void f32_batch_norm_run(const float* x, float* y, int64_t count, float multiplier, float offset) {
  for (int64_t i = 0; i < count; ++i) y[i] = x[i] * multiplier + offset;
}

void f32_instance_norm_plane(const float* x, float* y, int64_t count, float scale, float bias, float epsilon) {
  const Moments stats = moments_of(x, count);
  const double multiplier = scale / std::sqrt(stats.variance + epsilon);
  const double offset = bias;
  // Centered in double: folding the mean into a float offset would cancel
  // catastrophically when |mean| >> standard deviation.
  for (int64_t i = 0; i < count; ++i) y[i] = static_cast<float>((x[i] - stats.mean) * multiplier + offset);
}

void f32_layer_norm_row(const float* x, float* y, int64_t count, const float* scale, bool scale_per_element,
                        const float* bias, bool bias_per_element, float epsilon, float* mean_out,
                        float* inv_std_out) {
  const Moments stats = moments_of(x, count);
  const double inv_std = 1.0 / std::sqrt(stats.variance + epsilon);
  for (int64_t i = 0; i < count; ++i) {
    // Centered in double, as in InstanceNormalization.
    const float normalized = static_cast<float>((x[i] - stats.mean) * inv_std);
    const float s = scale[scale_per_element ? i : 0];
    const float b = bias ? bias[bias_per_element ? i : 0] : 0.0f;
    y[i] = normalized * s + b;
  }
  if (mean_out) *mean_out = static_cast<float>(stats.mean);
  if (inv_std_out) *inv_std_out = static_cast<float>(inv_std);
}

double f32_sum(const float* x, int64_t count) {
  return sum_of(x, count, [](float v) { return double{v}; });
}

double f32_sum_squared_deviations(const float* x, int64_t count, double mean) {
  return sum_of(x, count, [mean](float v) {
    const double d = v - mean;
    return d * d;
  });
}

}  // namespace kiln::kernels
