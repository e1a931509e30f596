// Resize (Upsample) kernels.
//
// Resizing is separable: along each axis, output index o reads a few input
// indices ("taps") with weights. plan_resize_axis() turns the ONNX
// attributes into such a table per axis once per run; the kernels then only
// follow tables:
//   - resize_reference: any rank, any mode, any type; per output element the
//     weighted sum over every tap combination, in double. Readable, slow.
//   - nearest mode: kernels::gather_by_axis_tables (data_movement.h) with the
//     one-tap tables (any type; -1 marks extrapolated places).
//   - f32_resize_bilinear: float tensors where only the last two axes are
//     interpolated with <= 2 taps (NCHW bilinear), threaded over output rows.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::kernels {

enum class ResizeMode { kNearest, kLinear, kCubic };

// How an output coordinate maps back to an input coordinate.
enum class ResizeCoordinates {
  kHalfPixel,          // (x + 0.5) / scale - 0.5
  kPytorchHalfPixel,   // like half_pixel, but 0 when the output length is 1
  kAlignCorners,       // x * (in - 1) / (out - 1), 0 when out == 1
  kAsymmetric,         // x / scale
  kTfHalfPixelForNn,   // (x + 0.5) / scale
  kTfCropAndResize,    // roi-relative align-corners; outside -> extrapolation value
};

// How a fractional coordinate picks the nearest input index.
enum class NearestRounding {
  kRoundPreferFloor,  // ties go down
  kRoundPreferCeil,   // ties go up
  kFloor,
  kCeil,
  kLegacy,            // Resize-10 / Upsample: ceil when downsampling, truncate otherwise
};

struct ResizeMethod {
  ResizeMode mode = ResizeMode::kNearest;
  ResizeCoordinates coordinates = ResizeCoordinates::kHalfPixel;
  NearestRounding rounding = NearestRounding::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;  // cubic: drop taps outside the input, renormalize
};

// One axis of the problem.
struct ResizeAxisSize {
  int64_t in = 0;
  int64_t out = 0;
  double scale = 1.0;  // out / in as the node states it (the scales input, or sizes / in)
  double roi_start = 0.0, roi_end = 1.0;  // tf_crop_and_resize only (normalized)
};

// Per output index along one axis: `taps` input indices (clamped into the
// input) and their weights, stored at [o * taps, (o + 1) * taps); outside[o]
// is 1 when the coordinate lies outside the input (tf_crop_and_resize), and
// that output takes the extrapolation value.
struct ResizeAxisTable {
  int64_t taps = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
  std::vector<uint8_t> outside;

  // True when output o simply copies input o (no resizing on this axis).
  bool is_identity() const;
};

// The input coordinate that output index x maps back to.
double resize_source_coordinate(ResizeCoordinates coordinates, double x, const ResizeAxisSize& size);

// The tap table of one axis. An axis whose outputs all land exactly on input
// samples gets one tap per output, whatever the mode.
ResizeAxisTable plan_resize_axis(const ResizeMethod& method, const ResizeAxisSize& size);

// The whole problem: tables for every axis of a contiguous tensor.
struct ResizePlan {
  std::vector<int64_t> in_shape, out_shape;
  std::vector<ResizeAxisTable> axes;
  double extrapolation_value = 0.0;
};

ResizePlan plan_resize(const ResizeMethod& method, const std::vector<ResizeAxisSize>& sizes,
                       double extrapolation_value);

// Reference twin for every resize path: any rank, mode and numeric type
// (float results are computed in double and converted with the Cast rules).
void resize_reference(const ResizePlan& plan, const void* src, void* dst, DataType type);

// True when f32_resize_bilinear can run `plan`: rank >= 2, every axis but
// the last two is an identity, the last two use at most two taps.
bool f32_resize_bilinear_applies(const ResizePlan& plan);

// Bilinear resize of float planes (all leading axes flattened into planes).
void f32_resize_bilinear(const ResizePlan& plan, const float* src, float* dst, int threads);

}  // namespace kiln::kernels
