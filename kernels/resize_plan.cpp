// Per-axis tap tables for Resize (see kernels/resize.h).
#include <algorithm>
#include <cmath>

#include "kernels/resize.h"

namespace kiln::kernels {

namespace {

int64_t nearest_index(double x, NearestRounding rounding, double scale) {
  switch (rounding) {
    case NearestRounding::kRoundPreferFloor: return static_cast<int64_t>(std::ceil(x - 0.5));
    case NearestRounding::kRoundPreferCeil: return static_cast<int64_t>(std::floor(x + 0.5));
    case NearestRounding::kFloor: return static_cast<int64_t>(std::floor(x));
    case NearestRounding::kCeil: return static_cast<int64_t>(std::ceil(x));
    case NearestRounding::kLegacy:
      return static_cast<int64_t>(scale < 1.0 ? std::ceil(x) : std::trunc(x));
  }
  return 0;
}

// Keys cubic convolution weights for taps at floor(x) - 1 .. floor(x) + 2,
// where r = x - floor(x) and a = cubic_coeff_a.
void cubic_weights(double r, double a, double w[4]) {
  auto near = [a](double d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };        // |d| <= 1
  auto far = [a](double d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };    // 1 < |d| < 2
  w[0] = far(r + 1);
  w[1] = near(r);
  w[2] = near(1 - r);
  w[3] = far(2 - r);
}

}  // namespace

bool ResizeAxisTable::is_identity() const {
  if (taps != 1) return false;
  for (size_t o = 0; o < index.size(); ++o)
    if (index[o] != static_cast<int64_t>(o) || outside[o]) return false;
  return true;
}

double resize_source_coordinate(ResizeCoordinates coordinates, double x, const ResizeAxisSize& size) {
  const double in = static_cast<double>(size.in), out = static_cast<double>(size.out);
  switch (coordinates) {
    case ResizeCoordinates::kHalfPixel: return (x + 0.5) / size.scale - 0.5;
    case ResizeCoordinates::kPytorchHalfPixel: return size.out > 1 ? (x + 0.5) / size.scale - 0.5 : 0.0;
    case ResizeCoordinates::kAlignCorners: return size.out > 1 ? x * (in - 1) / (out - 1) : 0.0;
    case ResizeCoordinates::kAsymmetric: return x / size.scale;
    case ResizeCoordinates::kTfHalfPixelForNn: return (x + 0.5) / size.scale;
    case ResizeCoordinates::kTfCropAndResize:
      if (size.out > 1)
        return size.roi_start * (in - 1) + x * (size.roi_end - size.roi_start) * (in - 1) / (out - 1);
      return 0.5 * (size.roi_start + size.roi_end) * (in - 1);
  }
  return 0.0;
}

ResizeAxisTable plan_resize_axis(const ResizeMethod& method, const ResizeAxisSize& size) {
  const int64_t taps = method.mode == ResizeMode::kNearest ? 1 : method.mode == ResizeMode::kLinear ? 2 : 4;
  const int64_t last = size.in - 1;
  ResizeAxisTable table;
  table.taps = taps;
  table.index.assign(static_cast<size_t>(size.out * taps), 0);
  table.weight.assign(static_cast<size_t>(size.out * taps), 0.0);
  table.outside.assign(static_cast<size_t>(size.out), 0);

  for (int64_t o = 0; o < size.out; ++o) {
    const double x = resize_source_coordinate(method.coordinates, static_cast<double>(o), size);
    int64_t* index = &table.index[static_cast<size_t>(o * taps)];
    double* weight = &table.weight[static_cast<size_t>(o * taps)];
    if (method.coordinates == ResizeCoordinates::kTfCropAndResize && (x < 0 || x > static_cast<double>(last))) {
      table.outside[static_cast<size_t>(o)] = 1;
      weight[0] = 1.0;
      continue;
    }
    if (method.mode == ResizeMode::kNearest) {
      index[0] = nearest_index(x, method.rounding, size.scale);
      weight[0] = 1.0;
    } else {
      const double x0 = std::floor(x);
      const double r = x - x0;
      const int64_t first = static_cast<int64_t>(x0) - (taps == 4 ? 1 : 0);
      for (int64_t t = 0; t < taps; ++t) index[t] = first + t;
      if (taps == 2) {
        weight[0] = 1.0 - r;
        weight[1] = r;
      } else {
        cubic_weights(r, method.cubic_a, weight);
        if (method.exclude_outside) {
          double sum = 0;
          for (int64_t t = 0; t < taps; ++t) {
            if (index[t] < 0 || index[t] > last) weight[t] = 0;
            sum += weight[t];
          }
          if (sum != 0)
            for (int64_t t = 0; t < taps; ++t) weight[t] /= sum;
        }
      }
    }
    for (int64_t t = 0; t < taps; ++t) index[t] = std::clamp(index[t], int64_t{0}, std::max(last, int64_t{0}));
  }

  // Outputs that land exactly on one input sample need a single tap.
  if (taps > 1) {
    bool single = true;
    for (int64_t o = 0; o < size.out && single; ++o) {
      int nonzero = 0;
      for (int64_t t = 0; t < taps; ++t) nonzero += table.weight[static_cast<size_t>(o * taps + t)] != 0.0;
      single = nonzero <= 1;
    }
    if (single) {
      ResizeAxisTable one;
      one.taps = 1;
      one.outside = table.outside;
      for (int64_t o = 0; o < size.out; ++o) {
        int64_t pick = 0;
        for (int64_t t = 0; t < taps; ++t)
          if (table.weight[static_cast<size_t>(o * taps + t)] != 0.0) pick = t;
        one.index.push_back(table.index[static_cast<size_t>(o * taps + pick)]);
        one.weight.push_back(table.weight[static_cast<size_t>(o * taps + pick)]);
      }
      return one;
    }
  }
  return table;
}

ResizePlan plan_resize(const ResizeMethod& method, const std::vector<ResizeAxisSize>& sizes,
                       double extrapolation_value) {
  ResizePlan plan;
  plan.extrapolation_value = extrapolation_value;
  for (const ResizeAxisSize& size : sizes) {
    plan.in_shape.push_back(size.in);
    plan.out_shape.push_back(size.out);
    plan.axes.push_back(plan_resize_axis(method, size));
  }
  return plan;
}

}  // namespace kiln::kernels
