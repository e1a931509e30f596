// The avx2 peak loop of kernels/f32_peak.h (AVX2 + FMA, 8 lanes): the FMA loop of
// f32_peak_fma_loop.h over Avx2F32.
#include "kernels/f32_peak.h"
#include "kernels/x86/f32_peak_fma_loop.h"
#include "kernels/x86/simd_f32_avx2.h"

namespace kiln::kernels {

uint64_t f32_peak_loop_avx2(uint64_t iterations, float one, float* sink) {
  return x86::f32_peak_fma_loop<x86::Avx2F32>(iterations, one, sink);
}

}  // namespace kiln::kernels
