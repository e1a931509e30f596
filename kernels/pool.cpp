#include "kernels/pool.h"

#include <limits>

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

}  // namespace

template <class T>
void max_pool_plane(const WindowGeometry& g, const T* input, T* output, int64_t* indices, int64_t index_base,
                    bool column_major) {
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
          if (best_at < 0 || input[at] > best) {
            best = input[at];
            best_at = at;
          }
        }
      }
    }
    output[o] = best;
    if (indices) {
      int64_t index = best_at;
      if (column_major && best_at >= 0) {
        const int64_t iw = best_at % g.in[2], ih = best_at / g.in[2] % g.in[1], id = best_at / (g.in[1] * g.in[2]);
        index = id + ih * g.in[0] + iw * g.in[0] * g.in[1];
      }
      indices[o] = index_base + index;
    }
  });
}

template void max_pool_plane<float>(const WindowGeometry&, const float*, float*, int64_t*, int64_t, bool);
template void max_pool_plane<double>(const WindowGeometry&, const double*, double*, int64_t*, int64_t, bool);
template void max_pool_plane<int8_t>(const WindowGeometry&, const int8_t*, int8_t*, int64_t*, int64_t, bool);
template void max_pool_plane<uint8_t>(const WindowGeometry&, const uint8_t*, uint8_t*, int64_t*, int64_t, bool);

void f32_average_pool_plane(const WindowGeometry& g, bool count_include_pad, const float* input, float* output) {
  for_each_output(g, [&](int64_t o, const int64_t* start) {
    TapRange r[3];
    int64_t divisor = 1;
    for (int d = 0; d < 3; ++d) {
      r[d] = taps_inside(g.in[d], g.kernel[d], g.dilation[d], start[d]);
      // Padded extent: [-pad_begin, in + pad_end), shifted to start at 0.
      divisor *= count_include_pad
                     ? taps_inside(g.in[d] + g.pad_begin[d] + g.pad_end[d], g.kernel[d], g.dilation[d],
                                   start[d] + g.pad_begin[d]).count()
                     : r[d].count();
    }
    double sum = 0;
    for (int64_t kd = r[0].first; kd < r[0].last; ++kd) {
      const int64_t id = start[0] + kd * g.dilation[0];
      for (int64_t kh = r[1].first; kh < r[1].last; ++kh) {
        const int64_t ih = start[1] + kh * g.dilation[1];
        const float* row = input + (id * g.in[1] + ih) * g.in[2];
        for (int64_t kw = r[2].first; kw < r[2].last; ++kw) sum += row[start[2] + kw * g.dilation[2]];
      }
    }
    output[o] = divisor > 0 ? static_cast<float>(sum / static_cast<double>(divisor)) : 0.0f;
  });
}

}  // namespace kiln::kernels
