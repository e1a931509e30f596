// Shape operators: they compute a new shape (or a tensor describing a shape)
// and, where the bytes stay the same, hand out a view of the input
// (ctx.set_output) instead of copying.
//
// Reshape Flatten Squeeze Unsqueeze Shape Size Expand Identity Dropout
// ConstantOfShape Constant Range
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "kernels/convert_elements.h"
#include "kernels/data_movement.h"
#include "platform/checked_math.h"
#include "runtime/op_registry.h"
#include "runtime/ops/shape_util.h"

namespace kiln {

namespace {

using graph::Node;
using ops::normalize_axes;
using ops::normalize_axis;
using ops::read_int_list;

// ---------------------------------------------------------------- Reshape --

// The output shape of Reshape: 0 copies the input dim (unless allow_zero),
// -1 is inferred from the element count.
Shape reshape_target(const Shape& input, const std::vector<int64_t>& spec, bool allow_zero, const Node& node) {
  Shape out(spec.size());
  std::optional<size_t> inferred;
  int64_t known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t v = spec[i];
    if (v == -1) {
      if (inferred) fail(node.describe(), ": shape ", shape_to_string(spec), " has more than one -1");
      inferred = i;
      continue;
    }
    if (v == 0 && !allow_zero) {
      if (i >= input.size())
        fail(node.describe(), ": shape ", shape_to_string(spec), " copies dim ", i, " (0) but the input ",
             shape_to_string(input), " has rank ", input.size());
      v = input[i];
    }
    if (v < 0) fail(node.describe(), ": shape ", shape_to_string(spec), " has invalid dim ", v);
    out[i] = v;
    known = ops::checked_mul(known, v, node, "the element count of the target shape");
  }
  const int64_t total = element_count(input);
  if (inferred) {
    if (known == 0 || total % known != 0)
      fail(node.describe(), ": cannot reshape ", shape_to_string(input), " to ", shape_to_string(spec),
           " (the -1 dim cannot be inferred)");
    out[*inferred] = total / known;
  } else if (element_count(out) != total) {
    fail(node.describe(), ": cannot reshape ", shape_to_string(input), " (", total, " elements) to ",
         shape_to_string(out));
  }
  return out;
}

// Reshape-5+: the target shape is input 1; allowzero (14+) keeps literal zeros.
class ReshapeKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit ReshapeKernel(const KernelInit& init) : allow_zero_(init.node().attr_int("allowzero", 0) != 0) {
    // Before opset 5 the target shape is the `shape` attribute.
    const bool attribute_form = init.opset() < 5;
    if (attribute_form) init.node().required_attr("shape");
    else if (init.num_inputs() < 2) fail(init.node().describe(), ": Reshape needs the shape input");
    if (attribute_form || init.constant_input(1)) {
      spec_ = attribute_form ? init.node().attr_ints("shape")
                             : read_int_list(*init.constant_input(1), init.node(), "shape");
      const auto count = [this](int64_t v) { return std::count(spec_->begin(), spec_->end(), v); };
      const Node& node = init.node();
      for (int64_t v : *spec_)
        if (v < -1) fail(node.describe(), ": shape ", shape_to_string(*spec_), " has invalid dim ", v);
      if (count(-1) > 1) fail(node.describe(), ": shape ", shape_to_string(*spec_), " has more than one -1");
      if (allow_zero_ && count(0) > 0 && count(-1) > 0)
        fail(node.describe(), ": shape ", shape_to_string(*spec_), " mixes 0 and -1 with allowzero=1");
    }
  }

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    std::vector<int64_t> spec = spec_ ? *spec_ : read_int_list(ctx.required_input(1), ctx.node(), "shape");
    ctx.set_output(0, input.reshaped(reshape_target(input.shape(), spec, allow_zero_, ctx.node())));
  }

 private:
  bool allow_zero_;
  std::optional<std::vector<int64_t>> spec_;
};

// ---------------------------------------------------------------- Flatten --

