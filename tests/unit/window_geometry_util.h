// Random window geometries for kernel tests over planes (depthwise
// convolution, pooling), and a description for failure messages.
#pragma once

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/window_geometry.h"

namespace kiln::kernels::testing {

inline std::string describe(const WindowGeometry& g) {
  std::ostringstream out;
  out << "in " << g.in[0] << "x" << g.in[1] << "x" << g.in[2] << " kernel " << g.kernel[0] << "x" << g.kernel[1] << "x"
      << g.kernel[2] << " stride " << g.stride[0] << "," << g.stride[1] << "," << g.stride[2] << " dilation "
      << g.dilation[0] << "," << g.dilation[1] << "," << g.dilation[2] << " pads " << g.pad_begin[0] << ","
      << g.pad_begin[1] << "," << g.pad_begin[2] << "/" << g.pad_end[0] << "," << g.pad_end[1] << "," << g.pad_end[2];
  return out.str();
}

// Random geometries of 1 to 3 spatial dims with at least one output: images
// of 1, primes and sizes just past 4, 8 and 16, kernels 1..7 (1..3 in 3-D),
// strides 1..3, dilations 1..2, pads 0..3 on each side.
inline std::vector<WindowGeometry> geometries(std::mt19937& rng, int count) {
  const int64_t sizes[] = {1, 2, 3, 5, 7, 9, 13, 17, 33};
  std::vector<WindowGeometry> out;
  while (static_cast<int>(out.size()) < count) {
    WindowGeometry g;
    const int dims = 1 + static_cast<int>(rng() % 3);
    bool ok = true;
    for (int d = WindowGeometry::kDims - dims; d < WindowGeometry::kDims; ++d) {
      g.in[d] = sizes[rng() % std::size(sizes)];
      g.kernel[d] = 1 + static_cast<int64_t>(rng() % (dims == 3 ? 3 : 7));
      g.stride[d] = 1 + static_cast<int64_t>(rng() % 3);
      g.dilation[d] = 1 + static_cast<int64_t>(rng() % 2);
      g.pad_begin[d] = static_cast<int64_t>(rng() % 4);
      g.pad_end[d] = static_cast<int64_t>(rng() % 4);
      const int64_t span = g.dilation[d] * (g.kernel[d] - 1) + 1;
      const int64_t padded = g.in[d] + g.pad_begin[d] + g.pad_end[d];
      if (padded < span) ok = false;
      else g.out[d] = (padded - span) / g.stride[d] + 1;
    }
    if (ok) out.push_back(g);
  }
  return out;
}

}  // namespace kiln::kernels::testing
