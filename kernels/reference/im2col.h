// im2col, the reference twin of f32_im2col_panels (kernels/f32_im2col_panels.h),
// which gathers the same columns straight into GEMM panels; it also defines
// what f32_col2im (kernels/col2im.h) is the adjoint of.
//
// Layout: `image` is [channels][in_d][in_h][in_w] (one sample), `columns` is
// row-major [channels * kernel_size][count]: row (c * kernel_size + k) holds,
// for the output positions first .. first+count-1 (flattened over
// out_d x out_h x out_w), the image value under kernel tap k of channel c, or
// 0 where the tap falls in padding. Kernel taps are flattened (kd, kh, kw).
#pragma once

#include <cstdint>

#include "kernels/window_geometry.h"

namespace kiln::kernels {

// Fills `columns` (channels * kernel_size rows of `count` floats).
void f32_im2col(const WindowGeometry& geometry, int64_t channels, const float* image, int64_t first,
                int64_t count, float* columns);

}  // namespace kiln::kernels
