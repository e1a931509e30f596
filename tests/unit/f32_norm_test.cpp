// The float32 normalization kernels (kernels/f32_norm.h) against their
// reference twins: BatchNormalization folded per feature, InstanceNormalization
// per plane, LayerNormalization per row (scalar or per-element Scale and B,
// B absent), and FusedLayerNorm's chunk sums; counts 0, 1, primes and sizes
// just past 4, 8 and 16. Tolerances are stated per test, eps = FLT_EPSILON.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/f32_norm.h"

namespace kiln::kernels {
namespace {

const int64_t kCounts[] = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000};
constexpr float kEpsilon = 1e-5f;  // the ops' default epsilon
constexpr float kSentinel = -1234.5f;

// Inputs centered away from 0 with a smaller spread, as activations are: the
// kernels must center in double to stay accurate on them.
std::vector<float> plane(std::mt19937& rng, int64_t count) {
  std::uniform_real_distribution<float> center(-50.0f, 50.0f), spread(-2.0f, 2.0f);
  const float c = center(rng);
  std::vector<float> x(static_cast<size_t>(count));
  for (float& v : x) v = c + spread(rng);
  return x;
}

// y = x * multiplier + offset with multiplier and offset each rounded to
// float once (relative eps/2), then the product and the sum rounded (eps/2 of
// values no larger than |x m| and |x m| + |offset|), against a twin rounding
// once: within 2 eps (|x m| + |bias| + |mean m|), since |offset| <= |bias| + |mean m|.
TEST(F32Norm, BatchNormMatchesTheReference) {
  std::mt19937 rng(2023);
  std::uniform_real_distribution<float> value(-4.0f, 4.0f), variance(0.01f, 4.0f);
  int compared = 0;
  for (int64_t batch : {0, 1, 2, 3})
    for (int64_t features : {1, 3, 5, 17})
      for (int64_t run_length : {0, 1, 7, 9, 33}) {
        std::vector<float> scale(features), bias(features), mean(features), var(features);
        for (int64_t f = 0; f < features; ++f)
          scale[f] = value(rng), bias[f] = value(rng), mean[f] = value(rng), var[f] = variance(rng);
        const size_t size = static_cast<size_t>(batch * features * run_length);
        std::vector<float> x(size);
        for (float& v : x) v = value(rng);
        std::vector<float> multiplier(features), offset(features), got(size + 1, kSentinel), want(size);
        f32_batch_norm_fold(features, scale.data(), bias.data(), mean.data(), var.data(), kEpsilon, multiplier.data(),
                            offset.data());
        for (int64_t r = 0; r < batch * features; ++r)
          f32_batch_norm_run(x.data() + r * run_length, got.data() + r * run_length, run_length,
                             multiplier[r % features], offset[r % features]);
        f32_batch_norm_reference(x.data(), want.data(), batch, features, run_length, scale.data(), bias.data(),
                                 mean.data(), var.data(), kEpsilon);
        ASSERT_EQ(got[size], kSentinel) << "wrote past the tensor";
        for (size_t i = 0; i < size; ++i) {
          const int64_t f = static_cast<int64_t>(i) / run_length % features;
          const double m = std::fabs(scale[f]) / std::sqrt(static_cast<double>(var[f]) + kEpsilon);
          const double bound = 2 * FLT_EPSILON * (std::fabs(x[i]) * m + std::fabs(bias[f]) + std::fabs(mean[f]) * m);
          ASSERT_NEAR(got[i], want[i], bound) << "batch " << batch << " features " << features << " run "
                                              << run_length << " at " << i;
        }
        ++compared;
      }
  EXPECT_EQ(compared, 4 * 4 * 5);
}

// Both sides keep the statistics and the centered value in double and round
// to float once (eps/2 |want| each, so eps |want|). Their doubles differ by the
// summation order of the mean and variance: n * DBL_EPSILON relative to the
// terms, magnified at most by |x - mean| / std times |scale|.
double double_gap(int64_t n, const std::vector<float>& x, double mean, double std_dev, double scale, double bias) {
  double largest = 0.0;
  for (float v : x) largest = std::max(largest, std::fabs(v - mean));
  return 8 * static_cast<double>(n) * DBL_EPSILON * ((largest + std::fabs(mean)) / std_dev * std::fabs(scale) + std::fabs(bias));
}

TEST(F32Norm, InstanceNormMatchesTheReference) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  for (int64_t count : kCounts) {
    const std::vector<float> x = plane(rng, count);
    const float scale = value(rng), bias = value(rng);
    std::vector<float> got(static_cast<size_t>(count) + 1, kSentinel), want(static_cast<size_t>(count));
    f32_instance_norm_plane(x.data(), got.data(), count, scale, bias, kEpsilon);
    f32_instance_norm_reference(x.data(), want.data(), count, scale, bias, kEpsilon);
    ASSERT_EQ(got[static_cast<size_t>(count)], kSentinel) << "wrote past the plane, count " << count;
    const F32MomentsReference m = f32_moments_reference(x.data(), count);
    const double gap = double_gap(count, x, m.mean, std::sqrt(m.variance + kEpsilon), scale, bias);
    for (int64_t i = 0; i < count; ++i)
      ASSERT_NEAR(got[i], want[i], FLT_EPSILON * std::fabs(want[i]) + gap) << "count " << count << " at " << i;
  }
}

