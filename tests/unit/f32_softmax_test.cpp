// f32_softmax and f32_log_softmax (kernels/f32_softmax.h) against their
// reference twins, on [n, inner] blocks with n and inner 0, 1, primes and
// sizes just past 4, 8 and 16, out of place and in place.
//
// Tolerance, with R the range (max - min) of the column and eps = FLT_EPSILON:
// the kernel rounds x - max to float (error eps/2 * R, which becomes a
// relative error of exp), float exp adds 1 ulp, 1/sum and the product each
// round once; the sum itself is in double (n * DBL_EPSILON). So softmax is
// within |want| * (eps * (R + 4) + n * DBL_EPSILON). For log-softmax the same
// relative error of the sum becomes an absolute error of its log, plus the
// roundings of x - max, of log(sum) (|log sum| <= log n) and of the result:
// eps * (|want| + R + log n + 4) + n * DBL_EPSILON.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/f32_softmax.h"

namespace kiln::kernels {
namespace {

void check(bool log, const std::vector<float>& x, const std::vector<float>& got, const std::vector<float>& want,
           int64_t n, int64_t inner, const char* how) {
  for (int64_t j = 0; j < inner; ++j) {
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, x[i * inner + j]);
      hi = std::max(hi, x[i * inner + j]);
    }
    const double range = static_cast<double>(hi) - lo;
    for (int64_t i = 0; i < n; ++i) {
      const size_t at = static_cast<size_t>(i * inner + j);
      const double w = want[at];
      const double bound =
          log ? FLT_EPSILON * (std::fabs(w) + range + std::log(static_cast<double>(n)) + 4) + n * DBL_EPSILON
              : std::fabs(w) * (FLT_EPSILON * (range + 4) + n * DBL_EPSILON);
      ASSERT_NEAR(got[at], w, bound) << (log ? "log_softmax" : "softmax") << " " << how << ", n=" << n
                                     << " inner=" << inner << " at (" << i << ", " << j << ")";
    }
  }
}

TEST(F32Softmax, MatchesTheReference) {
  std::mt19937 rng(613);
  // exp of [-10, 10] stays far from overflow and underflow in the twin.
  std::uniform_real_distribution<float> value(-10.0f, 10.0f);
  int compared = 0;
  for (bool log : {false, true}) {
    for (int64_t n : {0, 1, 2, 3, 5, 7, 9, 16, 17, 33, 100, 1000}) {
      for (int64_t inner : {0, 1, 2, 3, 5, 17}) {
        const size_t size = static_cast<size_t>(n * inner);
        std::vector<float> x(size + 1);
        for (float& v : x) v = value(rng);
        constexpr float kSentinel = -1234.5f;
        std::vector<float> got(size + 1, kSentinel), want(size);
        (log ? f32_log_softmax : f32_softmax)(x.data(), got.data(), n, inner);
        (log ? f32_log_softmax_reference : f32_softmax_reference)(x.data(), want.data(), n, inner);
        ASSERT_EQ(got[size], kSentinel) << "wrote past the block, n=" << n << " inner=" << inner;
        check(log, x, got, want, n, inner, "out of place");
        if (HasFatalFailure()) return;
        std::vector<float> in_place(x);
        (log ? f32_log_softmax : f32_softmax)(in_place.data(), in_place.data(), n, inner);
        for (size_t i = 0; i < size; ++i)
          ASSERT_EQ(in_place[i], got[i]) << "in place differs, n=" << n << " inner=" << inner << " i=" << i;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 2 * 12 * 6);
}

// A row of equal values is uniform whatever its level; the max shift keeps
// it finite even where exp(x) alone would overflow.
TEST(F32Softmax, LargeEqualValuesGiveAUniformRow) {
  for (int64_t n : {1, 7, 17}) {
    std::vector<float> x(static_cast<size_t>(n), 200.0f), y(static_cast<size_t>(n));
    f32_softmax(x.data(), y.data(), n, 1);
    for (float v : y) EXPECT_NEAR(v, 1.0 / n, FLT_EPSILON / n) << "n=" << n;
    f32_log_softmax(x.data(), y.data(), n, 1);
    for (float v : y) EXPECT_NEAR(v, -std::log(static_cast<double>(n)), 4 * FLT_EPSILON) << "n=" << n;
  }
}

}  // namespace
}  // namespace kiln::kernels
