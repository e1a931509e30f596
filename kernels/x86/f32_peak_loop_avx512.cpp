// The avx512 peak loop of kernels/f32_peak.h (AVX-512, 16 lanes): 12 chains of
// acc = acc * one + step, enough to keep two FMA pipelines of latency up to 6
// cycles busy.
#include <immintrin.h>

#include "kernels/f32_peak.h"

namespace kiln::kernels {

uint64_t f32_peak_loop_avx512(uint64_t iterations, float one, float* sink) {
  constexpr int kChains = 12;
  const __m512 factor = _mm512_set1_ps(one), step = _mm512_set1_ps(1e-7f);
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(0.0f);
  for (uint64_t round = 0; round < iterations; ++round)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], factor, step);
  __m512 total = _mm512_setzero_ps();
  for (int i = 0; i < kChains; ++i) total = _mm512_add_ps(total, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, total);
  *sink = lanes[0] + lanes[15];
  return iterations * kChains * 16 * 2;
}

}  // namespace kiln::kernels
