// Bilinear resize over the last two axes of a float tensor (NCHW and
// friends). Reference twin: resize_reference.
//
// Layout: contiguous; all leading axes are identities (checked by
// f32_resize_bilinear_applies), so the tensor is `planes` images of
// in_h x in_w. Each axis table is widened to exactly two taps (a one-tap
// axis gets a second tap of weight 0). Input rows are first interpolated
// horizontally, h[x] = wx0[x] * row[ix0[x]] + wx1[x] * row[ix1[x]] (cached,
// as consecutive output rows share input rows), then every output row is
//   out[x] = wy0 * h_top[x] + wy1 * h_bottom[x]
// Threaded over (plane, output row) ranges.
#include <algorithm>
#include <vector>

#include "kernels/data_movement.h"
#include "kernels/resize.h"

namespace kiln::kernels {

namespace {

struct TwoTaps {
  std::vector<int64_t> i0, i1;
  std::vector<float> w0, w1;
  std::vector<uint8_t> outside;
  bool any_outside = false;
};

TwoTaps widen_to_two_taps(const ResizeAxisTable& axis) {
  TwoTaps t;
  const size_t n = axis.outside.size();
  t.outside = axis.outside;
  for (size_t o = 0; o < n; ++o) {
    const size_t at = o * static_cast<size_t>(axis.taps);
    t.i0.push_back(axis.index[at]);
    t.w0.push_back(static_cast<float>(axis.weight[at]));
    t.i1.push_back(axis.taps == 2 ? axis.index[at + 1] : axis.index[at]);
    t.w1.push_back(axis.taps == 2 ? static_cast<float>(axis.weight[at + 1]) : 0.0f);
    t.any_outside = t.any_outside || axis.outside[o];
  }
  return t;
}

// Two slots of horizontally interpolated rows, keyed by input row.
class HorizontalRowCache {
 public:
  explicit HorizontalRowCache(int64_t width)
      : rows_{std::vector<float>(static_cast<size_t>(width)), std::vector<float>(static_cast<size_t>(width))} {}

  // The interpolated input row `key`, computed by fill(key, buffer) unless
  // cached. The slot holding `keep` is never overwritten.
  template <class Fill>
  const float* get(int64_t key, int64_t keep, Fill&& fill) {
    for (int s = 0; s < 2; ++s)
      if (keys_[s] == key) return rows_[s].data();
    const int victim = keys_[0] == keep ? 1 : keys_[1] == keep ? 0 : oldest_;
    fill(key, rows_[victim].data());
    keys_[victim] = key;
    oldest_ = 1 - victim;
    return rows_[victim].data();
  }

 private:
  std::vector<float> rows_[2];
  int64_t keys_[2] = {-1, -1};
  int oldest_ = 0;
};

}  // namespace

bool f32_resize_bilinear_applies(const ResizePlan& plan) {
  const size_t rank = plan.axes.size();
  if (rank < 2) return false;
  for (size_t k = 0; k + 2 < rank; ++k)
    if (!plan.axes[k].is_identity()) return false;
  return plan.axes[rank - 2].taps <= 2 && plan.axes[rank - 1].taps <= 2;
}

void f32_resize_bilinear(const ResizePlan& plan, const float* src, float* dst, int threads) {
  const size_t rank = plan.axes.size();
  const int64_t in_h = plan.in_shape[rank - 2], in_w = plan.in_shape[rank - 1];
  const int64_t out_h = plan.out_shape[rank - 2], out_w = plan.out_shape[rank - 1];
  int64_t planes = 1;
  for (size_t k = 0; k + 2 < rank; ++k) planes *= plan.out_shape[k];
  const TwoTaps y = widen_to_two_taps(plan.axes[rank - 2]);
  const TwoTaps x = widen_to_two_taps(plan.axes[rank - 1]);
  const float extrapolation = static_cast<float>(plan.extrapolation_value);

  parallel_byte_ranges(planes * out_h, threads, out_w * 4, [&](int64_t begin, int64_t end) {
    // Horizontally interpolated input rows, cached: neighbouring output rows
    // mostly read the same two input rows, so each is interpolated once.
    HorizontalRowCache cache(out_w);
    auto interpolate_row = [&](int64_t src_row, float* into) {
      const float* in = src + src_row * in_w;
      const int64_t* ix0 = x.i0.data();
      const int64_t* ix1 = x.i1.data();
      const float* wx0 = x.w0.data();
      const float* wx1 = x.w1.data();
      for (int64_t ox = 0; ox < out_w; ++ox) into[ox] = wx0[ox] * in[ix0[ox]] + wx1[ox] * in[ix1[ox]];
    };
    for (int64_t row = begin; row < end; ++row) {
      const int64_t plane = row / out_h, oy = row % out_h;
      const size_t y_at = static_cast<size_t>(oy);
      float* out = dst + row * out_w;
      if (y.outside[y_at]) {
        std::fill(out, out + out_w, extrapolation);
        continue;
      }
      const int64_t row0 = plane * in_h + y.i0[y_at], row1 = plane * in_h + y.i1[y_at];
      const float* top = cache.get(row0, -1, interpolate_row);
      const float* bottom = cache.get(row1, row0, interpolate_row);
      const float wy0 = y.w0[y_at], wy1 = y.w1[y_at];
      for (int64_t ox = 0; ox < out_w; ++ox) out[ox] = wy0 * top[ox] + wy1 * bottom[ox];
      if (x.any_outside)
        for (int64_t ox = 0; ox < out_w; ++ox)
          if (x.outside[static_cast<size_t>(ox)]) out[ox] = extrapolation;
    }
  });
}

}  // namespace kiln::kernels
