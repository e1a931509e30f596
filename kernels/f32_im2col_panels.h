// im2col straight into the GEMM's B panels: a convolution's column matrix
// (rows = input channel x kernel tap, columns = output positions, the layout
// of kernels/reference/im2col.h) is never stored whole. The packed GEMM asks
// for one KC x NC block at a time and this gathers it from the image into the
// NR-column panels its microkernels read, so each value is written once, into
// a buffer that stays in cache.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/f32_gemm_packed.h"
#include "kernels/reference/window_geometry.h"

namespace kiln::kernels {

// One image (channels planes of geometry.input_size() floats) seen as B:
// column j is output position first + j.
struct F32Im2colPanels {
  const WindowGeometry* geometry;
  const float* image;
  int64_t first;
};

// Rows [k0, k0 + kc) and columns [j0, j0 + nc) of the column matrix as
// NR-column panels (F32GemmBSource's layout), the last panel zero-padded.
void f32_pack_im2col_panels(const F32Im2colPanels& source, size_t k0, size_t kc, size_t j0, size_t nc, size_t nr,
                            float* packed);

// The GEMM B source over `source` (which must outlive the GEMM call).
F32GemmBSource f32_im2col_panel_source(const F32Im2colPanels& source);

}  // namespace kiln::kernels
