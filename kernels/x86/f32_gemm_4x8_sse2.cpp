// f32_gemm_4x8_sse2: the sse2 instantiation of the GEMM microkernel in
// f32_gemm_tile.h, 4 rows x 2 vectors of SseF32.
#include "kernels/f32_gemm_microkernel.h"
#include "kernels/x86/f32_gemm_tile.h"
#include "kernels/x86/simd_f32_sse.h"

namespace kiln::kernels {

void f32_gemm_4x8_sse2(size_t mr, size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c,
                       size_t ldc, const F32GemmTileEpilogue& epilogue) {
  x86::gemm_tile<x86::SseF32, 4, 2, 4>(mr, nr, kc, a_panel, b_panel, c, ldc, epilogue);
}

}  // namespace kiln::kernels
