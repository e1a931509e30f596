#include "kernels/conv_depthwise.h"

#include <algorithm>

namespace kiln::kernels {

// For each output row, every kernel tap adds weight * (a strided slice of one
// input row) to the row; the slice bounds come from valid_output_range so the
// inner loop has no padding checks (and vectorizes for stride 1).
void f32_conv_depthwise_plane(const WindowGeometry& g, const float* input, const float* weights,
                              const F32DwconvEpilogue& epilogue, float* output) {
  const int64_t out_w = g.out[2];
  const int64_t stride_w = g.stride[2];
  for (int64_t od = 0; od < g.out[0]; ++od) {
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      float* out_row = output + (od * g.out[1] + oh) * out_w;
      std::fill(out_row, out_row + out_w, epilogue.bias);
      for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
        const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
        if (id < 0 || id >= g.in[0]) continue;
        for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
          const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
          if (ih < 0 || ih >= g.in[1]) continue;
          const float* in_row = input + (id * g.in[1] + ih) * g.in[2];
          for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
            const float w = weights[(kd * g.kernel[1] + kh) * g.kernel[2] + kw];
            const int64_t x_offset = kw * g.dilation[2] - g.pad_begin[2];
            int64_t x_first, x_last;
            valid_output_range(g.in[2], out_w, stride_w, x_offset, &x_first, &x_last);
            if (stride_w == 1) {
              for (int64_t x = x_first; x < x_last; ++x) out_row[x] += w * in_row[x + x_offset];
            } else {
              for (int64_t x = x_first; x < x_last; ++x) out_row[x] += w * in_row[x * stride_w + x_offset];
            }
          }
        }
      }
      if (epilogue.activation != Activation::none)
        for (int64_t x = 0; x < out_w; ++x)
          out_row[x] = f32_activation_reference(epilogue.activation, out_row[x], epilogue.param0, epilogue.param1);
      if (epilogue.has_output_affine())
        for (int64_t x = 0; x < out_w; ++x) out_row[x] = out_row[x] * epilogue.output_scale + epilogue.output_shift;
    }
  }
}

}  // namespace kiln::kernels
