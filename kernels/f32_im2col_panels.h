// im2col straight into the GEMM's B panels: a convolution's column matrix
// (rows = input channel x kernel tap, columns = output positions, the layout
// of kernels/reference/im2col.h, its twin) is never stored whole. The packed GEMM asks
// for one KC x NC block at a time and this gathers it from the image into the
// NR-column panels its microkernels read, so each value is written once, into
// a buffer that stays in cache.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/f32_gemm_packed.h"
#include "kernels/window_geometry.h"

namespace kiln::kernels {

// One image (channels planes of geometry.input_size() floats) seen as B:
// column j is output position first + j. Taps that fall outside the image
// read 0, or with `reflect` the image mirrored at its edges without repeating
// the edge (ONNX Pad's "reflect": index -1 reads 1, index n reads n - 2).
struct F32Im2colPanels {
  const WindowGeometry* geometry;
  const float* image;
  int64_t first;
  bool reflect = false;
};

// Index i (any integer) reflected into [0, n), as ONNX Pad's "reflect" mode
// and numpy's pad(mode="reflect") place it.
inline int64_t reflect_index(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

// Rows [k0, k0 + kc) and columns [j0, j0 + nc) of the column matrix as
// NR-column panels (F32GemmBSource's layout), the last panel zero-padded.
void f32_pack_im2col_panels(const F32Im2colPanels& source, size_t k0, size_t kc, size_t j0, size_t nc, size_t nr,
                            float* packed);

// The GEMM B source over `source` (which must outlive the GEMM call).
F32GemmBSource f32_im2col_panel_source(const F32Im2colPanels& source);

}  // namespace kiln::kernels
