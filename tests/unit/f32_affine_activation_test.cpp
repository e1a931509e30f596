// The f32_affine_activation kernels against their reference twin, for every
// kernel this CPU runs: every activation, row lengths around the vector
// widths (tails), in place and out of place. The SIMD kernels use FMA where
// the ISA has it and a polynomial exp for sigmoid/swish, so they may differ
// from the reference by a few ulp of the pre-activation value and 2e-6 for
// the exp: bound 8 eps (|v| * lip + |y|) + 2e-6.
#include "kernels/f32_affine_activation.h"
#include "kernels/kernel_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace kiln::kernels {
namespace {

constexpr float kEps = std::numeric_limits<float>::epsilon();

const Activation kActivations[] = {Activation::none,       Activation::relu,         Activation::clip,
                                   Activation::leaky_relu, Activation::hard_sigmoid, Activation::hard_swish,
                                   Activation::sigmoid,    Activation::swish};

// One test per kernel of the inventory, so a kernel this CPU cannot run is a
// reported skip rather than a silent omission.
class F32AffineActivationKernelTest : public ::testing::TestWithParam<size_t> {};

TEST_P(F32AffineActivationKernelTest, MatchesTheReference) {
  const F32AffineActivationKernel& kernel = f32_affine_activation_kernels()[GetParam()];
  if (!cpu_info().supports(kernel.isa)) GTEST_SKIP() << "this CPU lacks " << isa_name(kernel.isa) << " for " << kernel.name;
  std::mt19937 rng(31);
  std::uniform_real_distribution<float> value(-6.0f, 6.0f);
  int checked = 0;
  SCOPED_TRACE(kernel.name);
  for (Activation activation : kActivations) {
    for (size_t n : {size_t(0), size_t(1), size_t(3), size_t(4), size_t(7), size_t(15), size_t(16), size_t(17),
                     size_t(31), size_t(33), size_t(100), size_t(1000)}) {
      F32AffineActivation map{value(rng), value(rng) * 0.5f, value(rng), activation, 0.0f, 0.0f};
      if (activation == Activation::clip) map.param0 = -1.0f, map.param1 = 2.5f;
      if (activation == Activation::leaky_relu) map.param0 = 0.2f;
      if (activation == Activation::hard_sigmoid || activation == Activation::hard_swish)
        map.param0 = 1.0f / 6.0f, map.param1 = 0.5f;
      std::vector<float> x(n + 1), want(n + 1, -7.0f), got(n + 1, -7.0f);
      for (float& v : x) v = value(rng);
      f32_affine_activation_reference(x.data(), want.data(), n, map);
      kernel.run(x.data(), got.data(), n, map);
      std::vector<float> in_place(x);
      kernel.run(in_place.data(), in_place.data(), n, map);
      ASSERT_EQ(got[n], -7.0f) << "wrote past the row, n = " << n;
      for (size_t i = 0; i < n; ++i) {
        const float v = (x[i] - map.center) * map.multiplier;
        const double bound = 8 * kEps * (2 * (std::fabs(v) + std::fabs(map.offset)) + std::fabs(want[i])) + 2e-6;
        ASSERT_NEAR(got[i], want[i], bound) << activation_name(activation) << " n=" << n << " i=" << i;
        ASSERT_EQ(in_place[i], got[i]) << "in place differs, " << activation_name(activation) << " i=" << i;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, int(std::size(kActivations)) * 12);  // every activation at every length
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, F32AffineActivationKernelTest,
                         ::testing::Range(size_t(0), f32_affine_activation_kernels().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return std::string(f32_affine_activation_kernels()[info.param].name);
                         });

TEST(F32AffineActivation, SelectedKernelFollowsTheIsa) {
  const F32AffineActivationKernel& selected = *KernelTable::for_isa(selected_isa()).f32_affine_activation;
  EXPECT_EQ(selected.isa, selected_isa()) << selected.name;
}

}  // namespace
}  // namespace kiln::kernels
