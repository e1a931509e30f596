// The sse41 depthwise kernels: kernels/x86/f32_dwconv_plane.h over 4-lane
// SSE vectors (mul + add, no FMA), 4 vectors (16 output columns) per block.
#include "kernels/f32_dwconv.h"
#include "kernels/x86/f32_dwconv_plane.h"
#include "kernels/x86/simd_f32_sse.h"

namespace kiln::kernels {
namespace {

struct SseDwconv : x86::SseF32 {
  static void split_even_odd(Vec a, Vec b, Vec& even, Vec& odd) {
    even = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    odd = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  }
};

}  // namespace

void f32_dwconv_3x3s1_sse41(const WindowGeometry& g, const float* input, const float* weights,
                            const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<SseDwconv, 3, 1, 4>(g, input, weights, epilogue, output, scratch);
}

void f32_dwconv_3x3s2_sse41(const WindowGeometry& g, const float* input, const float* weights,
                            const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<SseDwconv, 3, 2, 4>(g, input, weights, epilogue, output, scratch);
}

void f32_dwconv_5x5s1_sse41(const WindowGeometry& g, const float* input, const float* weights,
                            const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<SseDwconv, 5, 1, 4>(g, input, weights, epilogue, output, scratch);
}

void f32_dwconv_5x5s2_sse41(const WindowGeometry& g, const float* input, const float* weights,
                            const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  x86::dwconv_plane<SseDwconv, 5, 2, 4>(g, input, weights, epilogue, output, scratch);
}

}  // namespace kiln::kernels
