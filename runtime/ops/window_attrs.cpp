#include "runtime/ops/window_attrs.h"

#include <algorithm>
#include <string>

#include "kiln/error.h"

namespace kiln {

namespace {

AutoPad parse_auto_pad(const graph::Node& node) {
  const std::string text = node.attr_string("auto_pad", "NOTSET");
  if (text == "NOTSET" || text.empty()) return AutoPad::kNotSet;
  if (text == "SAME_UPPER") return AutoPad::kSameUpper;
  if (text == "SAME_LOWER") return AutoPad::kSameLower;
  if (text == "VALID") return AutoPad::kValid;
  fail(node.describe(), ": unknown auto_pad '", text, "' (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)");
}

void check_all_at_least(const graph::Node& node, const char* name, const std::vector<int64_t>& values,
                        int64_t minimum) {
  for (int64_t v : values)
    if (v < minimum) fail(node.describe(), ": every value of '", name, "' must be >= ", minimum, ", got ", v);
}

// Window attributes above this are rejected, which keeps every product in
// resolve_window (dilation * kernel, (out - 1) * stride) inside int64.
constexpr int64_t kMaxWindowAttr = (int64_t{1} << 31) - 1;

void check_all_at_most(const graph::Node& node, const char* name, const std::vector<int64_t>& values) {
  for (int64_t v : values)
    if (v > kMaxWindowAttr)
      fail(node.describe(), ": every value of '", name, "' must be <= ", kMaxWindowAttr, ", got ", v);
}

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

}  // namespace

size_t WindowAttrs::implied_rank() const {
  if (!kernel_shape.empty()) return kernel_shape.size();
  if (!strides.empty()) return strides.size();
  if (!dilations.empty()) return dilations.size();
  if (!pads.empty()) return pads.size() / 2;
  return 0;
}

WindowAttrs read_window_attrs(const graph::Node& node) {
  WindowAttrs attrs;
  attrs.kernel_shape = node.attr_ints("kernel_shape");
  attrs.strides = node.attr_ints("strides");
  attrs.dilations = node.attr_ints("dilations");
  attrs.pads = node.attr_ints("pads");
  attrs.auto_pad = parse_auto_pad(node);
  attrs.ceil_mode = node.attr_int("ceil_mode", 0) != 0;
  check_all_at_least(node, "kernel_shape", attrs.kernel_shape, 1);
  check_all_at_least(node, "strides", attrs.strides, 1);
  check_all_at_least(node, "dilations", attrs.dilations, 1);
  check_all_at_least(node, "pads", attrs.pads, 0);
  check_all_at_most(node, "kernel_shape", attrs.kernel_shape);
  check_all_at_most(node, "strides", attrs.strides);
  check_all_at_most(node, "dilations", attrs.dilations);
  check_all_at_most(node, "pads", attrs.pads);
  if (attrs.pads.size() % 2 != 0)
    fail(node.describe(), ": 'pads' has ", attrs.pads.size(), " values, expected 2 per spatial dim");
  if (size_t rank = attrs.implied_rank(); rank != 0) check_window_rank(node, attrs, rank);
  return attrs;
}

void check_window_rank(const graph::Node& node, const WindowAttrs& attrs, size_t spatial_rank) {
  auto check_length = [&](const char* name, const std::vector<int64_t>& values, size_t per_dim) {
    if (!values.empty() && values.size() != per_dim * spatial_rank)
      fail(node.describe(), ": '", name, "' has ", values.size(), " values, expected ", per_dim * spatial_rank,
           " for ", spatial_rank, " spatial dims");
  };
  check_length("kernel_shape", attrs.kernel_shape, 1);
  check_length("strides", attrs.strides, 1);
  check_length("dilations", attrs.dilations, 1);
  check_length("pads", attrs.pads, 2);
  if (spatial_rank < 1 || spatial_rank > static_cast<size_t>(kernels::WindowGeometry::kDims))
    fail_unsupported(node.describe(), ": ", spatial_rank, " spatial dims are not supported (kiln handles 1, 2 or 3)");
}

kernels::WindowGeometry resolve_window(const graph::Node& node, const WindowAttrs& attrs,
                                       const std::vector<int64_t>& input_dims,
                                       const std::vector<int64_t>& kernel_dims) {
  const size_t rank = input_dims.size();
  check_window_rank(node, attrs, rank);
  kernels::WindowGeometry g;
  for (size_t i = 0; i < rank; ++i) {
    const size_t dim = kernels::WindowGeometry::kDims - rank + i;  // right-aligned: 1-D uses width
    const int64_t in = input_dims[i];
    const int64_t kernel = kernel_dims[i];
    const int64_t stride = attrs.strides.empty() ? 1 : attrs.strides[i];
    const int64_t dilation = attrs.dilations.empty() ? 1 : attrs.dilations[i];
    int64_t extent = 0;  // input span of one window
    if (kernel < 1 || __builtin_mul_overflow(dilation, kernel - 1, &extent) || extent > kMaxWindowAttr * 2)
      fail(node.describe(), ": kernel dim ", i, " of size ", kernel, " with dilation ", dilation,
           " is not a usable window");
    extent += 1;
    int64_t pad_begin = 0, pad_end = 0, out = 0;
    if (attrs.auto_pad == AutoPad::kSameUpper || attrs.auto_pad == AutoPad::kSameLower) {
      out = ceil_div(in, stride);
      const int64_t total = std::max<int64_t>(0, (out - 1) * stride + extent - in);
      pad_begin = attrs.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      pad_end = total - pad_begin;
    } else {
      if (attrs.auto_pad == AutoPad::kNotSet && !attrs.pads.empty()) {
        pad_begin = attrs.pads[i];
        pad_end = attrs.pads[i + rank];
      }
      const int64_t span = in + pad_begin + pad_end - extent;
      if (span < 0)
        fail(node.describe(), ": spatial dim ", i, " of size ", in, " (padded by ", pad_begin, "+", pad_end,
             ") is smaller than the window extent ", extent);
      out = (attrs.ceil_mode ? ceil_div(span, stride) : span / stride) + 1;
      // With ceil_mode the last window must still start inside the input or its begin padding.
      if (attrs.ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
    }
    g.in[dim] = in;
    g.out[dim] = out;
    g.kernel[dim] = kernel;
    g.stride[dim] = stride;
    g.dilation[dim] = dilation;
    g.pad_begin[dim] = pad_begin;
    g.pad_end[dim] = pad_end;
  }
  return g;
}

}  // namespace kiln
