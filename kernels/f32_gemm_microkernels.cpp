// The one inventory of f32 GEMM microkernels (see f32_gemm_microkernel.h).
#include <array>

#include "kernels/f32_gemm_microkernel.h"

namespace kiln::kernels {
namespace {

constexpr std::array<F32GemmMicrokernel, 4> kF32GemmMicrokernels = {{
    {"f32_gemm_4x8_sse2", Isa::sse2, 4, 8, 4, false, &f32_gemm_4x8_sse2},
    {"f32_gemm_4x8_sse41", Isa::sse41, 4, 8, 4, false, &f32_gemm_4x8_sse41},
    {"f32_gemm_6x16_avx2", Isa::avx2, 6, 16, 1, true, &f32_gemm_6x16_avx2},
    {"f32_gemm_8x32_avx512", Isa::avx512, 8, 32, 1, true, &f32_gemm_8x32_avx512},
}};

}  // namespace

std::span<const F32GemmMicrokernel> f32_gemm_microkernels() { return kF32GemmMicrokernels; }

const F32GemmMicrokernel& f32_gemm_microkernel_for(Isa isa) {
  const F32GemmMicrokernel* chosen = &kF32GemmMicrokernels.front();
  for (const F32GemmMicrokernel& kernel : kF32GemmMicrokernels)
    if (static_cast<int>(kernel.isa) <= static_cast<int>(isa)) chosen = &kernel;
  return *chosen;
}

}  // namespace kiln::kernels
