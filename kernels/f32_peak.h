// The float32 multiply-add peak of one core at each ISA level, measured on
// the machine it runs on: `kiln info`, `kiln profile` and the benchmarks
// express GFLOP/s as a share of it. A fixed table would be wrong on the next
// machine (Zen 4 runs a 512-bit FMA at half the rate of two 256-bit ones,
// Zen 5 at the full rate).
//
// Each ISA's loop keeps independent chains of register-only arithmetic in
// flight; nothing is loaded or stored. SSE levels (f32_peak.cpp, baseline
// x86-64): 7 chains of multiplies and 7 of adds, filling two multiply and two
// add pipelines of latency up to 3 cycles (one of each up to 7); a mul and an
// add count 2 FLOP per lane. AVX2 and AVX-512 (kernels/x86/f32_peak_fma_loop.h,
// one instantiation per kernels/x86/f32_peak_loop_*.cpp): 12 chains of FMA,
// filling two FMA pipelines of latency up to 6; an FMA counts 2 FLOP per lane.
#pragma once

#include <cstdint>

#include "platform/cpu_info.h"

namespace kiln::kernels {

// One call of a peak loop: `iterations` rounds of its chains; returns the
// FLOP it did. `one` must be 1.0f (passed in so that the compiler cannot
// fold the arithmetic away); the result is written to *sink.
using F32PeakLoopFn = uint64_t (*)(uint64_t iterations, float one, float* sink);
uint64_t f32_peak_loop_sse2(uint64_t iterations, float one, float* sink);
uint64_t f32_peak_loop_avx2(uint64_t iterations, float one, float* sink);
uint64_t f32_peak_loop_avx512(uint64_t iterations, float one, float* sink);

// `isa`'s loop (sse2 and sse41 share the SSE one). The caller checks that
// the CPU supports `isa`.
F32PeakLoopFn f32_peak_loop_for(Isa isa);

// GFLOP/s of one core at `isa`: the best of five timed runs of about 4 ms of
// its peak loop on the calling thread (after about 10 ms of warm-up, so the
// clock has ramped up), measured once per ISA and process and then cached
// (about 30 ms the first time). Throws kiln::Error when this CPU lacks `isa`.
double f32_peak_gflops_per_core(Isa isa);

// The name of `isa`'s figure: "sse" for sse2 and sse41 (one loop, one
// figure), else isa_name(isa).
inline const char* f32_peak_name(Isa isa) { return isa == Isa::sse2 || isa == Isa::sse41 ? "sse" : isa_name(isa); }

}  // namespace kiln::kernels
