// kiln's packed f32 GEMM driver: packing, cache blocking and threading
// around the per-ISA microkernels of kernels/f32_gemm_microkernel.h.
//
// For operators whose A is constant (a convolution's weights, M = output
// channels x K), pack A once when the session is built:
//   F32PackedA weights(*kernel_table.f32_gemm, false, m, k, w, k);
// then on every run multiply it by an unpacked row-major B (K x N: an im2col
// buffer, or the input feature map of a 1x1 convolution):
//   f32_gemm_packed(weights, false, n, b, n, c, ldc, {bias, false, Activation::relu}, threads);
//
// Loop nest (per thread, over its share of C's columns and rows):
//   for each NC block of columns         B block of KC x NC packed per thread
//     for each KC block of K             (k-major NR-column panels)
//       for each MC block of rows        A block, MC x KC, read from L2
//         for each NR panel of B         B micro-panel, KC x NR, held in L1
//           for each MR panel of A       -> microkernel (one MR x NR tile)
// or, when M fits one MC block (convolutions: M = output channels):
//   for each NC block of columns         B block of KC x NC, packed, in L2
//     for each MR panel of A             A micro-panel held in L1
//       for each NR panel of B           -> microkernel
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "kernels/f32_gemm_epilogue.h"
#include "kernels/f32_gemm_microkernel.h"
#include "platform/cpu_info.h"

namespace kiln::kernels {

// Cache-blocking sizes (in elements) and loop order for one microkernel, one
// machine and an M x K A (see f32_gemm_packed.cpp for how each is sized).
struct F32GemmBlocking {
  size_t mc;  // rows of A per block (a multiple of MR)
  size_t kc;  // depth per block; K is cut into equal blocks of at most kc
  size_t nc;  // columns of B per block (a multiple of NR)
  // Inner loop order. false: for each NR panel of B, every MR panel of A
  // (the B micro-panel stays in L1, the A block in L2). true, chosen when M
  // fits one block (two when B is prefetched): for each MR panel of A, every
  // NR panel of the B block (the A micro-panel stays in L1, the B block in
  // L2, C is written row by row).
  bool row_panels_outer;
  // With row_panels_outer: prefetch the next block of B while computing this
  // one (the kernel asks for it and B's source has prefetch_row).
  bool prefetch_next_b;
};
// `b_prefetchable`: B's source has prefetch_row (a row-major matrix in memory).
F32GemmBlocking f32_gemm_blocking(const F32GemmMicrokernel& kernel, const CacheSizes& caches, size_t m, size_t k,
                                  bool b_prefetchable);

// Lines for `kiln info`: the GEMM kernel a session gets by default
// (selected_isa()) and its blocking. Throws kiln::Error when KILN_ISA is invalid.
std::string describe_f32_gemm_dispatch();

// A (M x K) times alpha, packed for one microkernel: panels of at most MR
// rows, each k-major (panel[(p * MR + r) * a_copies + copy]) and zero-padded
// to MR rows, 64-byte aligned. All
// panels have MR rows except that the last two share the leftover evenly
// (M = 32, MR = 6: 6 6 6 6 4 4, not 6 6 6 6 6 2), since a very short tile
// keeps too few accumulators busy.
class F32PackedA {
 public:
  F32PackedA() = default;
  // trans_a: A is stored K x M (element (i, p) at a[p * lda + i]).
  F32PackedA(const F32GemmMicrokernel& kernel, bool trans_a, size_t m, size_t k, const float* a, size_t lda,
             float alpha = 1.0f) {
    pack(kernel, trans_a, m, k, a, lda, alpha);
  }
  // Packs a new A, reusing this object's storage when it is large enough
  // (for callers that pack on every run, like f32_gemm), on up to `threads`
  // threads when A is large enough to share (ranges of panels of at least
  // 32 KiB packed).
  void pack(const F32GemmMicrokernel& kernel, bool trans_a, size_t m, size_t k, const float* a, size_t lda,
            float alpha = 1.0f, int threads = 1);

  const F32GemmMicrokernel& kernel() const { return *kernel_; }
  size_t m() const { return m_; }
  size_t k() const { return k_; }
  size_t panel_count() const { return panel_rows_.size() - 1; }
  // Panel i holds rows [first_row(i), first_row(i + 1)).
  size_t first_row(size_t panel) const { return panel_rows_[panel]; }
  const float* panel(size_t index) const { return panels_.get() + index * panel_stride(); }
  // Floats per k step and per panel.
  size_t k_stride() const { return size_t(kernel_->mr) * kernel_->a_copies; }
  size_t panel_stride() const { return k_stride() * k_; }

 private:
  const F32GemmMicrokernel* kernel_ = nullptr;
  size_t m_ = 0, k_ = 0;
  std::vector<size_t> panel_rows_ = {0};  // panel_count() + 1 row starts, the last one m
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], FreeDeleter> panels_;
  size_t capacity_ = 0;  // floats allocated in panels_
};

// Where a GEMM's B (K x N) comes from, for callers whose B is not a matrix in
// memory (a convolution's im2col, gathered straight from the image). `pack`
// writes rows [k0, k0 + kc) and columns [j0, j0 + nc) of B as NR-column
// panels, k-major, the last one zero-padded: column j0 + q * nr + l, row
// k0 + p goes to packed[q * nr * kc + p * nr + l] (the b_panel layout of
// kernels/f32_gemm_microkernel.h). It runs on the GEMM's threads at once, on
// disjoint blocks.
//
// `prefetch_row`, when set, asks for row k, columns [j0, j0 + nc) of B to be
// brought toward the cache (software prefetch, no loads). When the blocking
// says so (F32GemmBlocking::prefetch_next_b), the GEMM calls it for the next
// block of B while it computes the current one, so reading B from memory
// overlaps the arithmetic instead of stalling the next pack (see
// f32_gemm_blocking for when, docs/notes/f32_gemm.md for the figures).
struct F32GemmBSource {
  using PackFn = void (*)(const void* context, size_t k0, size_t kc, size_t j0, size_t nc, size_t nr,
                          float* packed);
  using PrefetchRowFn = void (*)(const void* context, size_t k, size_t j0, size_t nc);
  PackFn pack;
  const void* context;
  PrefetchRowFn prefetch_row = nullptr;
};

// C (M x N, rows ldc apart) = epilogue(A * B) with A packed and B packed
// block by block from `b`. Threading as below.
void f32_gemm_packed(const F32PackedA& a, size_t n, const F32GemmBSource& b, float* c, size_t ldc,
                     const F32GemmEpilogue& epilogue, int threads);

// C (M x N, rows ldc apart) = epilogue(A * B) with A packed. B is K x N
// row-major with rows ldb apart or, with trans_b, stored N x K (element
// (p, j) at b[j * ldb + p]). Runs on up to `threads` OpenMP threads; C must
// not overlap A or B.
void f32_gemm_packed(const F32PackedA& a, bool trans_b, size_t n, const float* b, size_t ldb, float* c, size_t ldc,
                     const F32GemmEpilogue& epilogue, int threads);

}  // namespace kiln::kernels
