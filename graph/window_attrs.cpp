#include "graph/window_attrs.h"

#include <algorithm>
#include <string>

#include "kiln/error.h"

namespace kiln::graph {

namespace {

AutoPad parse_auto_pad(const Node& node) {
  const std::string text = node.attr_string("auto_pad", "NOTSET");
  if (text == "NOTSET" || text.empty()) return AutoPad::kNotSet;
  if (text == "SAME_UPPER") return AutoPad::kSameUpper;
  if (text == "SAME_LOWER") return AutoPad::kSameLower;
  if (text == "VALID") return AutoPad::kValid;
  fail(node.describe(), ": unknown auto_pad '", text, "' (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)");
}

void check_all_at_least(const Node& node, const char* name, const std::vector<int64_t>& values,
                        int64_t minimum) {
  for (int64_t v : values)
    if (v < minimum) fail(node.describe(), ": every value of '", name, "' must be >= ", minimum, ", got ", v);
}

// Window attributes above this are rejected, which keeps every product in
// resolve_window (dilation * kernel, (out - 1) * stride) inside int64.
constexpr int64_t kMaxWindowAttr = (int64_t{1} << 31) - 1;

void check_all_at_most(const Node& node, const char* name, const std::vector<int64_t>& values) {
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

WindowAttrs read_window_attrs(const Node& node) {
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

std::string ints_to_string(const std::vector<int64_t>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

void check_window_rank(const Node& node, const WindowAttrs& attrs, size_t spatial_rank) {
  auto check_length = [&](const char* name, const std::vector<int64_t>& values, size_t per_dim) {
    if (!values.empty() && values.size() != per_dim * spatial_rank)
      fail(node.describe(), ": '", name, "' has ", values.size(), " values, expected ", per_dim * spatial_rank,
           " for ", spatial_rank, " spatial dims");
  };
  check_length("kernel_shape", attrs.kernel_shape, 1);
  check_length("strides", attrs.strides, 1);
  check_length("dilations", attrs.dilations, 1);
  check_length("pads", attrs.pads, 2);
  if (spatial_rank < 1 || spatial_rank > kMaxWindowRank)
    fail_unsupported(node.describe(), ": ", spatial_rank, " spatial dims are not supported (kiln handles 1, 2 or 3)");
}

WindowAxis resolve_window_axis(const Node& node, const WindowAttrs& attrs, size_t i, size_t rank, int64_t in,
                               int64_t kernel) {
  WindowAxis w;
  w.stride = attrs.strides.empty() ? 1 : attrs.strides[i];
  w.dilation = attrs.dilations.empty() ? 1 : attrs.dilations[i];
  int64_t extent = 0;  // input span of one window
  if (kernel < 1 || __builtin_mul_overflow(w.dilation, kernel - 1, &extent) || extent > kMaxWindowAttr * 2)
    fail(node.describe(), ": kernel dim ", i, " of size ", kernel, " with dilation ", w.dilation,
         " is not a usable window");
  extent += 1;
  if (in < 0 || in > kMaxWindowAttr * 4)
    fail(node.describe(), ": spatial dim ", i, " of size ", in, " is out of range for a window");
  if (attrs.auto_pad == AutoPad::kSameUpper || attrs.auto_pad == AutoPad::kSameLower) {
    w.out = ceil_div(in, w.stride);
    const int64_t total = std::max<int64_t>(0, (w.out - 1) * w.stride + extent - in);
    w.pad_begin = attrs.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
    w.pad_end = total - w.pad_begin;
    return w;
  }
  if (attrs.auto_pad == AutoPad::kNotSet && !attrs.pads.empty()) {
    w.pad_begin = attrs.pads[i];
    w.pad_end = attrs.pads[i + rank];
  }
  const int64_t span = in + w.pad_begin + w.pad_end - extent;
  if (span < 0)
    fail(node.describe(), ": spatial dim ", i, " of size ", in, " (padded by ", w.pad_begin, "+", w.pad_end,
         ") is smaller than the window extent ", extent);
  w.out = (attrs.ceil_mode ? ceil_div(span, w.stride) : span / w.stride) + 1;
  // With ceil_mode the last window must still start inside the input or its begin padding.
  if (attrs.ceil_mode && (w.out - 1) * w.stride >= in + w.pad_begin) --w.out;
  return w;
}

}  // namespace kiln::graph
