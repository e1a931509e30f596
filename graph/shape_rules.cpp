#include "graph/shape_rules.h"

#include <algorithm>
#include <cmath>

#include <onnx/onnx_pb.h>

#include "graph/window_attrs.h"
#include "platform/checked_math.h"

namespace kiln::graph {

std::vector<int64_t> ShapeContext::ints_from(const std::string& attr, size_t index, bool& known) const {
  known = true;
  if (node.has_attr(attr)) return node.attr_ints(attr);
  if (has_input(index)) {
    if (const Tensor* c = constant(index)) return c->to_int64_vector();
    known = false;
  }
  return {};
}

namespace shape_rules {

static Dim fixed(int64_t v) { return Dim{v, ""}; }

static Dim unknown() { return Dim{}; }

static ValueInfo make(DataType type, std::vector<Dim> dims) {
  ValueInfo v;
  v.dtype = type;
  v.has_shape = true;
  v.dims = std::move(dims);
  return v;
}
static ValueInfo make_fixed(DataType type, const Shape& shape) {
  std::vector<Dim> dims;
  for (int64_t d : shape) dims.push_back(fixed(d));
  return make(type, dims);
}
static ValueInfo unknown_shape(DataType type) {
  ValueInfo v;
  v.dtype = type;
  return v;
}

static int64_t normalize_axis(const Node& node, int64_t axis, size_t rank) {
  int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) fail(node.describe(), ": axis ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + r : axis;
}

// Numpy broadcasting of two dims.
static Dim broadcast_dim(const Node& node, const Dim& a, const Dim& b) {
  if (a.is_fixed() && b.is_fixed()) {
    if (a.value == b.value || b.value == 1) return a;
    if (a.value == 1) return b;
    fail(node.describe(), ": cannot broadcast dimensions ", a.value, " and ", b.value);
  }
  if (a.is_fixed() && a.value != 1) return a;
  if (b.is_fixed() && b.value != 1) return b;
  if (a.is_fixed()) return b;  // a == 1
  if (b.is_fixed()) return a;  // b == 1
  if (!a.symbol.empty() && a.symbol == b.symbol) return a;
  return unknown();
}

static std::vector<Dim> broadcast(const Node& node, const std::vector<Dim>& a, const std::vector<Dim>& b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<Dim> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const Dim one = fixed(1);
    const Dim& da = i + a.size() >= rank ? a[i + a.size() - rank] : one;
    const Dim& db = i + b.size() >= rank ? b[i + b.size() - rank] : one;
    out[i] = broadcast_dim(node, da, db);
  }
  return out;
}

Out same_as_input(const ShapeContext& c) {
  if (!c.in.empty() && c.in[0]) {
    ValueInfo v = *c.in[0];
    v.name.clear();
    return {v};
  }
  return {};
}

static std::vector<ValueInfo> broadcast_all(const ShapeContext& c, DataType out_type) {
  std::vector<Dim> dims;
  for (size_t i = 0; i < c.in.size(); ++i) {
    if (!c.has_input(i)) continue;
    const ValueInfo* v = c.shaped(i);
    if (!v) return {unknown_shape(out_type)};
    dims = i == 0 ? v->dims : broadcast(c.node, dims, v->dims);
  }
  return {make(out_type, dims)};
}

static std::vector<ValueInfo> conv_like(const ShapeContext& c, bool is_pool) {
  const ValueInfo* x = c.shaped(0);
  if (!x || x->dims.size() < 3) return {unknown_shape(c.dtype(0))};
  const size_t spatial = x->dims.size() - 2;
  const WindowAttrs attrs = read_window_attrs(c.node);
  std::vector<int64_t> kernel = attrs.kernel_shape;
  Dim channels = x->dims[1];
  if (!is_pool) {
    const ValueInfo* w = c.shaped(1);
    if (w && w->dims.size() == x->dims.size()) {
      channels = w->dims[0];
      if (kernel.empty())
        for (size_t i = 0; i < spatial; ++i) kernel.push_back(w->dims[2 + i].value);
    }
    if (const Tensor* wc = c.constant(1); wc && wc->rank() == x->dims.size()) {  // a malformed W is the kernel's to report
      channels = fixed(wc->dim(0));
      if (kernel.empty())
        for (size_t i = 0; i < spatial; ++i) kernel.push_back(wc->dim(2 + i));
    }
  }
  if (kernel.size() != spatial || std::any_of(kernel.begin(), kernel.end(), [](int64_t k) { return k <= 0; }))
    return {unknown_shape(c.dtype(0))};
  check_window_rank(c.node, attrs, spatial);
  std::vector<Dim> dims = {x->dims[0], channels};
  for (size_t i = 0; i < spatial; ++i) {
    const Dim& in = x->dims[2 + i];
    dims.push_back(in.is_fixed() ? fixed(resolve_window_axis(c.node, attrs, i, spatial, in.value, kernel[i]).out)
                                 : unknown());
  }
  std::vector<ValueInfo> out = {make(c.dtype(0), dims)};
  if (is_pool && c.node.outputs.size() > 1) out.push_back(make(DataType::kInt64, dims));
  return out;
}

Out conv_transpose(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  const Tensor* w = c.constant(1);
  if (!x || !w || x->dims.size() < 3 || w->rank() != x->dims.size()) return {unknown_shape(c.dtype(0))};
  size_t spatial = x->dims.size() - 2;
  int64_t group = c.node.attr_int("group", 1);
  const std::string who = c.node.describe();
  std::vector<Dim> dims = {x->dims[0], fixed(checked::mul(w->dim(1), group, who, "the output channel count"))};
  auto output_shape = c.node.attr_ints("output_shape");
  if (output_shape.size() == spatial) {
    for (int64_t d : output_shape) dims.push_back(fixed(d));
    return {make(c.dtype(0), dims)};
  }
  std::vector<int64_t> kernel = c.node.attr_ints("kernel_shape");
  if (kernel.empty())
    for (size_t i = 0; i < spatial; ++i) kernel.push_back(w->dim(2 + i));
  auto strides = c.node.attr_ints("strides", std::vector<int64_t>(spatial, 1));
  auto dilations = c.node.attr_ints("dilations", std::vector<int64_t>(spatial, 1));
  auto pads = c.node.attr_ints("pads", std::vector<int64_t>(2 * spatial, 0));
  auto output_padding = c.node.attr_ints("output_padding", std::vector<int64_t>(spatial, 0));
  std::string auto_pad = c.node.attr_string("auto_pad", "NOTSET");
  if (kernel.size() != spatial || strides.size() != spatial || dilations.size() != spatial ||
      pads.size() != 2 * spatial || output_padding.size() != spatial)
    fail(c.node.describe(), ": kernel_shape, strides, dilations, pads or output_padding has the wrong length");
  for (size_t i = 0; i < spatial; ++i) {
    const Dim& in = x->dims[2 + i];
    if (!in.is_fixed()) {
      dims.push_back(unknown());
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      dims.push_back(fixed(checked::mul(in.value, strides[i], who, "the output size")));
    } else {
      // stride * (in - 1) + output_padding + dilation * (kernel - 1) + 1 - pads
      const char* what = "the output size";
      int64_t pad_total = auto_pad == "VALID" ? 0 : checked::add(pads[i], pads[i + spatial], who, "the pads");
      int64_t extent = checked::add(checked::mul(checked::add(kernel[i], -1, who, what), dilations[i], who, what), 1,
                                    who, what);
      int64_t span = checked::mul(strides[i], checked::add(in.value, -1, who, what), who, what);
      int64_t full = checked::add(checked::add(span, output_padding[i], who, what), extent, who, what);
      dims.push_back(fixed(checked::sub(full, pad_total, who, what)));
    }
  }
  return {make(c.dtype(0), dims)};
}

Out global_pool(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  if (!x || x->dims.size() < 2) return {unknown_shape(c.dtype(0))};
  std::vector<Dim> dims = {x->dims[0], x->dims[1]};
  dims.resize(x->dims.size(), fixed(1));
  return {make(c.dtype(0), dims)};
}

Out gemm(const ShapeContext& c) {
  const ValueInfo* a = c.shaped(0);
  const ValueInfo* b = c.shaped(1);
  if (!a || !b || a->dims.size() != 2 || b->dims.size() != 2) return {unknown_shape(c.dtype(0))};
  bool ta = c.node.attr_int("transA", 0) != 0, tb = c.node.attr_int("transB", 0) != 0;
  return {make(c.dtype(0), {a->dims[ta ? 1 : 0], b->dims[tb ? 0 : 1]})};
}

Out matmul(const ShapeContext& c) {
  const ValueInfo* a = c.shaped(0);
  const ValueInfo* b = c.shaped(1);
  if (!a || !b || a->dims.empty() || b->dims.empty()) return {unknown_shape(c.dtype(0))};
  std::vector<Dim> ad = a->dims, bd = b->dims;
  bool a_vector = ad.size() == 1, b_vector = bd.size() == 1;
  if (a_vector) ad.insert(ad.begin(), fixed(1));
  if (b_vector) bd.push_back(fixed(1));
  std::vector<Dim> batch_a(ad.begin(), ad.end() - 2), batch_b(bd.begin(), bd.end() - 2);
  std::vector<Dim> dims = broadcast(c.node, batch_a, batch_b);
  const Dim &k1 = ad[ad.size() - 1], &k2 = bd[bd.size() - 2];
  if (k1.is_fixed() && k2.is_fixed() && k1.value != k2.value)
    fail(c.node.describe(), ": inner dimensions differ (", k1.value, " vs ", k2.value, ")");
  if (!a_vector) dims.push_back(ad[ad.size() - 2]);
  if (!b_vector) dims.push_back(bd[bd.size() - 1]);
  return {make(c.dtype(0), dims)};
}

static std::vector<ValueInfo> reduce(const ShapeContext& c, DataType out_type, bool axes_from_input) {
  const ValueInfo* x = c.shaped(0);
  if (!x) return {unknown_shape(out_type)};
  bool known = true;
  std::vector<int64_t> axes = axes_from_input ? c.ints_from("axes", 1, known) : c.node.attr_ints("axes");
  if (!known) return {unknown_shape(out_type)};
  bool keepdims = c.node.attr_int("keepdims", 1) != 0;
  if (axes.empty()) {
    if (c.node.attr_int("noop_with_empty_axes", 0) != 0) return {make(out_type, x->dims)};
    for (size_t i = 0; i < x->dims.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  std::vector<bool> reduced(x->dims.size(), false);
  for (int64_t a : axes) reduced[static_cast<size_t>(normalize_axis(c.node, a, x->dims.size()))] = true;
  std::vector<Dim> dims;
  for (size_t i = 0; i < x->dims.size(); ++i) {
    if (!reduced[i]) dims.push_back(x->dims[i]);
    else if (keepdims) dims.push_back(fixed(1));
  }
  return {make(out_type, dims)};
}

Out arg_reduce(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  if (!x) return {unknown_shape(DataType::kInt64)};
  int64_t axis = normalize_axis(c.node, c.node.attr_int("axis", 0), x->dims.size());
  std::vector<Dim> dims = x->dims;
  if (c.node.attr_int("keepdims", 1) != 0) dims[static_cast<size_t>(axis)] = fixed(1);
  else dims.erase(dims.begin() + axis);
  return {make(DataType::kInt64, dims)};
}

Out reshape(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  bool known = true;
  std::vector<int64_t> target = c.ints_from("shape", 1, known);
  if (!known || (!c.has_input(1) && !c.node.has_attr("shape"))) return {unknown_shape(c.dtype(0))};
  bool allowzero = c.node.attr_int("allowzero", 0) != 0;
  std::vector<Dim> dims;
  int infer_at = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t t = target[i];
    if (t == -1) {
      if (infer_at >= 0) fail(c.node.describe(), ": the target shape has more than one -1");
      infer_at = static_cast<int>(i);
      dims.push_back(unknown());
    } else if (t == 0 && !allowzero) {
      if (!x || i >= x->dims.size()) return {unknown_shape(c.dtype(0))};
      dims.push_back(x->dims[i]);
    } else if (t < 0) {
      fail(c.node.describe(), ": invalid target dimension ", t);
    } else {
      dims.push_back(fixed(t));
    }
  }
  if (infer_at >= 0 && x) {
    std::optional<Shape> in = x->static_shape();
    bool rest_fixed = std::all_of(dims.begin(), dims.end(), [&](const Dim& d) { return &d == &dims[static_cast<size_t>(infer_at)] || d.is_fixed(); });
    if (in && rest_fixed) {
      int64_t total = element_count(*in), rest = 1;
      for (size_t i = 0; i < dims.size(); ++i)
        if (static_cast<int>(i) != infer_at) rest = checked::mul(rest, dims[i].value, c.node.describe(), "the target shape's element count");
      if (rest == 0 || total % rest != 0)
        fail(c.node.describe(), ": cannot reshape ", shape_to_string(*in), " to the target shape");
      dims[static_cast<size_t>(infer_at)] = fixed(total / rest);
    }
  }
  return {make(c.dtype(0), dims)};
}

Out flatten(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  if (!x) return {unknown_shape(c.dtype(0))};
  int64_t rank = static_cast<int64_t>(x->dims.size());
  int64_t axis = c.node.attr_int("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) fail(c.node.describe(), ": axis out of range");
  // A fixed 0 makes the product 0 even next to unknown or huge dims.
  auto product = [&](int64_t from, int64_t to, const char* what) {
    Shape values;
    bool all_fixed = true;
    for (int64_t i = from; i < to; ++i) {
      const Dim& d = x->dims[static_cast<size_t>(i)];
      if (d.is_fixed() && d.value == 0) return fixed(0);
      all_fixed = all_fixed && d.is_fixed();
      values.push_back(d.value);
    }
    if (!all_fixed) return unknown();
    return fixed(checked::product(values, 0, values.size(), c.node.describe(), what));
  };
  return {make(c.dtype(0), {product(0, axis, "the outer dim"), product(axis, rank, "the inner dim")})};
}

Out squeeze(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  bool known = true;
  std::vector<int64_t> axes = c.ints_from("axes", 1, known);
  if (!x || !known) return {unknown_shape(c.dtype(0))};
  std::vector<bool> drop(x->dims.size(), false);
  if (axes.empty()) {
    for (size_t i = 0; i < x->dims.size(); ++i) {
      if (!x->dims[i].is_fixed()) return {unknown_shape(c.dtype(0))};
      drop[i] = x->dims[i].value == 1;
    }
  }
  for (int64_t a : axes) drop[static_cast<size_t>(normalize_axis(c.node, a, x->dims.size()))] = true;
  std::vector<Dim> dims;
  for (size_t i = 0; i < x->dims.size(); ++i)
    if (!drop[i]) dims.push_back(x->dims[i]);
  return {make(c.dtype(0), dims)};
}

Out unsqueeze(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  bool known = true;
  std::vector<int64_t> axes = c.ints_from("axes", 1, known);
  if (!x || !known) return {unknown_shape(c.dtype(0))};
  size_t rank = x->dims.size() + axes.size();
  std::vector<bool> inserted(rank, false);
  for (int64_t a : axes) {
    const size_t axis = static_cast<size_t>(normalize_axis(c.node, a, rank));
    if (inserted[axis]) fail(c.node.describe(), ": axes lists axis ", a, " twice");
    inserted[axis] = true;
  }
  std::vector<Dim> dims;
  size_t next = 0;
  for (size_t i = 0; i < rank; ++i) dims.push_back(inserted[i] ? fixed(1) : x->dims[next++]);
  return {make(c.dtype(0), dims)};
}

Out transpose(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  if (!x) return {unknown_shape(c.dtype(0))};
  std::vector<int64_t> perm = c.node.attr_ints("perm");
  if (perm.empty())
    for (size_t i = x->dims.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  if (perm.size() != x->dims.size()) fail(c.node.describe(), ": perm has ", perm.size(), " entries for rank ", x->dims.size());
  std::vector<Dim> dims;
  for (int64_t p : perm) dims.push_back(x->dims[static_cast<size_t>(normalize_axis(c.node, p, x->dims.size()))]);
  return {make(c.dtype(0), dims)};
}

Out concat(const ShapeContext& c) {
  const ValueInfo* first = c.shaped(0);
  if (!first) return {unknown_shape(c.dtype(0))};
  // Concat before opset 4 defaults the axis to 1; from 4 it is required.
  size_t axis = static_cast<size_t>(
      normalize_axis(c.node, c.node.attr_int("axis", c.node.opset < 4 ? 1 : 0), first->dims.size()));
  std::vector<Dim> dims = first->dims;
  for (size_t i = 1; i < c.in.size(); ++i) {
    const ValueInfo* v = c.shaped(i);
    if (!v) return {unknown_shape(c.dtype(0))};
    if (v->dims.size() != dims.size()) fail(c.node.describe(), ": inputs have different ranks");
    for (size_t d = 0; d < dims.size(); ++d) {
      if (d == axis) {
        dims[d] = dims[d].is_fixed() && v->dims[d].is_fixed()
                      ? fixed(checked::add(dims[d].value, v->dims[d].value, c.node.describe(), "the concatenated dim"))
                      : unknown();
      } else if (dims[d].is_fixed() && v->dims[d].is_fixed() && dims[d].value != v->dims[d].value) {
        fail(c.node.describe(), ": inputs differ in dimension ", d, " (", dims[d].value, " vs ", v->dims[d].value, ")");
      } else if (!dims[d].is_fixed()) {
        dims[d] = v->dims[d];
      }
    }
  }
  return {make(c.dtype(0), dims)};
}

// Split sizes must be >= 0 and add up to the axis length (when it is known);
// the sum is checked, so sizes like [INT64_MAX, 2] are an error, not a wrap.
static void check_split_sizes(const Node& node, const std::vector<int64_t>& sizes, const Dim& axis_dim) {
  int64_t total = 0;
  bool fits = true;
  for (int64_t s : sizes) {
    if (s < 0) fail(node.describe(), ": split sizes ", shape_to_string(sizes), " contain a negative size");
    if (fits) {
      std::optional<int64_t> sum = checked::try_add(total, s);
      fits = sum.has_value();
      total = sum.value_or(0);
    }
  }
  if (!axis_dim.is_fixed()) {
    if (!fits) fail(node.describe(), ": split sizes ", shape_to_string(sizes), " add up to more than 2^63");
    return;
  }
  if (!fits || total != axis_dim.value)
    fail(node.describe(), ": split sizes ", shape_to_string(sizes), " add up to ", fits ? std::to_string(total) : "more than 2^63",
         ", not the axis length ", axis_dim.value);
}

Out split(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  size_t n = c.node.outputs.size();
  if (!x) return std::vector<ValueInfo>(n, unknown_shape(c.dtype(0)));
  size_t axis = static_cast<size_t>(normalize_axis(c.node, c.node.attr_int("axis", 0), x->dims.size()));
  bool known = true;
  std::vector<int64_t> sizes = c.ints_from("split", 1, known);
  if (known && !sizes.empty()) {
    if (sizes.size() != n) fail(c.node.describe(), ": split has ", sizes.size(), " sizes for ", n, " outputs");
    check_split_sizes(c.node, sizes, x->dims[axis]);
  }
  std::vector<ValueInfo> out;
  for (size_t i = 0; i < n; ++i) {
    std::vector<Dim> dims = x->dims;
    if (known && !sizes.empty()) {
      dims[axis] = fixed(sizes[i]);
    } else if (known && x->dims[axis].is_fixed()) {
      // ceil(total / n) per output, the last ones taking what is left.
      const int64_t total = x->dims[axis].value, parts = static_cast<int64_t>(n);
      const int64_t chunk = total / parts + (total % parts != 0 ? 1 : 0);
      const int64_t taken = std::min(total, checked::mul(chunk, static_cast<int64_t>(i), c.node.describe(), "a split offset"));
      dims[axis] = fixed(std::min<int64_t>(chunk, total - taken));
    } else {
      dims[axis] = unknown();
    }
    out.push_back(make(c.dtype(0), dims));
  }
  return out;
}

Out slice(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  if (!x) return {unknown_shape(c.dtype(0))};
  bool k1 = true, k2 = true, k3 = true, k4 = true;
  std::vector<int64_t> starts = c.ints_from("starts", 1, k1), ends = c.ints_from("ends", 2, k2);
  std::vector<int64_t> axes = c.ints_from("axes", 3, k3);
  std::vector<int64_t> steps = c.node.opset >= 10 ? c.ints_from("__none__", 4, k4) : std::vector<int64_t>{};
  std::vector<Dim> dims = x->dims;
  if (!k3 || !k4 || ((!k1 || !k2) && axes.empty())) {
    for (auto& d : dims) d = unknown();
    return {make(c.dtype(0), dims)};
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(axes.size(), 1);
  if (starts.size() != axes.size() || ends.size() != axes.size() || steps.size() != axes.size()) {
    if (k1 && k2) fail(c.node.describe(), ": starts, ends, axes and steps differ in length");
  }
  for (size_t i = 0; i < axes.size(); ++i) {
    size_t a = static_cast<size_t>(normalize_axis(c.node, axes[i], dims.size()));
    if (!k1 || !k2 || !dims[a].is_fixed()) {
      dims[a] = unknown();
      continue;
    }
    if (steps[i] == 0) fail(c.node.describe(), ": slice step 0");
    dims[a] = fixed(checked::clamp_slice_axis(starts[i], ends[i], steps[i], dims[a].value).count);
  }
  return {make(c.dtype(0), dims)};
}

Out gather(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  const ValueInfo* idx = c.shaped(1);
  if (!x || !idx) return {unknown_shape(c.dtype(0))};
  size_t axis = static_cast<size_t>(normalize_axis(c.node, c.node.attr_int("axis", 0), x->dims.size()));
  std::vector<Dim> dims(x->dims.begin(), x->dims.begin() + static_cast<long>(axis));
  dims.insert(dims.end(), idx->dims.begin(), idx->dims.end());
  dims.insert(dims.end(), x->dims.begin() + static_cast<long>(axis) + 1, x->dims.end());
  return {make(c.dtype(0), dims)};
}

Out shape(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  if (!x) return {unknown_shape(DataType::kInt64)};
  int64_t rank = static_cast<int64_t>(x->dims.size());
  int64_t start = c.node.attr_int("start", 0), end = c.node.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  return {make(DataType::kInt64, {fixed(std::max<int64_t>(0, end - start))})};
}

static std::vector<ValueInfo> from_constant_shape(const ShapeContext& c, size_t index, DataType type, const ValueInfo* broadcast_with) {
  const Tensor* shape = c.constant(index);
  if (!shape) return {unknown_shape(type)};
  std::vector<Dim> dims;
  for (int64_t d : shape->to_int64_vector()) {
    if (d < 0) fail(c.node.describe(), ": negative dimension ", d, " in the shape input");
    dims.push_back(fixed(d));
  }
  if (broadcast_with) dims = broadcast(c.node, broadcast_with->dims, dims);
  return {make(type, dims)};
}

Out constant_of_shape(const ShapeContext& c) {
  DataType type = DataType::kFloat32;
  if (const Tensor* v = c.node.attr_tensor("value")) type = v->dtype();
  return from_constant_shape(c, 0, type, nullptr);
}

Out constant(const ShapeContext& c) {
  if (const Tensor* v = c.node.attr_tensor("value")) return {make_fixed(v->dtype(), v->shape())};
  if (c.node.has_attr("value_float")) return {make_fixed(DataType::kFloat32, {})};
  if (c.node.has_attr("value_int")) return {make_fixed(DataType::kInt64, {})};
  if (c.node.has_attr("value_floats"))
    return {make_fixed(DataType::kFloat32, {static_cast<int64_t>(c.node.attr_floats("value_floats").size())})};
  if (c.node.has_attr("value_ints"))
    return {make_fixed(DataType::kInt64, {static_cast<int64_t>(c.node.attr_ints("value_ints").size())})};
  return {};
}

Out expand(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  if (!x) return {unknown_shape(c.dtype(0))};
  return from_constant_shape(c, 1, c.dtype(0), x);
}

Out tile(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  const Tensor* repeats = c.constant(1);
  if (!x || !repeats) return {unknown_shape(c.dtype(0))};
  std::vector<int64_t> r = repeats->to_int64_vector();
  if (r.size() != x->dims.size()) fail(c.node.describe(), ": repeats has ", r.size(), " values for rank ", x->dims.size());
  std::vector<Dim> dims = x->dims;
  for (size_t i = 0; i < dims.size(); ++i) dims[i] = dims[i].is_fixed() ? fixed(checked::mul(dims[i].value, r[i], c.node.describe(), "a tiled dim")) : r[i] == 1 ? dims[i] : unknown();
  return {make(c.dtype(0), dims)};
}

Out pad(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  bool known = true;
  std::vector<int64_t> pads = c.ints_from(c.node.opset < 11 ? "pads" : "__none__", 1, known);
  if (c.node.opset < 11) pads = c.node.attr_ints(c.node.opset < 2 ? "paddings" : "pads");  // Pad-1 said paddings
  if (!x || !known || c.has_input(3)) return {unknown_shape(c.dtype(0))};
  size_t rank = x->dims.size();
  if (pads.size() != 2 * rank) fail(c.node.describe(), ": pads has ", pads.size(), " values for rank ", rank);
  std::vector<Dim> dims = x->dims;
  for (size_t i = 0; i < rank; ++i)
    dims[i] = dims[i].is_fixed() ? fixed(checked::add(checked::add(dims[i].value, pads[i], c.node.describe(), "a padded dim"),
                                                      pads[i + rank], c.node.describe(), "a padded dim"))
                                 : (pads[i] == 0 && pads[i + rank] == 0 ? dims[i] : unknown());
  return {make(c.dtype(0), dims)};
}

Out resize(const ShapeContext& c) {
  const ValueInfo* x = c.shaped(0);
  if (!x) return {unknown_shape(c.dtype(0))};
  size_t rank = x->dims.size();
  // Sizes or scales computed at run time: the rank stays (no `axes`), the
  // dims are unknown.
  auto same_rank_unknown_dims = [&] {
    if (c.node.has_attr("axes")) return unknown_shape(c.dtype(0));
    return make(c.dtype(0), std::vector<Dim>(rank, unknown()));
  };
  std::vector<float> scales;
  if (c.node.op_type == "Upsample" && c.node.opset < 9) {
    scales = c.node.attr_floats("scales");
  } else {
    size_t scales_index = c.node.op_type == "Upsample" || c.node.opset < 11 ? 1 : 2;
    size_t sizes_index = 3;
    if (c.node.op_type == "Resize" && c.node.opset >= 11 && c.has_input(sizes_index)) {
      const Tensor* sizes = c.constant(sizes_index);
      if (!sizes) return {same_rank_unknown_dims()};
      if (sizes->size() == static_cast<int64_t>(rank) && !c.node.has_attr("axes") &&
          c.node.attr_string("keep_aspect_ratio_policy", "stretch") == "stretch")
        return from_constant_shape(c, sizes_index, c.dtype(0), nullptr);
      return {unknown_shape(c.dtype(0))};
    }
    const Tensor* s = c.constant(scales_index);
    if (!s) return {same_rank_unknown_dims()};
    for (int64_t i = 0; i < s->size(); ++i) scales.push_back(static_cast<float>(s->value_as_double(i)));
  }
  if (scales.size() != rank) return {unknown_shape(c.dtype(0))};
  std::vector<Dim> dims = x->dims;
  for (size_t i = 0; i < rank; ++i) {
    const double length = dims[i].is_fixed() ? std::floor(static_cast<double>(dims[i].value) * scales[i]) : 0.0;
    if (dims[i].is_fixed() && !(length >= 0.0 && length < 0x1p62)) fail("shape inference: resize scale ", scales[i], " out of range");
    dims[i] = dims[i].is_fixed() ? fixed(static_cast<int64_t>(length)) : (scales[i] == 1.0f ? dims[i] : unknown());
  }
  return {make(c.dtype(0), dims)};
}

static std::vector<ValueInfo> depth_space(const ShapeContext& c, bool to_space) {
  const ValueInfo* x = c.shaped(0);
  if (!x || x->dims.size() != 4) return {unknown_shape(c.dtype(0))};
  int64_t b = c.node.attr_int("blocksize", 0);
  if (b <= 0) fail(c.node.describe(), ": blocksize must be positive");
  const std::string who = c.node.describe();
  auto mul = [&](int64_t a, int64_t b) { return checked::mul(a, b, who, "a dim times blocksize"); };
  auto scale = [&](const Dim& d, int64_t num, int64_t den) {
    return d.is_fixed() ? Dim{mul(d.value, num) / den, ""} : Dim{};
  };
  std::vector<Dim> dims = x->dims;
  if (to_space) dims = {dims[0], scale(dims[1], 1, mul(b, b)), scale(dims[2], b, 1), scale(dims[3], b, 1)};
  else dims = {dims[0], scale(dims[1], mul(b, b), 1), scale(dims[2], 1, b), scale(dims[3], 1, b)};
  return {make(c.dtype(0), dims)};
}


Out same_shape_bool(const ShapeContext& c) {
  Out out = same_as_input(c);
  if (out.empty()) out.push_back(ValueInfo{});
  out[0].dtype = DataType::kBool;
  return out;
}
Out broadcast(const ShapeContext& c) { return broadcast_all(c, c.dtype(0)); }
Out broadcast_bool(const ShapeContext& c) { return broadcast_all(c, DataType::kBool); }
Out where(const ShapeContext& c) { return broadcast_all(c, c.dtype(1)); }
DataType cast_target(const Node& node) {
  auto it = node.attrs.find("to");
  if (it == node.attrs.end()) return DataType::kUndefined;
  if (it->second.kind == Attribute::Kind::kString) {
    onnx::TensorProto_DataType type{};
    if (!onnx::TensorProto_DataType_Parse(it->second.s, &type)) return DataType::kUndefined;
    return static_cast<DataType>(type);
  }
  return static_cast<DataType>(node.attr_int("to", 0));
}

Out cast(const ShapeContext& c) {
  Out out = same_as_input(c);
  if (out.empty()) out.push_back(ValueInfo{});
  out[0].dtype = cast_target(c.node);
  return out;
}
Out cast_like(const ShapeContext& c) {
  Out out = same_as_input(c);
  if (out.empty()) out.push_back(ValueInfo{});
  out[0].dtype = c.dtype(1);
  return out;
}
Out dropout(const ShapeContext& c) {
  Out out = same_as_input(c);
  if (!out.empty() && c.node.outputs.size() > 1) {
    out.push_back(out[0]);
    out[1].dtype = DataType::kBool;
  }
  return out;
}
Out type_of_input(const ShapeContext& c) { return {unknown_shape(c.dtype(0))}; }

Out conv(const ShapeContext& c) { return conv_like(c, false); }
Out pool(const ShapeContext& c) { return conv_like(c, true); }
Out reduce_axes_attribute(const ShapeContext& c) { return reduce(c, c.dtype(0), false); }
Out reduce_axes_input(const ShapeContext& c) { return reduce(c, c.dtype(0), true); }
Out reduce_sum(const ShapeContext& c) { return reduce(c, c.dtype(0), c.node.opset >= 13); }
Out reduce_other(const ShapeContext& c) { return reduce(c, c.dtype(0), c.node.opset >= 18); }

Out gather_elements(const ShapeContext& c) {
  const ValueInfo* indices = c.shaped(1);
  if (!indices) return {unknown_shape(c.dtype(0))};
  return {make(c.dtype(0), indices->dims)};
}
Out size(const ShapeContext&) { return {make_fixed(DataType::kInt64, {})}; }
Out depth_to_space(const ShapeContext& c) { return depth_space(c, true); }
Out space_to_depth(const ShapeContext& c) { return depth_space(c, false); }

}  // namespace shape_rules

}  // namespace kiln::graph
