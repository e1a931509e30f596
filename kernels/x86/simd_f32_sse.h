// SIMD traits for 4-lane SSE float vectors, used by the *_sse2.cpp and
// *_sse41.cpp kernels. Only SSE2 instructions, except round_nearest, which
// uses SSE4.1's roundps when the including file is built with -msse4.1.
//
// Everything sits in an unnamed namespace: each kernel file is compiled with
// its own ISA flags, and must keep its own copy of these inline functions
// rather than let the linker merge copies built for different ISAs.
#pragma once

#include <emmintrin.h>
#ifdef __SSE4_1__
#include <smmintrin.h>
#endif

#include <cstddef>

namespace kiln::kernels::x86 {
namespace {

struct SseF32 {
  using Vec = __m128;
  static constexpr int kLanes = 4;

  static Vec zero() { return _mm_setzero_ps(); }
  static Vec set1(float x) { return _mm_set1_ps(x); }
  static Vec broadcast(const float* p) { return _mm_load1_ps(p); }
  static Vec load_aligned(const float* p) { return _mm_load_ps(p); }
  static Vec load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm_storeu_ps(p, v); }

  // The first n lanes (0 < n < kLanes), by a 2/1 cascade; other lanes are 0.
  static Vec load_partial(const float* p, size_t n) {
    Vec low_pair = _mm_setzero_ps();
    if (n & 2) low_pair = _mm_loadl_pi(low_pair, reinterpret_cast<const __m64*>(p));
    if (!(n & 1)) return low_pair;
    Vec single = _mm_load_ss(p + (n & 2));
    return (n & 2) ? _mm_movelh_ps(low_pair, single) : single;
  }
  static void store_partial(float* p, Vec v, size_t n) {
    if (n & 2) {
      _mm_storel_pi(reinterpret_cast<__m64*>(p), v);
      v = _mm_movehl_ps(v, v);
      p += 2;
    }
    if (n & 1) _mm_store_ss(p, v);
  }

  static Vec add(Vec a, Vec b) { return _mm_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm_mul_ps(a, b); }
  static Vec div(Vec a, Vec b) { return _mm_div_ps(a, b); }
  static Vec min(Vec a, Vec b) { return _mm_min_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm_max_ps(a, b); }
  // a * b + c with two roundings: the SSE target has no FMA.
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }

  // Round to the nearest integer (|x| < 2^31).
  static Vec round_nearest(Vec x) {
#ifdef __SSE4_1__
    return _mm_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#else
    return _mm_cvtepi32_ps(_mm_cvtps_epi32(x));
#endif
  }
  // 2^n for integer-valued n in [-126, 127], built in the exponent field.
  static Vec pow2(Vec n) {
    __m128i biased = _mm_add_epi32(_mm_cvtps_epi32(n), _mm_set1_epi32(127));
    return _mm_castsi128_ps(_mm_slli_epi32(biased, 23));
  }
};

}  // namespace
}  // namespace kiln::kernels::x86
