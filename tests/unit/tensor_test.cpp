#include <gtest/gtest.h>
#include "kiln/tensor.h"
TEST(Tensor, HalfRoundTrip) { for (float f : {0.f, 1.f, -2.5f, 65504.f, 6.1e-5f, 1e-7f}) { float back = kiln::half_to_float(kiln::float_to_half(f)); EXPECT_NEAR(back, f, std::abs(f) * 1e-3 + 6e-8) << f; } }
