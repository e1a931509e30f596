#include "kernels/f32_im2col_panels.h"

#include <algorithm>
#include <vector>

#include "kernels/im2col_segments.h"
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

// One row of B (kernel tap kd, kh, kw of one channel plane) for columns
// [j0, j0 + nc), reading the plane mirrored at its edges: each output row's
// taps inside the image are copied as a run, the few past an edge one by one.
template <size_t NR>
void put_reflected_row(const F32Im2colPanels& source, float* row, size_t kc, int64_t kd, int64_t kh, int64_t kw,
                       const float* plane, size_t j0, size_t nc) {
  const WindowGeometry& g = *source.geometry;
  const int64_t out_w = g.out[2], stride_w = g.stride[2];
  const int64_t x_offset = kw * g.dilation[2] - g.pad_begin[2];
  int64_t x_valid_first, x_valid_last;
  valid_output_range(g.in[2], out_w, stride_w, x_offset, &x_valid_first, &x_valid_last);
  int64_t position = source.first + static_cast<int64_t>(j0);
  const int64_t end = position + static_cast<int64_t>(nc);
  size_t column = 0;
  while (position < end) {
    const int64_t x0 = position % out_w, out_row = position / out_w;
    const int64_t oh = out_row % g.out[1], od = out_row / g.out[1];
    const int64_t length = std::min(out_w - x0, end - position);
    const int64_t id = reflect_index(od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0], g.in[0]);
    const int64_t ih = reflect_index(oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1], g.in[1]);
    const float* image_row = plane + (id * g.in[1] + ih) * g.in[2];
    const int64_t inside_first = std::clamp(x_valid_first, x0, x0 + length);
    const int64_t inside_last = std::clamp(x_valid_last, inside_first, x0 + length);
    for (int64_t x = x0; x < inside_first; ++x) {
      const float value = image_row[reflect_index(x * stride_w + x_offset, g.in[2])];
      put_row_run<NR>(row, kc, column + static_cast<size_t>(x - x0), 1, &value, 1);
    }
    put_row_run<NR>(row, kc, column + static_cast<size_t>(inside_first - x0),
                    static_cast<size_t>(inside_last - inside_first), image_row + inside_first * stride_w + x_offset,
                    stride_w);
    for (int64_t x = inside_last; x < x0 + length; ++x) {
      const float value = image_row[reflect_index(x * stride_w + x_offset, g.in[2])];
      put_row_run<NR>(row, kc, column + static_cast<size_t>(x - x0), 1, &value, 1);
    }
    column += static_cast<size_t>(length);
    position += length;
  }
}

// Whether the panel-by-panel path below applies: a 2-D window (depth 1)
// with unit horizontal stride and dilation, no reflection, and output rows
// of at least four panels, so that few panels straddle two output rows
// (those go through pack_panels one by one, which is slower than the old
// packer on short rows: docs/notes/conv_layers.md).
bool panelwise_applies(const F32Im2colPanels& source, size_t nr) {
  const WindowGeometry& g = *source.geometry;
  return !source.reflect && g.in[0] == 1 && g.out[0] == 1 && g.kernel[0] == 1 && g.stride[2] == 1 &&
         g.dilation[2] == 1 && g.out[2] >= static_cast<int64_t>(4 * nr);
}

template <size_t NR>
void pack_panels(const F32Im2colPanels& source, size_t k0, size_t kc, size_t j0, size_t nc, float* packed);

