#include <gtest/gtest.h>
#include "kiln/tensor.h"
// Tolerance: half has an 11-bit significand, so rounding a float to it moves a
// normal value by at most 2^-11 relative (4.9e-4 < 1e-3); values below half's
// smallest normal (6.1e-5) keep an absolute step of 2^-24 = 6e-8.
TEST(Tensor, HalfRoundTrip) { for (float f : {0.f, 1.f, -2.5f, 65504.f, 6.1e-5f, 1e-7f}) { float back = kiln::half_to_float(kiln::float_to_half(f)); EXPECT_NEAR(back, f, std::abs(f) * 1e-3 + 6e-8) << f; } }

namespace kiln {
namespace {

// A moved-from Tensor must not look defined with no storage behind it (the
// executor's arena reuse once took such a husk for an arena and quietly ran
// every later inference without one).
TEST(TensorMove, MovedFromTensorIsUndefined) {
  Tensor a = Tensor::from_floats({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = std::move(a);
  EXPECT_FALSE(a.defined());  // NOLINT(bugprone-use-after-move): the state after a move is the point
  EXPECT_EQ(a.size(), 0);
  EXPECT_EQ(a.storage(), nullptr);
  ASSERT_TRUE(b.defined());
  EXPECT_EQ(b.shape(), (Shape{2, 3}));
  EXPECT_EQ(b.data<float>()[5], 6.0f);
  Tensor c;
  c = std::move(b);
  EXPECT_FALSE(b.defined());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.data<float>()[0], 1.0f);
  Tensor copy = c;  // copies share storage and stay defined
  EXPECT_TRUE(c.defined());
  EXPECT_EQ(copy.storage(), c.storage());
}

}  // namespace
}  // namespace kiln
