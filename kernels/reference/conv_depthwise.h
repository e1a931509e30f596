// Direct convolution of one channel plane with its own filter: the kernel of
// depthwise convolution (one input channel per group), where im2col + GEMM
// would multiply by a 1-row matrix.
#pragma once

#include <cstdint>

#include "kernels/f32_activation.h"
#include "kernels/reference/window_geometry.h"

namespace kiln::kernels {

// output[od][oh][ow] = f(bias + sum over taps (kd, kh, kw) inside the image of
//   weights[kd][kh][kw] * input[od*sd - pd + kd*dd][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw])
// with f the activation, the sum taken in that tap order (kd, then kh, then kw).
// input: geometry.in plane; weights: geometry.kernel taps; output: geometry.out plane.
// The reference twin of the fast kernels in kernels/f32_dwconv.h.
void f32_conv_depthwise_plane(const WindowGeometry& geometry, const float* input, const float* weights,
                              float bias, const F32Activation& activation, float* output);

}  // namespace kiln::kernels
