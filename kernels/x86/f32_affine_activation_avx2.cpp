// f32_affine_activation_avx2: kernels/x86/f32_affine_activation_row.h over
// x86::Avx2F32 vectors.
#include "kernels/f32_affine_activation.h"
#include "kernels/x86/f32_affine_activation_row.h"
#include "kernels/x86/simd_f32_avx2.h"

namespace kiln::kernels {

void f32_affine_activation_avx2(const float* x, float* y, size_t n, const F32AffineActivation& map) {
  x86::affine_activation<x86::Avx2F32>(x, y, n, map);
}

}  // namespace kiln::kernels
