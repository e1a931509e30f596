// f32_im2col against its definition, and f32_col2im as its exact adjoint:
// <im2col(x), c> == <x, col2im(c)> for integer-valued x and c.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/reference/im2col.h"

namespace kiln::kernels {
namespace {

WindowGeometry random_geometry(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  WindowGeometry g;
  const int rank = pick(1, 3);
  for (int d = WindowGeometry::kDims - rank; d < WindowGeometry::kDims; ++d) {
    g.in[d] = pick(1, 9);
    g.kernel[d] = pick(1, 3);
    g.stride[d] = pick(1, 3);
    g.dilation[d] = pick(1, 2);
    g.pad_begin[d] = pick(0, 2);
    g.pad_end[d] = pick(0, 2);
    const int64_t span = g.in[d] + g.pad_begin[d] + g.pad_end[d] - g.dilation[d] * (g.kernel[d] - 1) - 1;
    if (span < 0) g.pad_end[d] -= span;  // make the window fit
    g.out[d] = (g.in[d] + g.pad_begin[d] + g.pad_end[d] - g.dilation[d] * (g.kernel[d] - 1) - 1) / g.stride[d] + 1;
  }
  return g;
}

// The image value under tap (kd, kh, kw) of output position p, or 0 in padding.
float column_value(const WindowGeometry& g, const std::vector<float>& image, int64_t c, int64_t tap, int64_t p) {
  const int64_t kw = tap % g.kernel[2], kh = tap / g.kernel[2] % g.kernel[1], kd = tap / (g.kernel[2] * g.kernel[1]);
  const int64_t ow = p % g.out[2], oh = p / g.out[2] % g.out[1], od = p / (g.out[2] * g.out[1]);
  const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
  const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
  const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
  if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1] || iw < 0 || iw >= g.in[2]) return 0.0f;
  return image[((c * g.in[0] + id) * g.in[1] + ih) * g.in[2] + iw];
}

TEST(Im2col, MatchesDefinitionOnEveryTileAndIsAdjointOfCol2im) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> value(-4, 4);
  for (int trial = 0; trial < 300; ++trial) {
    const WindowGeometry g = random_geometry(rng);
    const int64_t channels = std::uniform_int_distribution<int>(1, 3)(rng);
    const int64_t positions = g.output_size();
    const int64_t first = std::uniform_int_distribution<int64_t>(0, positions - 1)(rng);
    const int64_t count = std::uniform_int_distribution<int64_t>(1, positions - first)(rng);
    const int64_t rows = channels * g.kernel_size();
    std::vector<float> image(channels * g.input_size()), columns(rows * count, -99.0f), probe(rows * count);
    for (float& v : image) v = static_cast<float>(value(rng));
    for (float& v : probe) v = static_cast<float>(value(rng));

    f32_im2col(g, channels, image.data(), first, count, columns.data());
    double columns_dot_probe = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < count; ++j) {
        const float want = column_value(g, image, r / g.kernel_size(), r % g.kernel_size(), first + j);
        ASSERT_EQ(columns[r * count + j], want)
            << "trial " << trial << " row " << r << " position " << first + j << " (tile " << first << "+" << count << ")";
        columns_dot_probe += columns[r * count + j] * probe[r * count + j];
      }

    std::vector<float> scattered(image.size(), 0.0f);
    f32_col2im(g, channels, probe.data(), first, count, scattered.data());
    double image_dot_scattered = 0;
    for (size_t i = 0; i < image.size(); ++i) image_dot_scattered += image[i] * scattered[i];
    ASSERT_EQ(columns_dot_probe, image_dot_scattered) << "trial " << trial;
  }
}

}  // namespace
}  // namespace kiln::kernels
