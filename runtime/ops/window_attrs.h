// How the sliding-window attributes (graph/window_attrs.h) become a
// kernels::WindowGeometry once the input's shape is known.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/ir.h"
#include "graph/window_attrs.h"
#include "kernels/window_geometry.h"

namespace kiln {

using graph::AutoPad;
using graph::check_window_rank;
using graph::read_window_attrs;
using graph::WindowAttrs;

// The forward (Conv / pooling) geometry for the given input spatial dims and
// kernel dims (same length, 1..3), one graph::resolve_window_axis per axis.
// kiln::Error naming the node when the window does not fit in the padded input.
kernels::WindowGeometry resolve_window(const graph::Node& node, const WindowAttrs& attrs,
                                       const std::vector<int64_t>& input_dims,
                                       const std::vector<int64_t>& kernel_dims);

}  // namespace kiln
