#include <algorithm>
#include <vector>

#include "kernels/gemm.h"

namespace kiln::kernels {

// Row-of-C-at-a-time GEMM: for each row i, C[i,:] = sum_p A[i,p] * B[p,:].
// The inner loop runs over contiguous B rows so the compiler vectorizes it.
// B^T is materialized once when trans_b is set.
void f32_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
              int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int threads) {
  std::vector<float> b_transposed;
  if (trans_b) {
    b_transposed.resize(static_cast<size_t>(k * n));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) b_transposed[p * n + j] = b[j * ldb + p];
    b = b_transposed.data();
    ldb = n;
  }
#pragma omp parallel for num_threads(threads) schedule(static) if (m > 1 && threads > 1)
  for (int64_t i = 0; i < m; ++i) {
    float* c_row = c + i * ldc;
    if (beta == 0.0f) std::fill(c_row, c_row + n, 0.0f);
    else if (beta != 1.0f) for (int64_t j = 0; j < n; ++j) c_row[j] *= beta;
    for (int64_t p = 0; p < k; ++p) {
      float av = alpha * (trans_a ? a[p * lda + i] : a[i * lda + p]);
      if (av == 0.0f) continue;
      const float* b_row = b + p * ldb;
      for (int64_t j = 0; j < n; ++j) c_row[j] += av * b_row[j];
    }
  }
}

}  // namespace kiln::kernels
