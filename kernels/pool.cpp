#include "kernels/pool.h"

#include <cstddef>
#include <limits>
#include <vector>

namespace kiln::kernels {

namespace {

// The taps [first, last) of a window dim whose input position lies inside
// [0, extent) for output o, given the window starts at o * stride - start_offset.
struct TapRange {
  int64_t first, last;
  int64_t count() const { return last - first; }
};

TapRange taps_inside(int64_t extent, int64_t kernel, int64_t dilation, int64_t window_start) {
  TapRange r;
  valid_output_range(extent, kernel, dilation, window_start, &r.first, &r.last);
  return r;
}

// Calls visit(od, oh, ow, window_start[3]) for every output of the plane.
template <class Visit>
void for_each_output(const WindowGeometry& g, Visit&& visit) {
  int64_t start[3];
  for (int64_t od = 0; od < g.out[0]; ++od) {
    start[0] = od * g.stride[0] - g.pad_begin[0];
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      start[1] = oh * g.stride[1] - g.pad_begin[1];
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        start[2] = ow * g.stride[2] - g.pad_begin[2];
        visit((od * g.out[1] + oh) * g.out[2] + ow, start);
      }
    }
  }
}

// The running maximum's rule: a new value wins only when it is greater (the
// first of equal values stays), and a NaN wins over every number and then
// stays (NaN propagates, as in numpy and PyTorch: the rule that does not
// depend on the order taps are visited in, so combining rows first and then
// columns gives the same value as visiting the window tap by tap). `v != v`
// is the NaN test that also compiles for the integer types.
template <class T>
inline bool replaces_max(T best, T v) {
  return v > best || (v != v && best == best);
}

// MaxPool with indices: output by output, so the first maximum's position is
// known.
template <class T>
void max_pool_plane_with_indices(const WindowGeometry& g, const T* input, T* output, int64_t* indices,
                                 int64_t index_base, bool column_major) {
  for_each_output(g, [&](int64_t o, const int64_t* start) {
    TapRange r[3];
    for (int d = 0; d < 3; ++d) r[d] = taps_inside(g.in[d], g.kernel[d], g.dilation[d], start[d]);
    T best = std::numeric_limits<T>::lowest();
    int64_t best_at = -1;
    for (int64_t kd = r[0].first; kd < r[0].last; ++kd) {
      const int64_t id = start[0] + kd * g.dilation[0];
      for (int64_t kh = r[1].first; kh < r[1].last; ++kh) {
        const int64_t ih = start[1] + kh * g.dilation[1];
        for (int64_t kw = r[2].first; kw < r[2].last; ++kw) {
          const int64_t iw = start[2] + kw * g.dilation[2];
          const int64_t at = (id * g.in[1] + ih) * g.in[2] + iw;
          if (best_at < 0 || replaces_max(best, input[at])) {
            best = input[at];
            best_at = at;
          }
        }
      }
    }
    output[o] = best;
    int64_t index = best_at;
    if (column_major && best_at >= 0) {
      const int64_t iw = best_at % g.in[2], ih = best_at / g.in[2] % g.in[1], id = best_at / (g.in[1] * g.in[2]);
      index = id + ih * g.in[0] + iw * g.in[0] * g.in[1];
    }
    indices[o] = index_base + index;
  });
}

// The row-wise plan every other pool follows. A window is separable: its
// result is the combination over the window's input rows (the (id, ih) pairs
// inside the image) of a row-wise combination over its columns. So each
// output row first combines its input rows element by element into one row
// (`acc`, contiguous: the loop vectorizes), then each output combines kernel
// taps of that row. The outputs whose taps are all inside the row (the
// interior) are computed tap by tap over the whole interior, again in
// contiguous or fixed-stride loops; only the few outputs at the two edges
// look up which of their taps lie inside. Compared with visiting every tap
// of every window, this does no per-tap bounds arithmetic and reads each
// input row kernel_height / stride_height times from cache instead of
// kernel_size / stride_height times.
struct ColumnPlan {
  int64_t interior_first = 0, interior_last = 0;  // outputs [first, last) have every tap inside
};

