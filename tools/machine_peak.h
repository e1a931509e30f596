// Peak float32 multiply-add throughput per core for each ISA level, used by
// `kiln profile` to show how close Conv/Gemm/MatMul nodes come to the machine.
//
// Figures are GFLOP/s per core (1 MAC = 2 FLOP), measured-class numbers for the
// Zen 4 machine kiln is developed on (2 x 256-bit FMA pipes at ~3.7 GHz):
//   sse2, sse41 : 42 GFLOP/s  4-wide mul + add (no FMA), two pipes
//   avx2        : 118 GFLOP/s 8-wide FMA, two pipes
//   avx512      : 118 GFLOP/s Zen 4 splits 512-bit FMAs into two 256-bit halves,
//                 so the peak equals AVX2's
// On other CPUs the percentages are indicative only.
#pragma once

#include "runtime/cpu_info.h"

namespace kiln::cli {

struct IsaPeak {
  Isa isa;
  double gflops_per_core;
};

inline constexpr IsaPeak kIsaPeaks[] = {
    {Isa::sse2, 42.0},
    {Isa::sse41, 42.0},
    {Isa::avx2, 118.0},
    {Isa::avx512, 118.0},
};

inline double peak_gflops_per_core(Isa isa) {
  for (const IsaPeak& peak : kIsaPeaks)
    if (peak.isa == isa) return peak.gflops_per_core;
  return kIsaPeaks[0].gflops_per_core;
}

}  // namespace kiln::cli
