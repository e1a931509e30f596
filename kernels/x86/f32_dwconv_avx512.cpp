// The avx512 depthwise kernels: kernels/x86/f32_dwconv_plane.h over 16-lane
// AVX-512 vectors, 4 vectors (64 output columns) per block.
#include "kernels/f32_dwconv.h"
#include "kernels/x86/f32_dwconv_plane.h"
#include "kernels/x86/simd_f32_avx512.h"

namespace kiln::kernels {
namespace {

struct Avx512Dwconv : x86::Avx512F32 {
  static void split_even_odd(Vec a, Vec b, Vec& even, Vec& odd) {
    // Indices 0..15 pick from a, 16..31 from b.
    const __m512i even_index = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd_index = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    even = _mm512_permutex2var_ps(a, even_index, b);
    odd = _mm512_permutex2var_ps(a, odd_index, b);
  }
};

}  // namespace

void f32_dwconv_3x3s1_avx512(const WindowGeometry& g, const float* input, const float* weights,
                             const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<Avx512Dwconv, 3, 1, 4>(g, input, weights, epilogue, output, scratch);
}

void f32_dwconv_3x3s2_avx512(const WindowGeometry& g, const float* input, const float* weights,
                             const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<Avx512Dwconv, 3, 2, 4>(g, input, weights, epilogue, output, scratch);
}

void f32_dwconv_5x5s1_avx512(const WindowGeometry& g, const float* input, const float* weights,
                             const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<Avx512Dwconv, 5, 1, 4>(g, input, weights, epilogue, output, scratch);
}

void f32_dwconv_5x5s2_avx512(const WindowGeometry& g, const float* input, const float* weights,
                             const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<Avx512Dwconv, 5, 2, 4>(g, input, weights, epilogue, output, scratch);
}

}  // namespace kiln::kernels
