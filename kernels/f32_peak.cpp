#include "kernels/f32_peak.h"

#include <xmmintrin.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "kiln/error.h"

namespace kiln::kernels {

// SSE (baseline x86-64): 7 chains of x = x * one and 7 of acc = acc + x, so
// the multiplies and the adds go to their own pipelines; 14 accumulators and
// the factor fit the 16 XMM registers (8 + 8 chains spilled and ran at a
// third of the rate).
uint64_t f32_peak_loop_sse2(uint64_t iterations, float one, float* sink) {
  constexpr int kChains = 7;
  const __m128 factor = _mm_set1_ps(one);
  __m128 x[kChains], acc[kChains];
  for (int i = 0; i < kChains; ++i) {
    x[i] = _mm_set1_ps(1e-6f * float(i + 1));
    acc[i] = _mm_setzero_ps();
  }
  for (uint64_t round = 0; round < iterations; ++round)
    for (int i = 0; i < kChains; ++i) {
      x[i] = _mm_mul_ps(x[i], factor);
      acc[i] = _mm_add_ps(acc[i], x[i]);
    }
  __m128 total = _mm_setzero_ps();
  for (int i = 0; i < kChains; ++i) total = _mm_add_ps(total, acc[i]);
  _mm_store_ss(sink, total);
  return iterations * kChains * 4 * 2;
}

F32PeakLoopFn f32_peak_loop_for(Isa isa) {
  switch (isa) {
    case Isa::sse2:
    case Isa::sse41:
      return &f32_peak_loop_sse2;
    case Isa::avx2:
      return &f32_peak_loop_avx2;
    case Isa::avx512:
      return &f32_peak_loop_avx512;
  }
  return &f32_peak_loop_sse2;
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double measure_gflops(F32PeakLoopFn loop) {
  float sink = 0;
  // Warm up (the clock ramps up under load) and size one run to about 4 ms.
  uint64_t iterations = 1024;
  auto warm_start = std::chrono::steady_clock::now();
  while (seconds_since(warm_start) < 0.010) {
    auto start = std::chrono::steady_clock::now();
    loop(iterations, 1.0f, &sink);
    if (seconds_since(start) < 0.004) iterations *= 2;
  }
  double best = 0;
  for (int run = 0; run < 5; ++run) {
    auto start = std::chrono::steady_clock::now();
    uint64_t flops = loop(iterations, 1.0f, &sink);
    best = std::max(best, double(flops) / seconds_since(start) / 1e9);
  }
  return best;
}

}  // namespace

double f32_peak_gflops_per_core(Isa isa) {
  if (!cpu_info().supports(isa))
    fail("cannot measure the ", isa_name(isa), " peak: this CPU (", cpu_info().brand, ") does not support ",
         isa_name(isa));
  static std::mutex mutex;
  static double measured[4] = {};
  std::lock_guard<std::mutex> lock(mutex);
  // sse2 and sse41 share one loop and one figure.
  const int slot = isa == Isa::sse41 ? int(Isa::sse2) : int(isa);
  if (measured[slot] == 0) measured[slot] = measure_gflops(f32_peak_loop_for(isa));
  return measured[slot];
}

}  // namespace kiln::kernels
