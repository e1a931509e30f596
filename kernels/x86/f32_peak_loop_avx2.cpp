// The avx2 peak loop of kernels/f32_peak.h (AVX2 + FMA, 8 lanes): 12 chains of
// acc = acc * one + step, enough to keep two FMA pipelines of latency up to 6
// cycles busy.
#include <immintrin.h>

#include "kernels/f32_peak.h"

namespace kiln::kernels {

uint64_t f32_peak_loop_avx2(uint64_t iterations, float one, float* sink) {
  constexpr int kChains = 12;
  const __m256 factor = _mm256_set1_ps(one), step = _mm256_set1_ps(1e-7f);
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(0.0f);
  for (uint64_t round = 0; round < iterations; ++round)
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], factor, step);
  __m256 total = _mm256_setzero_ps();
  for (int i = 0; i < kChains; ++i) total = _mm256_add_ps(total, acc[i]);
  __m128 lanes = _mm_add_ps(_mm256_castps256_ps128(total), _mm256_extractf128_ps(total, 1));
  _mm_store_ss(sink, lanes);
  return iterations * kChains * 8 * 2;
}

}  // namespace kiln::kernels
