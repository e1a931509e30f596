#include "kernels/f32_im2col_panels.h"

#include <algorithm>

#include "kernels/reference/im2col_segments.h"
#include "kiln/error.h"

namespace kiln::kernels {
namespace {

// Writes columns [column, column + count) of one row of B into the panels:
// from `source` (elements `stride` apart), or zeros when source is null.
// NR is a template argument so finding a column's panel is a shift, not a
// division.
template <size_t NR>
void put_row_run(float* row_in_panel0, size_t kc, size_t column, size_t count, const float* source, int64_t stride) {
  while (count > 0) {
    const size_t lane = column % NR;
    const size_t n = std::min(count, NR - lane);
    float* destination = row_in_panel0 + (column / NR) * NR * kc + lane;
    if (source == nullptr) {
      for (size_t i = 0; i < n; ++i) destination[i] = 0.0f;
    } else if (stride == 1 && n == NR) {  // a whole panel row: a fixed-size copy the compiler unrolls
      for (size_t i = 0; i < NR; ++i) destination[i] = source[i];
      source += NR;
    } else if (stride == 1) {
      for (size_t i = 0; i < n; ++i) destination[i] = source[i];
      source += n;
    } else {
      for (size_t i = 0; i < n; ++i) destination[i] = source[static_cast<int64_t>(i) * stride];
      source += static_cast<int64_t>(n) * stride;
    }
    column += n;
    count -= n;
  }
}

template <size_t NR>
void pack_panels(const F32Im2colPanels& source, size_t k0, size_t kc, size_t j0, size_t nc, float* packed) {
  constexpr size_t nr = NR;
  const WindowGeometry& g = *source.geometry;
  const int64_t taps = g.kernel_size();
  const int64_t stride_w = g.stride[2];
  const size_t tail = nc % nr;
  for (size_t p = k0; p < k0 + kc; ++p) {
    const int64_t channel = static_cast<int64_t>(p) / taps;
    const int64_t tap = static_cast<int64_t>(p) % taps;
    const int64_t kw = tap % g.kernel[2];
    const int64_t kh = tap / g.kernel[2] % g.kernel[1];
    const int64_t kd = tap / (g.kernel[2] * g.kernel[1]);
    const float* plane = source.image + channel * g.input_size();
    const int64_t x_offset = kw * g.dilation[2] - g.pad_begin[2];
    float* row = packed + (p - k0) * nr;
    for_each_row_segment(g, kd, kh, kw, source.first + static_cast<int64_t>(j0), static_cast<int64_t>(nc),
                         [&](const RowSegment& s) {
                           const size_t column = static_cast<size_t>(s.column);
                           if (s.row < 0) {
                             put_row_run<NR>(row, kc, column, static_cast<size_t>(s.length), nullptr, 1);
                             return;
                           }
                           const size_t before = static_cast<size_t>(s.x_first - s.x0);
                           const size_t inside = static_cast<size_t>(s.x_last - s.x_first);
                           const size_t after = static_cast<size_t>(s.x0 + s.length - s.x_last);
                           put_row_run<NR>(row, kc, column, before, nullptr, 1);
                           put_row_run<NR>(row, kc, column + before, inside,
                                       plane + s.row + s.x_first * stride_w + x_offset, stride_w);
                           put_row_run<NR>(row, kc, column + before + inside, after, nullptr, 1);
                         });
    if (tail != 0) put_row_run<NR>(row, kc, nc, nr - tail, nullptr, 1);
  }
}

void pack_im2col(const void* context, size_t k0, size_t kc, size_t j0, size_t nc, size_t nr, float* packed) {
  f32_pack_im2col_panels(*static_cast<const F32Im2colPanels*>(context), k0, kc, j0, nc, nr, packed);
}

}  // namespace

void f32_pack_im2col_panels(const F32Im2colPanels& source, size_t k0, size_t kc, size_t j0, size_t nc, size_t nr,
                            float* packed) {
  switch (nr) {
    case 8: return pack_panels<8>(source, k0, kc, j0, nc, packed);
    case 16: return pack_panels<16>(source, k0, kc, j0, nc, packed);
    case 32: return pack_panels<32>(source, k0, kc, j0, nc, packed);
  }
  fail("im2col panels: no packing routine for NR=", nr);
}

F32GemmBSource f32_im2col_panel_source(const F32Im2colPanels& source) { return {&pack_im2col, &source}; }

}  // namespace kiln::kernels
