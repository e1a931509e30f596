// The sliding-window attributes shared by Conv, ConvTranspose, MaxPool and
// AveragePool (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode),
// and how they turn into a kernels::WindowGeometry once shapes are known.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/ir.h"
#include "kernels/window_geometry.h"

namespace kiln {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// The attributes as written in the node; an empty list means "absent".
struct WindowAttrs {
  std::vector<int64_t> kernel_shape;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;  // [begin_0, begin_1, ..., end_0, end_1, ...]
  AutoPad auto_pad = AutoPad::kNotSet;
  bool ceil_mode = false;

  // The spatial rank the lists imply (0 when none is given).
  size_t implied_rank() const;
};

// Reads and checks what needs no shapes: the auto_pad spelling, positive
// kernel dims, strides and dilations, non-negative pads, and list lengths
// that agree with each other. kiln::Error naming the node otherwise.
WindowAttrs read_window_attrs(const graph::Node& node);

// Checks the list lengths against a spatial rank and that kiln supports that
// rank (1, 2 or 3).
void check_window_rank(const graph::Node& node, const WindowAttrs& attrs, size_t spatial_rank);

// The forward (Conv / pooling) geometry for the given input spatial dims and
// kernel dims (same length, 1..3): pads from auto_pad or `pads`, output dims
// from the usual floor (or ceil_mode) rule. kiln::Error naming the node when
// the window does not fit in the padded input.
kernels::WindowGeometry resolve_window(const graph::Node& node, const WindowAttrs& attrs,
                                       const std::vector<int64_t>& input_dims,
                                       const std::vector<int64_t>& kernel_dims);

}  // namespace kiln
