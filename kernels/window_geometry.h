// The geometry of a sliding window (convolution or pooling) over up to three
// spatial dims, ordered (depth, height, width). Problems with fewer spatial
// dims use size-1 leading dims: a 1-D window lives in `width`, a 2-D one in
// (height, width), and the unused dims have in = out = kernel = stride =
// dilation = 1 and zero pads.
//
// Output position o of dim i reads input positions
//   o * stride[i] - pad_begin[i] + k * dilation[i],  k = 0 .. kernel[i]-1;
// positions outside [0, in[i]) are padding.
#pragma once

#include <cstdint>

namespace kiln::kernels {

struct WindowGeometry {
  static constexpr int kDims = 3;

  int64_t in[kDims] = {1, 1, 1};
  int64_t out[kDims] = {1, 1, 1};
  int64_t kernel[kDims] = {1, 1, 1};
  int64_t stride[kDims] = {1, 1, 1};
  int64_t dilation[kDims] = {1, 1, 1};
  int64_t pad_begin[kDims] = {0, 0, 0};
  int64_t pad_end[kDims] = {0, 0, 0};  // only pooling's count_include_pad reads it

  int64_t input_size() const { return in[0] * in[1] * in[2]; }
  int64_t output_size() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
};

// The output positions o in [0, out) whose tap o * stride + offset falls
// inside [0, in): the half-open range [*first, *last). Empty ranges come back
// with first == last. stride > 0; offset may be negative.
inline void valid_output_range(int64_t in, int64_t out, int64_t stride, int64_t offset, int64_t* first,
                               int64_t* last) {
  // o * stride + offset >= 0  <=>  o >= ceil(-offset / stride)
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  // o * stride + offset <= in - 1  <=>  o <= floor((in - 1 - offset) / stride)
  int64_t hi = in - 1 - offset < 0 ? 0 : (in - 1 - offset) / stride + 1;
  if (hi > out) hi = out;
  if (lo > hi) lo = hi;
  *first = lo;
  *last = hi;
}

}  // namespace kiln::kernels
