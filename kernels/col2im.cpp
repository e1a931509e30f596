#include "kernels/col2im.h"

#include <algorithm>

#include "kernels/im2col_segments.h"

namespace kiln::kernels {

void f32_col2im(const WindowGeometry& g, int64_t channels, const float* columns, int64_t first, int64_t count,
                float* image) {
  const int64_t stride_w = g.stride[2];
  for (int64_t c = 0; c < channels; ++c) {
    float* plane = image + c * g.input_size();
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          const int64_t tap = (kd * g.kernel[1] + kh) * g.kernel[2] + kw;
          const float* column_row = columns + (c * g.kernel_size() + tap) * count;
          const int64_t x_offset = kw * g.dilation[2] - g.pad_begin[2];
          for_each_row_segment(g, kd, kh, kw, first, count, [&](const RowSegment& s) {
            if (s.row < 0) return;
            // Column entry (x - x0) goes to image row element x * stride_w + x_offset.
            const float* src = column_row + s.column;
            float* dst = plane + s.row;
            for (int64_t x = s.x_first; x < s.x_last; ++x) dst[x * stride_w + x_offset] += src[x - s.x0];
          });
        }
  }
}

}  // namespace kiln::kernels
