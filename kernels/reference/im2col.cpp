#include "kernels/reference/im2col.h"

#include <algorithm>

namespace kiln::kernels {

namespace {

// One run of output positions that share an output row (fixed od, oh) for a
// fixed kernel tap: positions [column, column + length) of the column row,
// output x in [x0, x0 + length). `row` is the offset of input row (id, ih) in
// the image plane, or -1 when that row lies in padding. Columns with x in
// [x_first, x_last) read image[row + x * stride + x_offset]; the rest are padding.
struct RowSegment {
  int64_t column, length, x0;
  int64_t row;
  int64_t x_first, x_last;
};

// Calls visit(RowSegment) for every output row touched by the positions
// [first, first + count), for kernel tap (kd, kh, kw).
template <class Visit>
void for_each_row_segment(const WindowGeometry& g, int64_t kd, int64_t kh, int64_t kw, int64_t first,
                          int64_t count, Visit&& visit) {
  const int64_t out_w = g.out[2];
  const int64_t x_offset = kw * g.dilation[2] - g.pad_begin[2];
  int64_t x_valid_first, x_valid_last;
  valid_output_range(g.in[2], out_w, g.stride[2], x_offset, &x_valid_first, &x_valid_last);

  int64_t position = first;
  const int64_t end = first + count;
  while (position < end) {
    const int64_t x0 = position % out_w;
    const int64_t out_row = position / out_w;
    const int64_t oh = out_row % g.out[1];
    const int64_t od = out_row / g.out[1];
    RowSegment segment;
    segment.column = position - first;
    segment.length = std::min(out_w - x0, end - position);
    segment.x0 = x0;
    const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
    const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
    const bool row_inside = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1];
    segment.row = row_inside ? (id * g.in[1] + ih) * g.in[2] : -1;
    segment.x_first = std::clamp(x_valid_first, x0, x0 + segment.length);
    segment.x_last = std::clamp(x_valid_last, segment.x_first, x0 + segment.length);
    visit(segment);
    position += segment.length;
  }
}

}  // namespace

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
