#include <algorithm>

#include "kernels/f32_gemm_packed.h"
#include "kernels/gemm.h"

namespace kiln::kernels {

// The general GEMM on top of the packed path: A (times alpha) is packed per
// call, on the GEMM's threads. With beta == 0 the packed GEMM stores into C
// without reading it; beta other than 0 and 1 is applied to C first, then the
// packed GEMM accumulates into it.
void f32_gemm(const F32GemmMicrokernel& kernel, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
              float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc, int threads) {
  if (m <= 0 || n <= 0) return;
  const bool product_is_zero = alpha == 0.0f || k <= 0;
  if (beta != 1.0f && (beta != 0.0f || product_is_zero)) {
    for (int64_t i = 0; i < m; ++i) {
      float* c_row = c + i * ldc;
      if (beta == 0.0f)
        std::fill(c_row, c_row + n, 0.0f);
      else
        for (int64_t j = 0; j < n; ++j) c_row[j] *= beta;
    }
  }
  if (product_is_zero) return;
  // One packing buffer per calling thread, reused from call to call.
  thread_local F32PackedA packed_a;
  packed_a.pack(kernel, trans_a, size_t(m), size_t(k), a, size_t(lda), alpha, threads);
  F32GemmEpilogue epilogue;
  epilogue.accumulate = beta != 0.0f;
  f32_gemm_packed(packed_a, trans_b, size_t(n), b, size_t(ldb), c, size_t(ldc), epilogue, threads);
}

}  // namespace kiln::kernels
