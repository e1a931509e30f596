// Direct convolution of one channel plane with its own filter: the kernel of
// depthwise convolution (one input channel per group), where im2col + GEMM
// would multiply by a 1-row matrix.
#pragma once

#include <cstdint>

#include "kernels/f32_gemm_epilogue.h"
#include "kernels/window_geometry.h"

namespace kiln::kernels {

// What a depthwise kernel adds to each output of a plane and applies before
// storing it: the plane's bias, then an activation with its parameters (as in
// F32GemmEpilogue), then the affine map y * output_scale + output_shift.
struct F32DwconvEpilogue {
  float bias = 0.0f;
  Activation activation = Activation::none;
  float param0 = 0.0f;
  float param1 = 0.0f;
  float output_scale = 1.0f;
  float output_shift = 0.0f;
  bool has_output_affine() const { return output_scale != 1.0f || output_shift != 0.0f; }
};

// output[od][oh][ow] = output_scale * act(bias + sum over taps (kd, kh, kw) inside the image of
//   weights[kd][kh][kw] * input[od*sd - pd + kd*dd][oh*sh - ph + kh*dh][ow*sw - pw + kw*dw])
//   + output_shift
// with the sum taken in that tap order (kd, then kh, then kw), and act the
// epilogue's activation (f32_activation_reference).
// input: geometry.in plane; weights: geometry.kernel taps; output: geometry.out plane.
// The path for shapes no fast kernel in kernels/f32_dwconv.h covers, and the
// result their tests compare with; it is itself checked against the twin below.
void f32_conv_depthwise_plane(const WindowGeometry& geometry, const float* input, const float* weights,
                              const F32DwconvEpilogue& epilogue, float* output);

// The plain reference twin of f32_conv_depthwise_plane
// (kernels/reference/conv_depthwise_reference.cpp): the same definition, one
// output at a time, the sum taken in double and rounded to float before the
// activation.
void f32_conv_depthwise_plane_reference(const WindowGeometry& geometry, const float* input, const float* weights,
                                        const F32DwconvEpilogue& epilogue, float* output);

}  // namespace kiln::kernels