ColumnPlan plan_columns(const WindowGeometry& g) {
  const int64_t first_tap = -g.pad_begin[2];
  const int64_t last_tap = first_tap + (g.kernel[2] - 1) * g.dilation[2];
  int64_t a0, b0, a1, b1;
  valid_output_range(g.in[2], g.out[2], g.stride[2], first_tap, &a0, &b0);
  valid_output_range(g.in[2], g.out[2], g.stride[2], last_tap, &a1, &b1);
  ColumnPlan plan;
  plan.interior_first = a0 > a1 ? a0 : a1;
  plan.interior_last = b0 < b1 ? b0 : b1;
  if (plan.interior_last < plan.interior_first) plan.interior_last = plan.interior_first;
  return plan;
}

// Combines into acc[0, in[2]) the input rows under output row (od, oh), in
// window order: acc = first row, then acc[i] = combine(acc[i], row[i]).
// Returns how many rows there were (0: the window rows lie in padding).
template <class T, class Combine>
int64_t combine_rows(const WindowGeometry& g, const T* input, int64_t od, int64_t oh, T* acc, Combine combine) {
  const int64_t start_d = od * g.stride[0] - g.pad_begin[0], start_h = oh * g.stride[1] - g.pad_begin[1];
  const TapRange rd = taps_inside(g.in[0], g.kernel[0], g.dilation[0], start_d);
  const TapRange rh = taps_inside(g.in[1], g.kernel[1], g.dilation[1], start_h);
  const int64_t width = g.in[2];
  int64_t rows = 0;
  for (int64_t kd = rd.first; kd < rd.last; ++kd) {
    const int64_t id = start_d + kd * g.dilation[0];
    for (int64_t kh = rh.first; kh < rh.last; ++kh) {
      const int64_t ih = start_h + kh * g.dilation[1];
      const T* row = input + (id * g.in[1] + ih) * width;
      if (rows++ == 0) {
        for (int64_t i = 0; i < width; ++i) acc[i] = row[i];
      } else {
        for (int64_t i = 0; i < width; ++i) acc[i] = combine(acc[i], row[i]);
      }
    }
  }
  return rows;
}

// out[ow] = the combination of acc's taps for output ow, for every ow of the
// row; `empty` for an output with no tap inside the row.
template <class T, class Combine>
void combine_columns(const WindowGeometry& g, const ColumnPlan& plan, const T* acc, T* out, T empty,
                     Combine combine) {
  const int64_t stride = g.stride[2], dilation = g.dilation[2], kernel = g.kernel[2];
  const int64_t pad = g.pad_begin[2];
  auto edge = [&](int64_t ow) {
    const int64_t start = ow * stride - pad;
    const TapRange r = taps_inside(g.in[2], kernel, dilation, start);
    if (r.count() <= 0) {
      out[ow] = empty;
      return;
    }
    T value = acc[start + r.first * dilation];
    for (int64_t kw = r.first + 1; kw < r.last; ++kw) value = combine(value, acc[start + kw * dilation]);
    out[ow] = value;
  };
  for (int64_t ow = 0; ow < plan.interior_first; ++ow) edge(ow);
  const int64_t first = plan.interior_first, last = plan.interior_last;
  if (first < last) {
    const T* base = acc + first * stride - pad;
    T* o = out + first;
    const int64_t n = last - first;
    if (stride == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = base[i];
      for (int64_t kw = 1; kw < kernel; ++kw) {
        const T* tap = base + kw * dilation;
        for (int64_t i = 0; i < n; ++i) o[i] = combine(o[i], tap[i]);
      }
    } else if (stride == 2) {
      for (int64_t i = 0; i < n; ++i) o[i] = base[2 * i];
      for (int64_t kw = 1; kw < kernel; ++kw) {
        const T* tap = base + kw * dilation;
        for (int64_t i = 0; i < n; ++i) o[i] = combine(o[i], tap[2 * i]);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = base[i * stride];
      for (int64_t kw = 1; kw < kernel; ++kw) {
        const T* tap = base + kw * dilation;
        for (int64_t i = 0; i < n; ++i) o[i] = combine(o[i], tap[i * stride]);
      }
    }
  }
  for (int64_t ow = last > first ? last : first; ow < g.out[2]; ++ow) edge(ow);
}

// The value-only form of replaces_max: when both are NaN it does not matter
// which one is kept, which saves the test of `best` in the vector loops.
struct KeepMax {
  template <class T>
  T operator()(T best, T v) const {
    return v > best || v != v ? v : best;
  }
};

// One row buffer per thread and element type, grown as needed: pooling runs
// plane by plane from the thread pool, and a fresh allocation per plane
// would cost as much as a small plane's work.
// kSlot tells apart two buffers of one type that a kernel uses at once.
template <class T, int kSlot = 0>
T* row_buffer(int64_t width) {
  thread_local std::vector<T> buffer;
  if (static_cast<int64_t>(buffer.size()) < width) buffer.resize(static_cast<size_t>(width));
  return buffer.data();
}

}  // namespace

