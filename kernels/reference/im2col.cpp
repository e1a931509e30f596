#include "kernels/reference/im2col.h"

#include <algorithm>

#include "kernels/im2col_segments.h"

namespace kiln::kernels {

void f32_im2col(const WindowGeometry& g, int64_t channels, const float* image, int64_t first, int64_t count,
                float* columns) {
  const int64_t stride_w = g.stride[2];
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = image + c * g.input_size();
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          const int64_t tap = (kd * g.kernel[1] + kh) * g.kernel[2] + kw;
          float* column_row = columns + (c * g.kernel_size() + tap) * count;
          const int64_t x_offset = kw * g.dilation[2] - g.pad_begin[2];
          for_each_row_segment(g, kd, kh, kw, first, count, [&](const RowSegment& s) {
            // Output x lands in dst[x - x0] and reads src[x * stride_w] (when inside the image).
            float* dst = column_row + s.column;
            if (s.row < 0) {
              std::fill(dst, dst + s.length, 0.0f);
              return;
            }
            const float* src = plane + s.row;
            const int64_t x_end = s.x0 + s.length;
            for (int64_t x = s.x0; x < s.x_first; ++x) dst[x - s.x0] = 0.0f;
            if (stride_w == 1) {
              const float* from = src + s.x_first + x_offset;
              std::copy(from, from + (s.x_last - s.x_first), dst + (s.x_first - s.x0));
            } else {
              for (int64_t x = s.x_first; x < s.x_last; ++x) dst[x - s.x0] = src[x * stride_w + x_offset];
            }
            for (int64_t x = s.x_last; x < x_end; ++x) dst[x - s.x0] = 0.0f;
          });
        }
  }
}

}  // namespace kiln::kernels