// Flatten: 2-D view (prod(dims[:axis]), prod(dims[axis:])); axis in [-rank, rank].
class FlattenKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit FlattenKernel(const KernelInit& init) : axis_(init.node().attr_int("axis", 1)) {}

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    const int64_t rank = static_cast<int64_t>(input.rank());
    if (axis_ < -rank || axis_ > rank)
      fail(ctx.node().describe(), ": axis ", axis_, " is out of range for rank ", rank);
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    // Checked products (a 0 among the dims makes one 0, never an overflow),
    // each a dim within 2^40: e.g. 2^32 x 2^32 x 0 is 2^64 x 0, an error, not 0 x 0.
    const std::string who = ctx.node().describe();
    const Shape& dims = input.shape();
    const size_t split = static_cast<size_t>(axis);
    const int64_t outer = checked::dim(checked::product(dims, 0, split, who, "the outer dim"), who, "the outer dim");
    const int64_t inner =
        checked::dim(checked::product(dims, split, dims.size(), who, "the inner dim"), who, "the inner dim");
    ctx.set_output(0, input.reshaped({outer, inner}));
  }

 private:
  int64_t axis_;
};

// ---------------------------------------------------------------- Squeeze --

// Axes come from the attribute before opset 13 and from input 1 from 13 on.
// `required` distinguishes Unsqueeze (axes mandatory) from Squeeze.
std::optional<std::vector<int64_t>> constant_axes(const KernelInit& init, bool required) {
  const Node& node = init.node();
  if (init.opset() < 13) {
    if (node.has_attr("axes")) return node.attr_ints("axes");
    if (required) fail(node.describe(), ": missing attribute 'axes'");
    return std::vector<int64_t>{};
  }
  if (node.has_attr("axes"))
    fail(node.describe(), ": from opset 13 the axes are an input, not an attribute");
  if (!init.has_input(1)) {
    if (required) fail(node.describe(), ": missing the axes input");
    return std::vector<int64_t>{};
  }
  if (const Tensor* axes = init.constant_input(1)) return read_int_list(*axes, node, "axes");
  return std::nullopt;  // read at run time
}

class SqueezeKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit SqueezeKernel(const KernelInit& init) : axes_(constant_axes(init, false)) {}

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    std::vector<int64_t> axes = axes_ ? *axes_ : read_int_list(ctx.required_input(1), ctx.node(), "axes");
    const int64_t rank = static_cast<int64_t>(input.rank());
    std::vector<bool> drop(input.rank(), false);
    if (axes.empty()) {
      for (size_t i = 0; i < input.rank(); ++i) drop[i] = input.dim(i) == 1;
    } else {
      for (int64_t axis : normalize_axes(axes, rank, ctx.node())) {
        if (input.dim(static_cast<size_t>(axis)) != 1)
          fail(ctx.node().describe(), ": cannot squeeze axis ", axis, " of shape ", shape_to_string(input.shape()),
               " (its size is not 1)");
        drop[static_cast<size_t>(axis)] = true;
      }
    }
    Shape out;
    for (size_t i = 0; i < input.rank(); ++i)
      if (!drop[i]) out.push_back(input.dim(i));
    ctx.set_output(0, input.reshaped(out));
  }

 private:
  std::optional<std::vector<int64_t>> axes_;
};

class UnsqueezeKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit UnsqueezeKernel(const KernelInit& init) : axes_(constant_axes(init, true)) {}

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    std::vector<int64_t> axes = axes_ ? *axes_ : read_int_list(ctx.required_input(1), ctx.node(), "axes");
    const int64_t out_rank = static_cast<int64_t>(input.rank() + axes.size());
    std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
    for (int64_t axis : normalize_axes(axes, out_rank, ctx.node())) inserted[static_cast<size_t>(axis)] = true;
    Shape out;
    size_t next_input_dim = 0;
    for (int64_t i = 0; i < out_rank; ++i)
      out.push_back(inserted[static_cast<size_t>(i)] ? 1 : input.dim(next_input_dim++));
    ctx.set_output(0, input.reshaped(out));
  }

 private:
  std::optional<std::vector<int64_t>> axes_;
};

// ------------------------------------------------------------ Shape, Size --

// Shape: the input's dims as int64; opset 15 adds start/end (negative counts
// from the back, both clamped to [0, rank]).
class ShapeKernel : public OpKernel {
 public:
  explicit ShapeKernel(const KernelInit& init)
      : start_(init.node().attr_int("start", 0)), end_(init.node().has_attr("end")
                                                           ? std::optional<int64_t>(init.node().attr_int("end", 0))
                                                           : std::nullopt) {}

