// The walk im2col, col2im and the panel packer share: a range of output
// positions cut into runs that share one output row, per kernel tap.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/window_geometry.h"

namespace kiln::kernels {

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
inline void for_each_row_segment(const WindowGeometry& g, int64_t kd, int64_t kh, int64_t kw, int64_t first,
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

}  // namespace kiln::kernels
