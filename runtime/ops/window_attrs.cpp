#include "runtime/ops/window_attrs.h"

namespace kiln {

static_assert(graph::kMaxWindowRank == static_cast<size_t>(kernels::WindowGeometry::kDims));

kernels::WindowGeometry resolve_window(const graph::Node& node, const WindowAttrs& attrs,
                                       const std::vector<int64_t>& input_dims,
                                       const std::vector<int64_t>& kernel_dims) {
  const size_t rank = input_dims.size();
  check_window_rank(node, attrs, rank);
  kernels::WindowGeometry g;
  for (size_t i = 0; i < rank; ++i) {
    const size_t dim = kernels::WindowGeometry::kDims - rank + i;  // right-aligned: 1-D uses width
    const graph::WindowAxis axis = graph::resolve_window_axis(node, attrs, i, rank, input_dims[i], kernel_dims[i]);
    g.in[dim] = input_dims[i];
    g.out[dim] = axis.out;
    g.kernel[dim] = kernel_dims[i];
    g.stride[dim] = axis.stride;
    g.dilation[dim] = axis.dilation;
    g.pad_begin[dim] = axis.pad_begin;
    g.pad_end[dim] = axis.pad_end;
  }
  return g;
}

}  // namespace kiln
