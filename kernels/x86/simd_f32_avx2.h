// SIMD traits for 8-lane AVX2 float vectors with FMA3, used by *_avx2.cpp
// kernels. In an unnamed namespace for the reason given in simd_f32_sse.h.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace kiln::kernels::x86 {
namespace {

// Eight -1 then eight 0: loading 8 ints at kMaskTable + 8 - n enables n lanes.
alignas(64) constexpr int32_t kAvx2LaneMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

struct Avx2F32 {
  using Vec = __m256;
  static constexpr int kLanes = 8;

  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec set1(float x) { return _mm256_set1_ps(x); }
  static Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Vec load_aligned(const float* p) { return _mm256_load_ps(p); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }

  static __m256i lane_mask(size_t n) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kAvx2LaneMaskTable + 8 - n));
  }
  // The first n lanes (0 < n < kLanes); masked lanes are neither read nor written.
  static Vec load_partial(const float* p, size_t n) { return _mm256_maskload_ps(p, lane_mask(n)); }
  static void store_partial(float* p, Vec v, size_t n) { _mm256_maskstore_ps(p, lane_mask(n), v); }

  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec div(Vec a, Vec b) { return _mm256_div_ps(a, b); }
  static Vec min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }

  static Vec round_nearest(Vec x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Vec pow2(Vec n) {
    __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23));
  }
};

}  // namespace
}  // namespace kiln::kernels::x86
