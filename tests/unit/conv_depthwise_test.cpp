// f32_conv_depthwise_plane (the depthwise path for shapes the fast kernels do
// not cover, and today also their twin) against its own reference twin
// f32_conv_depthwise_plane_reference, over 1-D, 2-D and 3-D windows with
// kernels 1..7, strides 1..3, dilations 1..2 and asymmetric pads, on images of
// 1, primes and sizes just past 4, 8 and 16, including images smaller than the
// window.
//
// Integer-valued inputs, weights, bias and affine (|sum| < 2^24) make both
// sides exact before the activation, which both apply to the same float: so
// the comparison is exact, for every activation. With real values and no
// activation, the kernel's float sum of K taps is within K * eps * sum |w x|
// (+ |bias|) of the exact one; the twin rounds once (eps/2 of the result).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/conv_depthwise.h"
#include "window_geometry_util.h"

namespace kiln::kernels {
namespace {

using testing::describe;
using testing::geometries;

TEST(ConvDepthwise, IntegerDataMatchesTheReferenceExactly) {
  std::mt19937 rng(4242);
  const Activation activations[] = {Activation::none,       Activation::relu,         Activation::clip,
                                    Activation::leaky_relu, Activation::hard_sigmoid, Activation::hard_swish,
                                    Activation::sigmoid,    Activation::swish};
  std::uniform_int_distribution<int> small(-8, 8);
  int compared = 0;
  for (const WindowGeometry& g : geometries(rng, 300)) {
    std::vector<float> x(static_cast<size_t>(g.input_size())), w(static_cast<size_t>(g.kernel_size()));
    for (float& v : x) v = static_cast<float>(small(rng));
    for (float& v : w) v = static_cast<float>(small(rng));
    const Activation a = activations[compared % std::size(activations)];
    F32DwconvEpilogue epilogue{static_cast<float>(small(rng)), a, 0.0f, 0.0f, 1.0f, 0.0f};
    if (a == Activation::clip) epilogue.param0 = -20.0f, epilogue.param1 = 30.0f;
    if (a == Activation::leaky_relu) epilogue.param0 = 0.25f;
    if (a == Activation::hard_sigmoid || a == Activation::hard_swish) epilogue.param0 = 0.125f, epilogue.param1 = 0.5f;
    if (compared % 3 == 0) epilogue.output_scale = 2.0f, epilogue.output_shift = -3.0f;
    const size_t n = static_cast<size_t>(g.output_size());
    constexpr float kSentinel = -1234.5f;
    std::vector<float> got(n + 1, kSentinel), want(n);
    f32_conv_depthwise_plane(g, x.data(), w.data(), epilogue, got.data());
    f32_conv_depthwise_plane_reference(g, x.data(), w.data(), epilogue, want.data());
    ASSERT_EQ(got[n], kSentinel) << describe(g) << ": wrote past the plane";
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(got[i], want[i]) << describe(g) << " activation " << activation_name(a) << " output " << i;
    ++compared;
  }
  EXPECT_EQ(compared, 300);
}

TEST(ConvDepthwise, RealDataMatchesTheReferenceWithinTheSumBound) {
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  for (const WindowGeometry& g : geometries(rng, 200)) {
    std::vector<float> x(static_cast<size_t>(g.input_size())), w(static_cast<size_t>(g.kernel_size()));
    for (float& v : x) v = value(rng);
    for (float& v : w) v = value(rng);
    const F32DwconvEpilogue epilogue{value(rng)};
    std::vector<float> abs_x(x), abs_w(w);
    for (float& v : abs_x) v = std::fabs(v);
    for (float& v : abs_w) v = std::fabs(v);
    const size_t n = static_cast<size_t>(g.output_size());
    std::vector<float> got(n), want(n), magnitude(n);
    f32_conv_depthwise_plane(g, x.data(), w.data(), epilogue, got.data());
    f32_conv_depthwise_plane_reference(g, x.data(), w.data(), epilogue, want.data());
    f32_conv_depthwise_plane_reference(g, abs_x.data(), abs_w.data(), F32DwconvEpilogue{std::fabs(epilogue.bias)},
                                       magnitude.data());
    const double taps = static_cast<double>(g.kernel_size()) + 1;  // and the bias
    for (size_t i = 0; i < n; ++i)
      ASSERT_NEAR(got[i], want[i], taps * FLT_EPSILON * magnitude[i] + FLT_EPSILON / 2 * std::fabs(want[i]))
          << describe(g) << " output " << i;
  }
}

}  // namespace
}  // namespace kiln::kernels
