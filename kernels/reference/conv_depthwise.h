// Direct convolution of one channel plane with its own filter: the kernel of
// depthwise convolution (one input channel per group), where im2col + GEMM
// would multiply by a 1-row matrix.
#pragma once

#include <cstdint>

#include "kernels/reference/window_geometry.h"

namespace kiln::kernels {

// output[od][oh][ow] = bias + sum over taps (kd, kh, kw) inside the image of
//   weights[kd][kh][kw] * input[od*sd - pd + kd*dd][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw].
// input: geometry.in plane; weights: geometry.kernel taps; output: geometry.out plane.
void f32_conv_depthwise_plane(const WindowGeometry& geometry, const float* input, const float* weights,
                              float bias, float* output);

}  // namespace kiln::kernels
