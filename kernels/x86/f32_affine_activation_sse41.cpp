// f32_affine_activation_sse41: kernels/x86/f32_affine_activation_row.h over
// x86::SseF32 vectors.
#include "kernels/f32_affine_activation.h"
#include "kernels/x86/f32_affine_activation_row.h"
#include "kernels/x86/simd_f32_sse.h"

namespace kiln::kernels {

void f32_affine_activation_sse41(const float* x, float* y, size_t n, const F32AffineActivation& map) {
  x86::affine_activation<x86::SseF32>(x, y, n, map);
}

}  // namespace kiln::kernels
