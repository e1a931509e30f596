// col2im, the adjoint of im2col, over a range of output positions so
// ConvTranspose can tile its GEMM and keep the column buffer small.
//
// Layout: `image` is [channels][in_d][in_h][in_w] (one sample), `columns` is
// row-major [channels * kernel_size][count]: row (c * kernel_size + k) holds,
// for the output positions first .. first+count-1 (flattened over
// out_d x out_h x out_w), the value for kernel tap k of channel c. Kernel
// taps are flattened (kd, kh, kw).
#pragma once

#include <cstdint>

#include "kernels/window_geometry.h"

namespace kiln::kernels {

// Adds every column entry into the image element that tap reads in
// f32_im2col (kernels/reference/im2col.h); entries that map into padding are
// dropped. `image` must be initialized by the caller (zeros, or a bias) since
// this accumulates.
void f32_col2im(const WindowGeometry& geometry, int64_t channels, const float* columns, int64_t first,
                int64_t count, float* image);

}  // namespace kiln::kernels
