// The reference twin of f32_conv_depthwise_plane, straight from the
// definition in kernels/conv_depthwise.h: one output at a time, every tap
// tested against the image bounds.
#include <cstdint>

#include "kernels/conv_depthwise.h"

namespace kiln::kernels {

void f32_conv_depthwise_plane_reference(const WindowGeometry& g, const float* input, const float* weights,
                                        const F32DwconvEpilogue& epilogue, float* output) {
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        double sum = epilogue.bias;
        for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
            for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
              const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
              const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
              const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
              if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1] || iw < 0 || iw >= g.in[2]) continue;
              const double w = weights[(kd * g.kernel[1] + kh) * g.kernel[2] + kw];
              sum += w * input[(id * g.in[1] + ih) * g.in[2] + iw];
            }
        float y = f32_activation_reference(epilogue.activation, static_cast<float>(sum), epilogue.param0,
                                           epilogue.param1);
        if (epilogue.has_output_affine()) y = y * epilogue.output_scale + epilogue.output_shift;
        output[(od * g.out[1] + oh) * g.out[2] + ow] = y;
      }
}

}  // namespace kiln::kernels