  void run(KernelContext& ctx) override {
    const Shape& shape = ctx.required_input(0).shape();
    const int64_t rank = static_cast<int64_t>(shape.size());
    auto clamp_index = [rank](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
    const int64_t begin = clamp_index(start_);
    const int64_t end = std::max(begin, clamp_index(end_.value_or(rank)));
    Tensor& out = ctx.allocate_output(0, DataType::kInt64, {end - begin});
    int64_t* dims = out.data<int64_t>();
    for (int64_t i = begin; i < end; ++i) dims[i - begin] = shape[static_cast<size_t>(i)];
  }

 private:
  int64_t start_;
  std::optional<int64_t> end_;
};

class SizeKernel : public OpKernel {
 public:
  explicit SizeKernel(const KernelInit&) {}
  void run(KernelContext& ctx) override {
    const int64_t count = ctx.required_input(0).size();
    *ctx.allocate_output(0, DataType::kInt64, {}).data<int64_t>() = count;
  }
};

// ----------------------------------------------------------------- Expand --

// Expand: bidirectional (numpy) broadcast of the input to the given shape.
class ExpandKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit ExpandKernel(const KernelInit& init) {
    if (init.num_inputs() < 2) fail(init.node().describe(), ": Expand needs the shape input");
  }

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    const Shape target = read_int_list(ctx.required_input(1), ctx.node(), "shape");
    for (int64_t d : target)
      if (d < 0) fail(ctx.node().describe(), ": shape ", shape_to_string(target), " has a negative dim");
    const Shape out_shape = ops::broadcast_shapes(input.shape(), target, ctx.node());
    if (out_shape == input.shape()) {
      ctx.set_output(0, input);
      return;
    }
    // Input dims line up with the output's last dims; broadcast dims read with stride 0.
    const std::vector<int64_t> in_strides = kernels::contiguous_strides(input.shape());
    const size_t lead = out_shape.size() - input.rank();
    std::vector<int64_t> strides(out_shape.size(), 0);
    for (size_t i = 0; i < input.rank(); ++i) strides[lead + i] = input.dim(i) == 1 ? 0 : in_strides[i];
    Tensor& out = ctx.allocate_output(0, input.dtype(), out_shape);
    kernels::copy_view_to_contiguous(out.raw(), input.raw(), element_size(input.dtype()), out_shape, strides,
                                     ctx.threads());
  }
};

// ------------------------------------------------------ Identity, Dropout --

class IdentityKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit IdentityKernel(const KernelInit&) {}
  void run(KernelContext& ctx) override { ctx.set_output(0, ctx.required_input(0)); }
};

// Dropout: output = input, the optional mask is all true (bool from opset
// 10; the input's type before, holding 1). Opset 12 moved ratio and
// training_mode to inputs; training mode is supported only with ratio 0
// (where it is the identity too), random dropout is not.
class DropoutKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit DropoutKernel(const KernelInit& init) : mask_is_bool_(init.opset() >= 10) {
    // Before opset 7, is_test (default 0) chose training: random dropout.
    if (init.opset() < 7 && init.node().attr_int("is_test", 0) == 0)
      fail_unsupported(init.node().describe(), ": is_test = 0 (training, the default before opset 7) is not "
                       "supported (kiln runs inference only; exporters write is_test = 1)");
    if (init.opset() >= 12 && init.has_input(2) && init.constant_input(2) &&
        (!init.has_input(1) || init.constant_input(1)))
      check_inference(init.constant_input(2), init.constant_input(1), init.node());
  }

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    if (ctx.node().opset >= 12) check_inference(ctx.input(2), ctx.input(1), ctx.node());
    ctx.set_output(0, input);
    if (ctx.num_outputs() > 1 && !ctx.node().outputs[1].empty()) {
      DataType mask_type = mask_is_bool_ ? DataType::kBool : input.dtype();
      Tensor& mask = ctx.allocate_output(1, mask_type, input.shape());
      unsigned char one[8];
      kernels::store_double_as(1.0, mask_type, one);
      kernels::fill_elements(mask.raw(), one, element_size(mask_type), mask.size());
    }
  }

 private:
  static void check_inference(const Tensor* training_mode, const Tensor* ratio, const Node& node) {
    if (!training_mode) return;
    if (training_mode->size() != 1)
      fail(node.describe(), ": training_mode must be a scalar, got shape ", shape_to_string(training_mode->shape()));
    if (training_mode->value_as_double(0) == 0) return;
    if (ratio && ratio->size() != 1)
      fail(node.describe(), ": ratio must be a scalar, got shape ", shape_to_string(ratio->shape()));
    const double drop = ratio ? ratio->value_as_double(0) : 0.5;
    if (drop != 0)
      fail_unsupported(node.describe(), ": training mode with ratio ", drop, " (random dropout) is not supported");
  }

  bool mask_is_bool_;
};