// The kernel rounds the normalized value to float, then multiplies by Scale
// and adds B in float: three roundings, each eps/2 of a value no larger than
// |z s| + |b| (z the normalized value), against the twin's one: within
// 2 eps (|z s| + |b|) plus the double gap above. Mean and 1/std are rounded
// once on each side: eps |want| plus the double gap relative to them.
TEST(F32Norm, LayerNormMatchesTheReference) {
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  int compared = 0;
  for (int64_t count : kCounts)
    for (bool scale_per_element : {false, true})
      for (int bias_form : {0, 1, 2}) {  // absent, one value, one per element
        const std::vector<float> x = plane(rng, count);
        const int64_t scale_count = scale_per_element ? count : 1;
        const int64_t bias_count = bias_form == 2 ? count : 1;
        std::vector<float> scale(std::max<int64_t>(scale_count, 1)), bias(std::max<int64_t>(bias_count, 1));
        for (float& v : scale) v = value(rng);
        for (float& v : bias) v = value(rng);
        const float* b = bias_form == 0 ? nullptr : bias.data();
        std::vector<float> got(static_cast<size_t>(count) + 1, kSentinel), want(static_cast<size_t>(count));
        float got_mean = kSentinel, got_inv_std = kSentinel, want_mean = 0, want_inv_std = 0;
        f32_layer_norm_row(x.data(), got.data(), count, scale.data(), scale_per_element, b, bias_form == 2, kEpsilon,
                           &got_mean, &got_inv_std);
        f32_layer_norm_reference(x.data(), want.data(), count, scale.data(), scale_count == 0 ? 1 : scale_count, b,
                                 bias_count == 0 ? 1 : bias_count, kEpsilon, &want_mean, &want_inv_std);
        ASSERT_EQ(got[static_cast<size_t>(count)], kSentinel) << "wrote past the row, count " << count;
        const F32MomentsReference m = f32_moments_reference(x.data(), count);
        const double std_dev = std::sqrt(m.variance + kEpsilon);
        const double relative_gap = 8 * static_cast<double>(count) * DBL_EPSILON;
        ASSERT_NEAR(got_mean, want_mean, FLT_EPSILON * std::fabs(want_mean) + relative_gap * std::fabs(m.mean))
            << "count " << count;
        ASSERT_NEAR(got_inv_std, want_inv_std, (FLT_EPSILON + relative_gap * (1 + std::fabs(m.mean) / std_dev)) * want_inv_std)
            << "count " << count;
        for (int64_t i = 0; i < count; ++i) {
          const double s = scale[scale_per_element ? i : 0];
          const double bi = b ? b[bias_form == 2 ? i : 0] : 0.0;
          const double z = (x[i] - m.mean) / std_dev;
          const double bound = 2 * FLT_EPSILON * (std::fabs(z * s) + std::fabs(bi)) +
                               double_gap(count, x, m.mean, std_dev, s, bi);
          ASSERT_NEAR(got[i], want[i], bound) << "count " << count << " scale " << (scale_per_element ? "per element" : "one")
                                              << " bias form " << bias_form << " at " << i;
        }
        ++compared;
      }
  EXPECT_EQ(compared, static_cast<int>(std::size(kCounts)) * 2 * 3);
}

// FusedLayerNorm's statistics: the chunk sums against the twin's moments.
// Two summations of the same n terms in different orders differ by at most
// 2 n DBL_EPSILON times the sum of the terms' magnitudes.
TEST(F32Norm, FusedLayerNormSumsMatchTheReference) {
  std::mt19937 rng(11);
  for (int64_t count : kCounts) {
    const std::vector<float> x = plane(rng, count);
    const F32MomentsReference m = f32_moments_reference(x.data(), count);
    double magnitude = 0.0, squares = 0.0;
    for (float v : x) magnitude += std::fabs(v), squares += (v - m.mean) * (v - m.mean);
    const double n = static_cast<double>(count);
    EXPECT_NEAR(f32_sum(x.data(), count), m.mean * n, 2 * n * DBL_EPSILON * magnitude) << "count " << count;
    // The mean handed in is the twin's; the deviations' own sum is the bound's scale.
    EXPECT_NEAR(f32_sum_squared_deviations(x.data(), count, m.mean), m.variance * n, 2 * n * DBL_EPSILON * squares)
        << "count " << count;
  }
}

}  // namespace
}  // namespace kiln::kernels
