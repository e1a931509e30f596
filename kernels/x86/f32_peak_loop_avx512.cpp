// The avx512 peak loop of kernels/f32_peak.h (AVX-512, 16 lanes): the FMA loop of
// f32_peak_fma_loop.h over Avx512F32.
#include "kernels/f32_peak.h"
#include "kernels/x86/f32_peak_fma_loop.h"
#include "kernels/x86/simd_f32_avx512.h"

namespace kiln::kernels {

uint64_t f32_peak_loop_avx512(uint64_t iterations, float one, float* sink) {
  return x86::f32_peak_fma_loop<x86::Avx512F32>(iterations, one, sink);
}

}  // namespace kiln::kernels
