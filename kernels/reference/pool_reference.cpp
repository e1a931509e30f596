// The reference twins of kernels/pool.h, straight from the definitions: each
// output visits all kernel_size taps of its window in (kd, kh, kw) order.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/pool.h"

namespace kiln::kernels {

namespace {

// Calls visit(o, position[3]) for every tap of every output o, with the tap's
// input position (which may lie in padding).
template <class Visit>
void for_each_tap(const WindowGeometry& g, Visit&& visit) {
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow) {
        const int64_t o = (od * g.out[1] + oh) * g.out[2] + ow;
        for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
            for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
              const int64_t p[3] = {od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0],
                                    oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1],
                                    ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2]};
              visit(o, p);
            }
      }
}

bool inside(const WindowGeometry& g, const int64_t* p) {
  for (int d = 0; d < 3; ++d)
    if (p[d] < 0 || p[d] >= g.in[d]) return false;
  return true;
}

bool inside_padded(const WindowGeometry& g, const int64_t* p) {
  for (int d = 0; d < 3; ++d)
    if (p[d] < -g.pad_begin[d] || p[d] >= g.in[d] + g.pad_end[d]) return false;
  return true;
}

}  // namespace

void f32_max_pool_plane_reference(const WindowGeometry& g, const float* input, float* output, int64_t* indices,
                                  int64_t index_base, bool column_major) {
  for (int64_t o = 0; o < g.output_size(); ++o) {
    output[o] = std::numeric_limits<float>::lowest();
    if (indices) indices[o] = index_base - 1;  // no tap inside the image
  }
  std::vector<bool> seen(static_cast<size_t>(g.output_size()), false);
  for_each_tap(g, [&](int64_t o, const int64_t* p) {
    if (!inside(g, p)) return;
    const float v = input[(p[0] * g.in[1] + p[1]) * g.in[2] + p[2]];
    // The first maximum wins; a NaN beats every number and the first NaN stays.
    const float best = output[o];
    if (seen[static_cast<size_t>(o)] && !(v > best || (std::isnan(v) && !std::isnan(best)))) return;
    seen[static_cast<size_t>(o)] = true;
    output[o] = v;
    if (indices)
      indices[o] = index_base + (column_major ? p[0] + p[1] * g.in[0] + p[2] * g.in[0] * g.in[1]
                                              : (p[0] * g.in[1] + p[1]) * g.in[2] + p[2]);
  });
}

void f32_average_pool_plane_reference(const WindowGeometry& g, bool count_include_pad, const float* input,
                                      float* output) {
  const size_t n = static_cast<size_t>(g.output_size());
  std::vector<double> sum(n, 0.0);
  std::vector<int64_t> count(n, 0);
  for_each_tap(g, [&](int64_t o, const int64_t* p) {
    if (inside(g, p)) sum[static_cast<size_t>(o)] += input[(p[0] * g.in[1] + p[1]) * g.in[2] + p[2]];
    if (count_include_pad ? inside_padded(g, p) : inside(g, p)) ++count[static_cast<size_t>(o)];
  });
  for (size_t o = 0; o < n; ++o)
    output[o] = count[o] > 0 ? static_cast<float>(sum[o] / static_cast<double>(count[o])) : 0.0f;
}

}  // namespace kiln::kernels
