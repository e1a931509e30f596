// SIMD traits for 16-lane AVX-512 float vectors, used by *_avx512.cpp kernels.
// In an unnamed namespace for the reason given in simd_f32_sse.h.
#pragma once

#include <immintrin.h>

#include <cstddef>

// GCC 12 reports its own AVX-512 intrinsics (the _mm512_undefined_* they
// start from) as maybe-uninitialized once they are inlined; the warning is
// about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace kiln::kernels::x86 {
namespace {

struct Avx512F32 {
  using Vec = __m512;
  static constexpr int kLanes = 16;

  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec set1(float x) { return _mm512_set1_ps(x); }
  static Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Vec load_aligned(const float* p) { return _mm512_load_ps(p); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }

  static __mmask16 lane_mask(size_t n) { return static_cast<__mmask16>((1u << n) - 1); }
  // The first n lanes (0 < n < kLanes); masked lanes are neither read nor written.
  static Vec load_partial(const float* p, size_t n) { return _mm512_maskz_loadu_ps(lane_mask(n), p); }
  static void store_partial(float* p, Vec v, size_t n) { _mm512_mask_storeu_ps(p, lane_mask(n), v); }

  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec div(Vec a, Vec b) { return _mm512_div_ps(a, b); }
  static Vec min(Vec a, Vec b) { return _mm512_min_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }

  static Vec round_nearest(Vec x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Vec pow2(Vec n) {
    __m512i biased = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(biased, 23));
  }
};

}  // namespace
}  // namespace kiln::kernels::x86
