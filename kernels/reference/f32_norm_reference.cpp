// The reference twins of kernels/f32_norm.h, in the operators' own form:
// y = (x - mean) / sqrt(var + epsilon) * scale + bias, all in double.
#include <cmath>
#include <cstdint>

#include "kernels/f32_norm.h"

namespace kiln::kernels {

F32MomentsReference f32_moments_reference(const float* x, int64_t count) {
  if (count == 0) return {0.0, 0.0};
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(count);
  double squares = 0.0;
  for (int64_t i = 0; i < count; ++i) squares += (x[i] - mean) * (x[i] - mean);
  return {mean, squares / static_cast<double>(count)};
}

void f32_batch_norm_reference(const float* x, float* y, int64_t batch, int64_t features, int64_t run_length,
                              const float* scale, const float* bias, const float* mean, const float* var,
                              float epsilon) {
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t f = 0; f < features; ++f)
      for (int64_t i = 0; i < run_length; ++i) {
        const int64_t at = (b * features + f) * run_length + i;
        const double normalized = (x[at] - static_cast<double>(mean[f])) / std::sqrt(static_cast<double>(var[f]) + epsilon);
        y[at] = static_cast<float>(normalized * scale[f] + bias[f]);
      }
}

void f32_instance_norm_reference(const float* x, float* y, int64_t count, float scale, float bias, float epsilon) {
  const F32MomentsReference m = f32_moments_reference(x, count);
  for (int64_t i = 0; i < count; ++i)
    y[i] = static_cast<float>((x[i] - m.mean) / std::sqrt(m.variance + epsilon) * scale + bias);
}

void f32_layer_norm_reference(const float* x, float* y, int64_t count, const float* scale, int64_t scale_count,
                              const float* bias, int64_t bias_count, float epsilon, float* mean_out,
                              float* inv_std_out) {
  const F32MomentsReference m = f32_moments_reference(x, count);
  const double std_dev = std::sqrt(m.variance + epsilon);
  for (int64_t i = 0; i < count; ++i) {
    const double s = scale[scale_count == 1 ? 0 : i];
    const double b = bias ? bias[bias_count == 1 ? 0 : i] : 0.0;
    y[i] = static_cast<float>((x[i] - m.mean) / std_dev * s + b);
  }
  if (mean_out) *mean_out = static_cast<float>(m.mean);
  if (inv_std_out) *inv_std_out = static_cast<float>(1.0 / std_dev);
}

}  // namespace kiln::kernels
