// f32_gemm_6x16_avx2: the avx2 instantiation of the GEMM microkernel in
// f32_gemm_tile.h, 6 rows x 2 vectors of Avx2F32.
#include "kernels/f32_gemm_microkernel.h"
#include "kernels/x86/f32_gemm_tile.h"
#include "kernels/x86/simd_f32_avx2.h"

namespace kiln::kernels {

void f32_gemm_6x16_avx2(size_t mr, size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c,
                        size_t ldc, const F32GemmTileEpilogue& epilogue) {
  x86::gemm_tile<x86::Avx2F32, 6, 2, 1>(mr, nr, kc, a_panel, b_panel, c, ldc, epilogue);
}

}  // namespace kiln::kernels