template <class T>
void max_pool_plane(const WindowGeometry& g, const T* input, T* output, int64_t* indices, int64_t index_base,
                    bool column_major) {
  if (indices) return max_pool_plane_with_indices(g, input, output, indices, index_base, column_major);
  const ColumnPlan plan = plan_columns(g);
  T* acc = row_buffer<T>(g.in[2]);
  const T lowest = std::numeric_limits<T>::lowest();
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      T* out = output + (od * g.out[1] + oh) * g.out[2];
      if (combine_rows(g, input, od, oh, acc, KeepMax{}) == 0) {
        for (int64_t ow = 0; ow < g.out[2]; ++ow) out[ow] = lowest;
        continue;
      }
      combine_columns(g, plan, acc, out, lowest, KeepMax{});
    }
}

template void max_pool_plane<float>(const WindowGeometry&, const float*, float*, int64_t*, int64_t, bool);
template void max_pool_plane<double>(const WindowGeometry&, const double*, double*, int64_t*, int64_t, bool);
template void max_pool_plane<int8_t>(const WindowGeometry&, const int8_t*, int8_t*, int64_t*, int64_t, bool);
template void max_pool_plane<uint8_t>(const WindowGeometry&, const uint8_t*, uint8_t*, int64_t*, int64_t, bool);

void f32_average_pool_plane(const WindowGeometry& g, bool count_include_pad, const float* input, float* output) {
  const ColumnPlan plan = plan_columns(g);
  float* acc = row_buffer<float>(g.in[2]);
  auto add = [](float a, float b) { return a + b; };
  // The divisor of a window is the product over dims of its counted taps:
  // those inside the image, or with count_include_pad those inside image +
  // pads (a ceil_mode window can reach past the end pad).
  auto counted = [&](int d, int64_t start) {
    return count_include_pad
               ? taps_inside(g.in[d] + g.pad_begin[d] + g.pad_end[d], g.kernel[d], g.dilation[d], start + g.pad_begin[d])
                     .count()
               : taps_inside(g.in[d], g.kernel[d], g.dilation[d], start).count();
  };
  float* column_divisor = row_buffer<float, 1>(g.out[2]);
  for (int64_t ow = 0; ow < g.out[2]; ++ow)
    column_divisor[ow] = static_cast<float>(counted(2, ow * g.stride[2] - g.pad_begin[2]));
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      float* out = output + (od * g.out[1] + oh) * g.out[2];
      const int64_t row_divisor =
          counted(0, od * g.stride[0] - g.pad_begin[0]) * counted(1, oh * g.stride[1] - g.pad_begin[1]);
      if (combine_rows(g, input, od, oh, acc, add) == 0 || row_divisor == 0) {
        for (int64_t ow = 0; ow < g.out[2]; ++ow) out[ow] = 0.0f;
        continue;
      }
      combine_columns(g, plan, acc, out, 0.0f, add);
      const float rows = static_cast<float>(row_divisor);
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        const float divisor = rows * column_divisor[ow];
        out[ow] = divisor > 0 ? out[ow] / divisor : 0.0f;
      }
    }
}

}  // namespace kiln::kernels