// Panel by panel: each full panel whose NR output positions share an output
// row is written row after row of B, an NR-float copy from the image when
// the window's NR taps lie inside it, so the panel is written in order and
// the bookkeeping is per panel row, not per run of columns. Other panels
// (across two output rows, the last partial one) go through pack_panels.
// It pays most for thin convs on wide maps, where packing is a large share
// of the GEMM (measurements: docs/notes/conv_layers.md).
template <size_t NR>
void pack_panelwise(const F32Im2colPanels& source, size_t k0, size_t kc, size_t j0, size_t nc, float* packed) {
  const WindowGeometry& g = *source.geometry;
  const int64_t taps = g.kernel_size(), kernel_w = g.kernel[2];
  const int64_t in_h = g.in[1], in_w = g.in[2], out_w = g.out[2], plane_size = g.input_size();
  // Per row of the block: its channel plane, and the input row and column
  // offsets of its tap relative to the output position.
  struct RowTap {
    const float* plane;
    int64_t dy, dx;
  };
  thread_local std::vector<RowTap> row_taps;
  row_taps.resize(kc);
  for (size_t p = 0; p < kc; ++p) {
    const int64_t row = static_cast<int64_t>(k0 + p), channel = row / taps, tap = row % taps;
    row_taps[p] = {source.image + channel * plane_size, (tap / kernel_w) * g.dilation[1] - g.pad_begin[1],
                   tap % kernel_w - g.pad_begin[2]};
  }
  for (size_t q = 0; q * NR < nc; ++q) {
    float* panel = packed + q * NR * kc;
    const size_t columns = std::min(NR, nc - q * NR);
    const int64_t position = source.first + static_cast<int64_t>(j0 + q * NR);
    const int64_t x0 = position % out_w, oh = position / out_w;
    if (columns < NR || x0 + static_cast<int64_t>(NR) > out_w) {
      pack_panels<NR>(source, k0, kc, j0 + q * NR, columns, panel);
      continue;
    }
    const int64_t y_base = oh * g.stride[1];
    for (size_t p = 0; p < kc; ++p) {
      float* out = panel + p * NR;
      const RowTap& t = row_taps[p];
      const int64_t y = y_base + t.dy, x = x0 + t.dx;
      if (y < 0 || y >= in_h) {
        for (size_t l = 0; l < NR; ++l) out[l] = 0.0f;
        continue;
      }
      const float* image_row = t.plane + y * in_w;
      if (x >= 0 && x + static_cast<int64_t>(NR) <= in_w) {
        for (size_t l = 0; l < NR; ++l) out[l] = image_row[x + static_cast<int64_t>(l)];
        continue;
      }
      for (size_t l = 0; l < NR; ++l) {
        const int64_t xi = x + static_cast<int64_t>(l);
        out[l] = xi >= 0 && xi < in_w ? image_row[xi] : 0.0f;
      }
    }
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
    if (source.reflect) {
      put_reflected_row<NR>(source, row, kc, kd, kh, kw, plane, j0, nc);
      if (tail != 0) put_row_run<NR>(row, kc, nc, nr - tail, nullptr, 1);
      continue;
    }
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

// A block through the panel-by-panel path when it applies, else pack_panels.
template <size_t NR>
void pack_block(const F32Im2colPanels& source, size_t k0, size_t kc, size_t j0, size_t nc, float* packed) {
  if (panelwise_applies(source, NR))
    pack_panelwise<NR>(source, k0, kc, j0, nc, packed);
  else
    pack_panels<NR>(source, k0, kc, j0, nc, packed);
}

void pack_im2col(const void* context, size_t k0, size_t kc, size_t j0, size_t nc, size_t nr, float* packed) {
  f32_pack_im2col_panels(*static_cast<const F32Im2colPanels*>(context), k0, kc, j0, nc, nr, packed);
}

}  // namespace

void f32_pack_im2col_panels(const F32Im2colPanels& source, size_t k0, size_t kc, size_t j0, size_t nc, size_t nr,
                            float* packed) {
  switch (nr) {
    case 8: return pack_block<8>(source, k0, kc, j0, nc, packed);
    case 16: return pack_block<16>(source, k0, kc, j0, nc, packed);
    case 32: return pack_block<32>(source, k0, kc, j0, nc, packed);
  }
  fail("im2col panels: no packing routine for NR=", nr);
}

F32GemmBSource f32_im2col_panel_source(const F32Im2colPanels& source) { return {&pack_im2col, &source}; }

}  // namespace kiln::kernels