// ------------------------------------------------------- ConstantOfShape --

// ConstantOfShape: a tensor of the given shape filled with `value` (a
// one-element tensor attribute; float32 0 by default).
class ConstantOfShapeKernel : public OpKernel {
 public:
  explicit ConstantOfShapeKernel(const KernelInit& init) {
    const Node& node = init.node();
    if (const Tensor* value = node.attr_tensor("value")) {
      if (value->size() != 1)
        fail(node.describe(), ": attribute 'value' must hold one element, got shape ",
             shape_to_string(value->shape()));
      value_ = *value;
    } else {
      value_ = Tensor::zeros(DataType::kFloat32, {1});
    }
  }

  void run(KernelContext& ctx) override {
    const Shape shape = read_int_list(ctx.required_input(0), ctx.node(), "shape");
    for (int64_t d : shape)
      if (d < 0) fail(ctx.node().describe(), ": shape ", shape_to_string(shape), " has a negative dim");
    Tensor& out = ctx.allocate_output(0, value_.dtype(), shape);
    kernels::fill_elements(out.raw(), value_.raw(), element_size(value_.dtype()), out.size());
  }

 private:
  Tensor value_;
};

// --------------------------------------------------------------- Constant --

// Constant: the value is fixed when the session is built; every run hands out
// the same (read-only) tensor.
class ConstantKernel : public OpKernel {
 public:
  explicit ConstantKernel(const KernelInit& init) {
    const Node& node = init.node();
    int given = 0;
    for (const auto& [key, attr] : node.attrs) {
      if (key == "value") {
        value_ = *node.attr_tensor("value");
      } else if (key == "value_float") {
        value_ = Tensor::from_floats({}, {node.attr_float("value_float", 0)});
      } else if (key == "value_floats") {
        std::vector<float> v = node.attr_floats("value_floats");
        value_ = Tensor::from_floats({static_cast<int64_t>(v.size())}, v);
      } else if (key == "value_int") {
        value_ = Tensor::from_int64s({}, {node.attr_int("value_int", 0)});
      } else if (key == "value_ints") {
        std::vector<int64_t> v = node.attr_ints("value_ints");
        value_ = Tensor::from_int64s({static_cast<int64_t>(v.size())}, v);
      } else if (key == "value_string" || key == "value_strings") {
        fail_unsupported(node.describe(), ": string constants ('", key, "') are not supported");
      } else if (key == "sparse_value") {
        fail_unsupported(node.describe(), ": sparse constants ('sparse_value') are not supported");
      } else {
        continue;
      }
      ++given;
    }
    if (given != 1) fail(node.describe(), ": Constant needs exactly one value attribute, got ", given);
    if (!value_.defined()) fail(node.describe(), ": attribute 'value' holds no tensor");
  }

  void run(KernelContext& ctx) override { ctx.set_output(0, value_); }

 private:
  Tensor value_;
};

// ------------------------------------------------------------------ Range --

template <class T>
void fill_range(Tensor& out, double start, double delta) {
  T* p = out.data<T>();
  for (int64_t i = 0; i < out.size(); ++i) p[i] = static_cast<T>(start + static_cast<double>(i) * delta);
}

// Every value lies between start and limit, so only the running sum is
// computed (in unsigned arithmetic, which wraps instead of overflowing).
template <class T>
void fill_integer_range(Tensor& out, int64_t start, int64_t delta) {
  T* p = out.data<T>();
  uint64_t value = static_cast<uint64_t>(start);
  for (int64_t i = 0; i < out.size(); ++i, value += static_cast<uint64_t>(delta)) p[i] = static_cast<T>(static_cast<int64_t>(value));
}

// Range: start, start + delta, ... up to (excluding) limit; three scalars of
// one type (float, double, int16, int32, int64).
class RangeKernel : public OpKernel {
 public:
  explicit RangeKernel(const KernelInit&) {}

