// The avx2 depthwise kernels: kernels/x86/f32_dwconv_plane.h over 8-lane
// AVX2 + FMA vectors, 4 vectors (32 output columns) per block.
#include "kernels/f32_dwconv.h"
#include "kernels/x86/f32_dwconv_plane.h"
#include "kernels/x86/simd_f32_avx2.h"

namespace kiln::kernels {
namespace {

struct Avx2Dwconv : x86::Avx2F32 {
  static void split_even_odd(Vec a, Vec b, Vec& even, Vec& odd) {
    // In-lane shuffles give a0 a2 b0 b2 | a4 a6 b4 b6; swapping the middle
    // 64-bit quarters puts a's values before b's.
    even = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
    odd = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
  }
};

}  // namespace

void f32_dwconv_3x3s1_avx2(const WindowGeometry& g, const float* input, const float* weights,
                           const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<Avx2Dwconv, 3, 1, 4>(g, input, weights, epilogue, output, scratch);
}

void f32_dwconv_3x3s2_avx2(const WindowGeometry& g, const float* input, const float* weights,
                           const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<Avx2Dwconv, 3, 2, 4>(g, input, weights, epilogue, output, scratch);
}

void f32_dwconv_5x5s1_avx2(const WindowGeometry& g, const float* input, const float* weights,
                           const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<Avx2Dwconv, 5, 1, 4>(g, input, weights, epilogue, output, scratch);
}

void f32_dwconv_5x5s2_avx2(const WindowGeometry& g, const float* input, const float* weights,
                           const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<Avx2Dwconv, 5, 2, 4>(g, input, weights, epilogue, output, scratch);
}

}  // namespace kiln::kernels
