// f32_im2col against its definition, and f32_col2im as its exact adjoint:
// <im2col(x), c> == <x, col2im(c)> for integer-valued x and c.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/col2im.h"
#include "kernels/f32_im2col_panels.h"
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


// f32_pack_im2col_panels on one random block (rows k0.., columns j0..) of
// `g` over `channels` planes, for each panel width: the block's panels hold
// column_value at their places and zeros past the last column; nothing
// outside them is written. With `aligned`, the block starts at a multiple of
// 32 columns from output position 0 (so with output rows a multiple of 32
// wide, panels end exactly at row ends).
void check_random_block(const WindowGeometry& g, int64_t channels, std::mt19937& rng, int trial,
                        bool aligned = false) {
  std::uniform_int_distribution<int> value(-4, 4);
  const size_t rows = static_cast<size_t>(channels * g.kernel_size());
  const size_t positions = static_cast<size_t>(g.output_size());
  const int64_t first =
      aligned ? 0 : std::uniform_int_distribution<int64_t>(0, static_cast<int64_t>(positions) - 1)(rng);
  const size_t columns = positions - static_cast<size_t>(first);
  const size_t k0 = std::uniform_int_distribution<size_t>(0, rows - 1)(rng);
  const size_t kc = std::uniform_int_distribution<size_t>(1, rows - k0)(rng);
  const size_t j0 = aligned ? 32 * std::uniform_int_distribution<size_t>(0, (columns - 1) / 32)(rng)
                            : std::uniform_int_distribution<size_t>(0, columns - 1)(rng);
  const size_t nc = std::uniform_int_distribution<size_t>(1, columns - j0)(rng);
  std::vector<float> image(static_cast<size_t>(channels * g.input_size()));
  for (float& v : image) v = static_cast<float>(value(rng));
  const F32Im2colPanels source{&g, image.data(), first};
  for (size_t nr : {8, 16, 32}) {
    const size_t panels = (nc + nr - 1) / nr;
    std::vector<float> packed(panels * nr * kc + 5, -99.0f);
    f32_pack_im2col_panels(source, k0, kc, j0, nc, nr, packed.data());
    for (size_t q = 0; q < panels; ++q)
      for (size_t p = 0; p < kc; ++p)
        for (size_t l = 0; l < nr; ++l) {
          const size_t j = q * nr + l;
          const int64_t row = static_cast<int64_t>(k0 + p);
          const float want = j < nc ? column_value(g, image, row / g.kernel_size(), row % g.kernel_size(),
                                                   first + static_cast<int64_t>(j0 + j))
                                    : 0.0f;
          ASSERT_EQ(packed[q * nr * kc + p * nr + l], want)
              << "trial " << trial << " nr " << nr << " panel " << q << " row " << p << " lane " << l;
        }
    for (size_t i = panels * nr * kc; i < packed.size(); ++i) ASSERT_EQ(packed[i], -99.0f) << "wrote past the panels";
  }
}

TEST(Im2colPanels, EveryBlockMatchesDefinitionForEachPanelWidth) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    const WindowGeometry g = random_geometry(rng);
    check_random_block(g, std::uniform_int_distribution<int>(1, 3)(rng), rng, trial);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// 2-D windows with unit horizontal stride and dilation over rows of at least
// four panels of 32: the packer's panel-by-panel path, with panels inside
// and across output rows, windows past every edge, vertical strides and
// dilations. Odd trials make the output rows a multiple of 32 wide and align
// the block, so panels end exactly where a row does.
TEST(Im2colPanels, WideRowsMatchDefinitionForEachPanelWidth) {
  std::mt19937 rng(17);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 60; ++trial) {
    WindowGeometry g;
    g.in[1] = pick(1, 6);
    g.kernel[1] = pick(1, 3);
    g.kernel[2] = pick(1, 5);
    g.stride[1] = pick(1, 2);
    g.dilation[1] = pick(1, 2);
    g.pad_begin[1] = pick(0, 2);
    g.pad_end[1] = pick(0, 2);
    g.pad_begin[2] = pick(0, 2);
    g.pad_end[2] = pick(0, 2);
    const bool aligned = trial % 2 == 1;
    const int64_t out_w = aligned ? 32 * pick(4, 9) : pick(128, 300);
    g.in[2] = out_w - g.pad_begin[2] - g.pad_end[2] + g.kernel[2] - 1;
    const int64_t span_h = g.in[1] + g.pad_begin[1] + g.pad_end[1] - g.dilation[1] * (g.kernel[1] - 1) - 1;
    if (span_h < 0) g.pad_end[1] -= span_h;
    g.out[1] = (g.in[1] + g.pad_begin[1] + g.pad_end[1] - g.dilation[1] * (g.kernel[1] - 1) - 1) / g.stride[1] + 1;
    g.out[2] = g.in[2] + g.pad_begin[2] + g.pad_end[2] - g.kernel[2] + 1;
    ASSERT_EQ(g.out[2], out_w);
    check_random_block(g, pick(1, 3), rng, trial, aligned);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace kiln::kernels