  void run(KernelContext& ctx) override {
    const Tensor& start = ctx.required_input(0);
    const Tensor& limit = ctx.required_input(1);
    const Tensor& delta = ctx.required_input(2);
    const DataType type = start.dtype();
    if (limit.dtype() != type || delta.dtype() != type)
      fail(ctx.node().describe(), ": start, limit and delta must have one type");
    if (start.size() != 1 || limit.size() != 1 || delta.size() != 1)
      fail(ctx.node().describe(), ": start, limit and delta must be scalars");
    const bool is_float = type == DataType::kFloat32 || type == DataType::kFloat64;
    if (!is_float && type != DataType::kInt16 && type != DataType::kInt32 && type != DataType::kInt64)
      fail(ctx.node().describe(), ": Range does not support ", dtype_name(type));
    if (delta.value_as_double(0) == 0) fail(ctx.node().describe(), ": delta is 0");

    int64_t count;
    if (is_float) {
      double s = start.value_as_double(0), l = limit.value_as_double(0), d = delta.value_as_double(0);
      double n = std::ceil((l - s) / d);
      if (!(n < 9.0e18)) fail(ctx.node().describe(), ": Range of ", s, " to ", l, " by ", d, " is too long");
      count = n > 0 ? static_cast<int64_t>(n) : 0;
    } else {
      // In unsigned arithmetic: limit - start may not fit in int64.
      int64_t s = start.value_as_int64(0), l = limit.value_as_int64(0), d = delta.value_as_int64(0);
      const bool up = d > 0;
      const uint64_t span = up ? (l > s ? static_cast<uint64_t>(l) - static_cast<uint64_t>(s) : 0)
                               : (s > l ? static_cast<uint64_t>(s) - static_cast<uint64_t>(l) : 0);
      const uint64_t step = up ? static_cast<uint64_t>(d) : uint64_t{0} - static_cast<uint64_t>(d);
      const uint64_t n = span / step + (span % step != 0);
      if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(ctx.node().describe(), ": Range of ", s, " to ", l, " by ", d, " is too long");
      count = static_cast<int64_t>(n);
    }
    Tensor& out = ctx.allocate_output(0, type, {count});
    switch (type) {
      case DataType::kFloat32: fill_range<float>(out, start.value_as_double(0), delta.value_as_double(0)); break;
      case DataType::kFloat64: fill_range<double>(out, start.value_as_double(0), delta.value_as_double(0)); break;
      case DataType::kInt16: fill_integer_range<int16_t>(out, start.value_as_int64(0), delta.value_as_int64(0)); break;
      case DataType::kInt32: fill_integer_range<int32_t>(out, start.value_as_int64(0), delta.value_as_int64(0)); break;
      default: fill_integer_range<int64_t>(out, start.value_as_int64(0), delta.value_as_int64(0)); break;
    }
  }
};

}  // namespace

void register_shape_ops(OpRegistry& registry) {
  registry.add("Reshape", make_kernel<ReshapeKernel>, shape_rules::reshape, graph::kNoTraits, 1);
  registry.add("Flatten", make_kernel<FlattenKernel>, shape_rules::flatten, graph::kNoTraits, 1);
  registry.add("Squeeze", make_kernel<SqueezeKernel>, shape_rules::squeeze, graph::kNoTraits, 1);
  registry.add("Unsqueeze", make_kernel<UnsqueezeKernel>, shape_rules::unsqueeze, graph::kNoTraits, 1);
  registry.add("Shape", make_kernel<ShapeKernel>, shape_rules::shape, graph::kNoTraits, 1);
  registry.add("Size", make_kernel<SizeKernel>, shape_rules::size, graph::kNoTraits, 1);
  registry.add("Expand", make_kernel<ExpandKernel>, shape_rules::expand, graph::kNoTraits, 8);
  registry.add("Identity", make_kernel<IdentityKernel>, shape_rules::same_as_input, graph::kNoTraits, 1);
  registry.add("Dropout", make_kernel<DropoutKernel>, shape_rules::dropout, graph::kNondeterministic, 1);
  registry.add("ConstantOfShape", make_kernel<ConstantOfShapeKernel>,
               shape_rules::constant_of_shape, graph::kNoTraits, 9);
  registry.add("Constant", make_kernel<ConstantKernel>, shape_rules::constant, graph::kNoTraits, 1);
  registry.add("Range", make_kernel<RangeKernel>, shape_rules::type_of_input, graph::kNoTraits, 11);
}

}  // namespace kiln
