// max_pool_plane<float> and f32_average_pool_plane (kernels/pool.h) against
// their reference twins, over random 1-D, 2-D and 3-D window geometries
// (tests/unit/window_geometry_util.h), including windows that lie wholly in
// padding.
//
// Max is compared exactly (it does no arithmetic; the first of equal values
// wins and a NaN tap makes the output NaN in both). The fast
// average adds in float, rows first and then columns, where the reference
// adds in double in (kd, kh, kw) order: they may differ by the rounding of
// a float sum of the window's taps, at most about (taps - 1) * 2^-24 *
// sum |x| before the division, so the bound below is
// taps * 2^-23 * max |x|.
//
// Half of the geometries get one more output per dim where a window still
// starts inside the image + begin pad (what ceil_mode adds): its taps can
// reach past the end pad.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/pool.h"
#include "window_geometry_util.h"

namespace kiln::kernels {
namespace {

using testing::describe;
using testing::geometries;

// One more output per dim wherever its window would still start inside
// [-pad_begin, in): the extra window of ceil_mode, which may end past the
// end pad.
void add_ceil_mode_outputs(WindowGeometry& g) {
  for (int d = 0; d < WindowGeometry::kDims; ++d)
    if (g.out[d] * g.stride[d] - g.pad_begin[d] < g.in[d]) ++g.out[d];
}

TEST(PoolPlane, MaxWithIndicesMatchesTheReference) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> value(-5.0f, 5.0f);
  std::uniform_int_distribution<int> tie(-2, 2);  // many equal values: the first maximum must win
  int compared = 0;
  for (WindowGeometry g : geometries(rng, 400)) {
    if (compared % 8 >= 4) add_ceil_mode_outputs(g);
    const bool ties = compared % 2 == 1, column_major = compared % 4 >= 2;
    const int64_t index_base = compared * 1000;
    std::vector<float> x(static_cast<size_t>(g.input_size()));
    for (float& v : x) v = ties ? static_cast<float>(tie(rng)) : value(rng);
    if (compared % 5 == 4)  // a few NaNs: the first NaN's position is the index
      for (float& v : x)
        if (rng() % 8 == 0) v = std::numeric_limits<float>::quiet_NaN();
    const size_t n = static_cast<size_t>(g.output_size());
    constexpr float kSentinel = -1234.5f;
    std::vector<float> got(n + 1, kSentinel), want(n);
    std::vector<int64_t> got_index(n + 1, -7), want_index(n);
    max_pool_plane<float>(g, x.data(), got.data(), got_index.data(), index_base, column_major);
    f32_max_pool_plane_reference(g, x.data(), want.data(), want_index.data(), index_base, column_major);
    ASSERT_EQ(got[n], kSentinel) << describe(g) << ": wrote past the plane";
    ASSERT_EQ(got_index[n], -7) << describe(g) << ": wrote past the indices";
    for (size_t o = 0; o < n; ++o) {
      if (std::isnan(want[o])) ASSERT_TRUE(std::isnan(got[o])) << describe(g) << " output " << o;
      else ASSERT_EQ(got[o], want[o]) << describe(g) << " output " << o;
      ASSERT_EQ(got_index[o], want_index[o]) << describe(g) << (column_major ? " column-major" : " row-major")
                                             << (ties ? " with ties" : "") << " output " << o;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 400);
}

// Without indices the kernel combines rows, then columns (kernels/pool.cpp);
// the values must still be the reference's, NaN included (any NaN tap inside
// the image makes the output NaN, whichever order the taps are visited in).
TEST(PoolPlane, MaxMatchesTheReference) {
  std::mt19937 rng(19);
  std::uniform_real_distribution<float> value(-5.0f, 5.0f);
  std::uniform_int_distribution<int> percent(0, 99);
  int compared = 0, nans_out = 0;
  for (WindowGeometry g : geometries(rng, 600)) {
    if (compared % 2 == 1) add_ceil_mode_outputs(g);
    const bool with_nans = compared % 3 == 2;
    std::vector<float> x(static_cast<size_t>(g.input_size()));
    for (float& v : x) v = with_nans && percent(rng) < 10 ? std::numeric_limits<float>::quiet_NaN() : value(rng);
    const size_t n = static_cast<size_t>(g.output_size());
    constexpr float kSentinel = -1234.5f;
    std::vector<float> got(n + 1, kSentinel), want(n);
    max_pool_plane<float>(g, x.data(), got.data(), nullptr, 0, false);
    f32_max_pool_plane_reference(g, x.data(), want.data(), nullptr, 0, false);
    ASSERT_EQ(got[n], kSentinel) << describe(g) << ": wrote past the plane";
    for (size_t o = 0; o < n; ++o) {
      if (std::isnan(want[o])) {
        ASSERT_TRUE(std::isnan(got[o])) << describe(g) << " output " << o << ": " << got[o] << ", want NaN";
        ++nans_out;
      } else {
        ASSERT_EQ(got[o], want[o]) << describe(g) << (with_nans ? " with NaNs" : "") << " output " << o;
      }
    }
    ++compared;
  }
  EXPECT_EQ(compared, 600);
  EXPECT_GT(nans_out, 0);  // the NaN rule was exercised
}

// The integer instantiations take the same row path.
TEST(PoolPlane, MaxUint8AndInt8MatchTheFloatReference) {
  std::mt19937 rng(29);
  int compared = 0;
  for (WindowGeometry g : geometries(rng, 200)) {
    if (compared % 2 == 1) add_ceil_mode_outputs(g);
    const size_t size = static_cast<size_t>(g.input_size()), n = static_cast<size_t>(g.output_size());
    std::vector<uint8_t> xu(size);
    std::vector<int8_t> xs(size);
    std::vector<float> xf(size), xsf(size);
    for (size_t i = 0; i < size; ++i) {
      xu[i] = static_cast<uint8_t>(rng());
      xs[i] = static_cast<int8_t>(xu[i] ^ 0x5a);
      xf[i] = xu[i];
      xsf[i] = xs[i];
    }
    std::vector<uint8_t> got_u(n);
    std::vector<int8_t> got_s(n);
    std::vector<float> want_u(n), want_s(n);
    max_pool_plane<uint8_t>(g, xu.data(), got_u.data(), nullptr, 0, false);
    max_pool_plane<int8_t>(g, xs.data(), got_s.data(), nullptr, 0, false);
    f32_max_pool_plane_reference(g, xf.data(), want_u.data(), nullptr, 0, false);
    f32_max_pool_plane_reference(g, xsf.data(), want_s.data(), nullptr, 0, false);
    for (size_t o = 0; o < n; ++o) {
      // A window wholly in padding: lowest() of each type.
      const float wu = want_u[o] == std::numeric_limits<float>::lowest() ? 0.0f : want_u[o];
      const float ws = want_s[o] == std::numeric_limits<float>::lowest() ? -128.0f : want_s[o];
      ASSERT_EQ(got_u[o], wu) << describe(g) << " uint8 output " << o;
      ASSERT_EQ(got_s[o], ws) << describe(g) << " int8 output " << o;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 200);
}

TEST(PoolPlane, AverageMatchesTheReference) {
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> value(-5.0f, 5.0f);
  int compared = 0;
  for (WindowGeometry g : geometries(rng, 400)) {
    if (compared % 4 >= 2) add_ceil_mode_outputs(g);
    const bool count_include_pad = compared % 2 == 1;
    std::vector<float> x(static_cast<size_t>(g.input_size()));
    for (float& v : x) v = value(rng);
    const size_t n = static_cast<size_t>(g.output_size());
    constexpr float kSentinel = -1234.5f;
    std::vector<float> got(n + 1, kSentinel), want(n);
    f32_average_pool_plane(g, count_include_pad, x.data(), got.data());
    f32_average_pool_plane_reference(g, count_include_pad, x.data(), want.data());
    ASSERT_EQ(got[n], kSentinel) << describe(g) << ": wrote past the plane";
    for (size_t o = 0; o < n; ++o)
      ASSERT_NEAR(got[o], want[o], static_cast<float>(g.kernel_size()) * 5.0f * 0x1p-23f)
          << describe(g) << (count_include_pad ? " count_include_pad" : "") << " output " << o;
    ++compared;
  }
  EXPECT_EQ(compared, 400);
}

}  // namespace
}  // namespace kiln::kernels
