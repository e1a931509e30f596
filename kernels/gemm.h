// Single-precision GEMM entry points.
//
//   C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C
// Row-major; op(X) = X or X^T. lda/ldb/ldc are row strides of the stored
// matrices. beta == 0 means C is write-only (its old contents may be NaN).
#pragma once

#include <cstdint>

namespace kiln::kernels {

struct F32GemmMicrokernel;

struct GemmShape {
  int64_t m, n, k;
};

// The plain reference twin: readable loops, never used for speed comparisons.
void f32_gemm_reference(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                        const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                        int64_t ldc);

// The GEMM the operators call: the packed, cache-blocked, per-ISA path of
// kernels/f32_gemm_packed.h (A is packed on every call; operators with
// constant weights should pack them once with F32PackedA instead), on
// `kernel` (the session's KernelTable::f32_gemm).
// Runs on up to `threads` threads of kiln's pool (platform/thread_pool.h).
void f32_gemm(const F32GemmMicrokernel& kernel, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
              float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc, int threads);

}  // namespace kiln::kernels
