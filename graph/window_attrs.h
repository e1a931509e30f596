// The sliding-window attributes shared by Conv, ConvTranspose, MaxPool and
// AveragePool (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode),
// and the one rule that turns them into output sizes and pads: shape
// inference (graph/shape_rules.cpp) and the kernels' geometry
// (runtime/ops/window_attrs.h) both call resolve_window_axis.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace kiln::graph {

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

// The largest spatial rank kiln's window kernels handle.
inline constexpr size_t kMaxWindowRank = 3;

// Reads and checks what needs no shapes: the auto_pad spelling, positive
// kernel dims, strides and dilations, non-negative pads, and list lengths
// that agree with each other. kiln::Error naming the node otherwise.
WindowAttrs read_window_attrs(const Node& node);

// "[1, 2, 0, 0]", for messages about an attribute list.
std::string ints_to_string(const std::vector<int64_t>& values);

// Checks the list lengths against a spatial rank and that kiln supports that
// rank (1 to kMaxWindowRank).
void check_window_rank(const Node& node, const WindowAttrs& attrs, size_t spatial_rank);

// One spatial axis of a forward (Conv / pooling) window.
struct WindowAxis {
  int64_t stride = 1;
  int64_t dilation = 1;
  int64_t pad_begin = 0;
  int64_t pad_end = 0;
  int64_t out = 0;
};

// Axis `axis` of `rank` spatial axes, input size `in`, kernel size `kernel`:
// stride and dilation from the lists, pads from auto_pad or `pads`, the
// output size from the usual floor (or ceil_mode) rule. kiln::Error naming
// the node when the window does not fit in the padded input.
WindowAxis resolve_window_axis(const Node& node, const WindowAttrs& attrs, size_t axis, size_t rank, int64_t in,
                               int64_t kernel);

}  // namespace kiln::graph
