// max_pool_plane<float> and f32_average_pool_plane (kernels/pool.h) against
// their reference twins, over random 1-D, 2-D and 3-D window geometries
// (tests/unit/window_geometry_util.h), including windows that lie wholly in
// padding.
//
// The comparison is exact: max does no arithmetic, and both averages add the
// window's inside taps in the same (kd, kh, kw) order in double and divide
// by the same count, rounding once.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/pool.h"
#include "window_geometry_util.h"

namespace kiln::kernels {
namespace {

using testing::describe;
using testing::geometries;

TEST(PoolPlane, MaxMatchesTheReference) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> value(-5.0f, 5.0f);
  std::uniform_int_distribution<int> tie(-2, 2);  // many equal values: the first maximum must win
  int compared = 0;
  for (const WindowGeometry& g : geometries(rng, 400)) {
    const bool ties = compared % 2 == 1, column_major = compared % 4 >= 2;
    const int64_t index_base = compared * 1000;
    std::vector<float> x(static_cast<size_t>(g.input_size()));
    for (float& v : x) v = ties ? static_cast<float>(tie(rng)) : value(rng);
    const size_t n = static_cast<size_t>(g.output_size());
    constexpr float kSentinel = -1234.5f;
    std::vector<float> got(n + 1, kSentinel), want(n);
    std::vector<int64_t> got_index(n + 1, -7), want_index(n);
    max_pool_plane<float>(g, x.data(), got.data(), got_index.data(), index_base, column_major);
    f32_max_pool_plane_reference(g, x.data(), want.data(), want_index.data(), index_base, column_major);
    ASSERT_EQ(got[n], kSentinel) << describe(g) << ": wrote past the plane";
    ASSERT_EQ(got_index[n], -7) << describe(g) << ": wrote past the indices";
    for (size_t o = 0; o < n; ++o) {
      ASSERT_EQ(got[o], want[o]) << describe(g) << " output " << o;
      ASSERT_EQ(got_index[o], want_index[o]) << describe(g) << (column_major ? " column-major" : " row-major")
                                             << (ties ? " with ties" : "") << " output " << o;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 400);
}

TEST(PoolPlane, AverageMatchesTheReference) {
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> value(-5.0f, 5.0f);
  int compared = 0;
  for (const WindowGeometry& g : geometries(rng, 400)) {
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
      ASSERT_EQ(got[o], want[o]) << describe(g) << (count_include_pad ? " count_include_pad" : "") << " output " << o;
    ++compared;
  }
  EXPECT_EQ(compared, 400);
}

}  // namespace
}  // namespace kiln::kernels
