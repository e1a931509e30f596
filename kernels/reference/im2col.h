// im2col and its adjoint col2im, over a range of output positions so callers
// can tile a convolution and keep the column buffer small.
//
// Layout: `image` is [channels][in_d][in_h][in_w] (one sample), `columns` is
// row-major [channels * kernel_size][count]: row (c * kernel_size + k) holds,
// for the output positions first .. first+count-1 (flattened over
// out_d x out_h x out_w), the image value under kernel tap k of channel c, or
// 0 where the tap falls in padding. Kernel taps are flattened (kd, kh, kw).
#pragma once

#include <cstdint>

#include "kernels/reference/window_geometry.h"

namespace kiln::kernels {

// Fills `columns` (channels * kernel_size rows of `count` floats).
void f32_im2col(const WindowGeometry& geometry, int64_t channels, const float* image, int64_t first,
                int64_t count, float* columns);

// The adjoint of f32_im2col: adds every column entry into the image element
// it was read from (entries that map into padding are dropped). `image` must
// be initialized by the caller (zeros, or a bias) since this accumulates.
void f32_col2im(const WindowGeometry& geometry, int64_t channels, const float* columns, int64_t first,
                int64_t count, float* image);

}  // namespace kiln::kernels
