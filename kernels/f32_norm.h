// The float32 loops of BatchNormalization (inference), InstanceNormalization,
// LayerNormalization and kiln's FusedLayerNorm, each over one run, plane or
// row; the caller threads over them.
//
// Statistics accumulate in double in two passes (mean, then squared
// deviations), so long planes stay accurate. Variances are population
// variances (divided by the count).
#pragma once

#include <cstdint>

namespace kiln::kernels {

// BatchNormalization folded per feature f into y = x * multiplier[f] + offset[f]:
// multiplier = scale / sqrt(var + epsilon), offset = bias - mean * multiplier.
void f32_batch_norm_fold(int64_t features, const float* scale, const float* bias, const float* mean,
                         const float* var, float epsilon, float* multiplier, float* offset);

// y[i] = x[i] * multiplier + offset for one run of `count` values sharing a feature.
void f32_batch_norm_run(const float* x, float* y, int64_t count, float multiplier, float offset);

// One plane of InstanceNormalization:
// y = (x - mean) / sqrt(var + epsilon) * scale + bias over its `count` values.
void f32_instance_norm_plane(const float* x, float* y, int64_t count, float scale, float bias, float epsilon);

// One row of LayerNormalization: y = (x - mean) / sqrt(var + epsilon) * scale + bias
// over its `count` values. scale[i] (or scale[0] unless scale_per_element), and
// bias likewise; bias may be null (0). mean_out and inv_std_out, when not null,
// receive the row's mean and 1 / sqrt(var + epsilon).
void f32_layer_norm_row(const float* x, float* y, int64_t count, const float* scale, bool scale_per_element,
                        const float* bias, bool bias_per_element, float epsilon, float* mean_out,
                        float* inv_std_out);

// FusedLayerNorm's statistics over a chunk of a row (the caller adds the
// chunks' partial results): sum of x[i], and sum of (x[i] - mean)^2, in
// double with eight independent partial sums.
double f32_sum(const float* x, int64_t count);
double f32_sum_squared_deviations(const float* x, int64_t count, double mean);

// ---- The plain reference twins: double throughout, one straightforward loop per term.

struct F32MomentsReference {
  double mean;
  double variance;  // population variance
};
F32MomentsReference f32_moments_reference(const float* x, int64_t count);

// x, y: [batch, features, run_length]; parameters per feature.
void f32_batch_norm_reference(const float* x, float* y, int64_t batch, int64_t features, int64_t run_length,
                              const float* scale, const float* bias, const float* mean, const float* var,
                              float epsilon);

void f32_instance_norm_reference(const float* x, float* y, int64_t count, float scale, float bias, float epsilon);

// scale and bias hold 1 or `count` values each (bias may be null).
void f32_layer_norm_reference(const float* x, float* y, int64_t count, const float* scale, int64_t scale_count,
                              const float* bias, int64_t bias_count, float epsilon, float* mean_out,
                              float* inv_std_out);

}  // namespace kiln::kernels
