// kernels/f32_peak: the peak loops do the arithmetic they count, and the
// measured peak is a positive figure, measured once per ISA.
#include "kernels/f32_peak.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "kiln/error.h"

namespace kiln::kernels {
namespace {

struct PeakLoop {
  Isa isa;
  F32PeakLoopFn fn;
  uint64_t flops_per_iteration;
  double sink_per_iteration;  // the chains' sum as written to *sink
};

const PeakLoop kPeakLoops[] = {
    // 7 chains x 4 lanes of mul + add; lane 0 of x_i is 1e-6 * (i + 1), summed.
    {Isa::sse2, &f32_peak_loop_sse2, 7 * 4 * 2, 1e-6 * (1 + 2 + 3 + 4 + 5 + 6 + 7)},
    // 12 chains of FMA adding 1e-7; the sink adds two lanes of the sum.
    {Isa::avx2, &f32_peak_loop_avx2, 12 * 8 * 2, 2 * 12 * 1e-7},
    {Isa::avx512, &f32_peak_loop_avx512, 12 * 16 * 2, 2 * 12 * 1e-7},
};

// One test per loop, so a loop this CPU cannot run is a reported skip.
class F32PeakLoop : public ::testing::TestWithParam<PeakLoop> {};

// Every loop adds a known step per iteration to each chain, so the sum it
// writes to *sink shows that all iterations of all chains ran.
TEST_P(F32PeakLoop, DoesTheIterationsItCounts) {
  const PeakLoop& loop = GetParam();
  if (!cpu_info().supports(loop.isa)) GTEST_SKIP() << "this CPU lacks " << isa_name(loop.isa);
  for (uint64_t iterations : {1u, 1000u, 20000u}) {
    float sink = -1;
    EXPECT_EQ(loop.fn(iterations, 1.0f, &sink), iterations * loop.flops_per_iteration) << isa_name(loop.isa);
    // Tolerance 1%: each chain is a float32 running sum of up to 20000 equal
    // steps, and each add rounds by at most half an ulp of the sum (2^-24
    // relative), so the drift stays below 20000 * 2^-24 = 0.12%; a skipped
    // iteration or chain moves the sum by far more than 1% (1/7 or 1/12).
    EXPECT_NEAR(sink, iterations * loop.sink_per_iteration, 0.01 * iterations * loop.sink_per_iteration)
        << isa_name(loop.isa) << " after " << iterations << " iterations";
  }
}

INSTANTIATE_TEST_SUITE_P(EveryLoop, F32PeakLoop, ::testing::ValuesIn(kPeakLoops),
                         [](const ::testing::TestParamInfo<PeakLoop>& info) { return std::string(isa_name(info.param.isa)); });

class F32PeakIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(F32PeakIsa, MeasuredOnceAndPositive) {
  const Isa isa = GetParam();
  if (!cpu_info().supports(isa)) GTEST_SKIP() << "this CPU lacks " << isa_name(isa);
  const double peak = f32_peak_gflops_per_core(isa);
  EXPECT_TRUE(std::isfinite(peak) && peak > 0) << isa_name(isa) << ": " << peak;
  EXPECT_EQ(f32_peak_gflops_per_core(isa), peak) << isa_name(isa) << " was measured again";
  // SSE4.1 adds nothing to the mul + add loop: it shares SSE2's figure.
  if (isa == Isa::sse41) {
    EXPECT_EQ(peak, f32_peak_gflops_per_core(Isa::sse2));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryIsa, F32PeakIsa, ::testing::Values(Isa::sse2, Isa::sse41, Isa::avx2, Isa::avx512),
                         [](const ::testing::TestParamInfo<Isa>& info) { return std::string(isa_name(info.param)); });

TEST(F32Peak, UnsupportedIsaIsAnError) {
  if (cpu_info().supports(Isa::avx512)) GTEST_SKIP() << "this CPU supports every level";
  const Isa missing = cpu_info().supports(Isa::avx2) ? Isa::avx512 : Isa::avx2;
  try {
    f32_peak_gflops_per_core(missing);
    ADD_FAILURE() << "no error for " << isa_name(missing);
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(isa_name(missing)), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace kiln::kernels
