// Resize and Upsample.
//
// Versions:
//   Upsample-7/8: scales attribute; Upsample-9 (and the deprecated 10): scales input. Modes nearest,
//     linear. Coordinates are asymmetric (x / scale); nearest truncates.
//   Resize-10: inputs X, scales; same behaviour as Upsample, except nearest
//     rounds up when an axis shrinks (what onnxruntime does).
//   Resize-11..17: inputs X, roi, scales, sizes (one of scales / sizes);
//     modes nearest, linear (N-linear), cubic; coordinate_transformation_mode,
//     nearest_mode, cubic_coeff_a, exclude_outside, extrapolation_value.
//
// Output size from scales is floor(in * scale) computed in float, as ONNX
// shape inference and onnxruntime do (times roi_end - roi_start for
// tf_crop_and_resize). align_corners divides by (output length - 1), the
// integer output length, as onnxruntime and PyTorch do.
//
// The kernels (kernels/resize.h) follow per-axis tap tables built each run.
#include <cmath>
#include <optional>

#include "kernels/convert_elements.h"
#include "kernels/data_movement.h"
#include "kernels/resize.h"
#include "runtime/op_registry.h"
#include "runtime/ops/shape_util.h"

namespace kiln {

namespace {

using graph::Node;
using kernels::NearestRounding;
using kernels::ResizeCoordinates;
using kernels::ResizeMethod;
using kernels::ResizeMode;

ResizeMode parse_mode(const Node& node, bool allow_cubic) {
  const std::string mode = node.attr_string("mode", "nearest");
  if (mode == "nearest") return ResizeMode::kNearest;
  if (mode == "linear") return ResizeMode::kLinear;
  if (mode == "cubic" && allow_cubic) return ResizeMode::kCubic;
  fail(node.describe(), ": unsupported mode '", mode, "' (", allow_cubic ? "nearest, linear or cubic" : "nearest or linear",
       ")");
}

ResizeCoordinates parse_coordinates(const Node& node) {
  const std::string name = node.attr_string("coordinate_transformation_mode", "half_pixel");
  if (name == "half_pixel") return ResizeCoordinates::kHalfPixel;
  if (name == "pytorch_half_pixel") return ResizeCoordinates::kPytorchHalfPixel;
  if (name == "align_corners") return ResizeCoordinates::kAlignCorners;
  if (name == "asymmetric") return ResizeCoordinates::kAsymmetric;
  if (name == "tf_half_pixel_for_nn") return ResizeCoordinates::kTfHalfPixelForNn;
  if (name == "tf_crop_and_resize") return ResizeCoordinates::kTfCropAndResize;
  fail(node.describe(), ": unsupported coordinate_transformation_mode '", name, "'");
}

NearestRounding parse_rounding(const Node& node) {
  const std::string name = node.attr_string("nearest_mode", "round_prefer_floor");
  if (name == "round_prefer_floor") return NearestRounding::kRoundPreferFloor;
  if (name == "round_prefer_ceil") return NearestRounding::kRoundPreferCeil;
  if (name == "floor") return NearestRounding::kFloor;
  if (name == "ceil") return NearestRounding::kCeil;
  fail(node.describe(), ": unsupported nearest_mode '", name, "'");
}

// True when every axis is a plain index lookup (nearest, or an exact linear/cubic case).
bool is_pure_gather(const kernels::ResizePlan& plan) {
  for (const kernels::ResizeAxisTable& axis : plan.axes) {
    if (axis.taps != 1) return false;
    for (double w : axis.weight)
      if (w != 1.0) return false;
  }
  return true;
}

class ResizeKernel : public OpKernel {
 public:
  // Resize-10+ and Upsample-7+ share everything but where the scales come from.
  ResizeKernel(const KernelInit& init, bool is_upsample) : is_upsample_(is_upsample) {
    const Node& node = init.node();
    const int64_t opset = init.opset();
    const bool modern = !is_upsample && opset >= 11;
    method_.mode = parse_mode(node, modern);
    if (modern) {
      method_.coordinates = parse_coordinates(node);
      method_.rounding = parse_rounding(node);
      method_.cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
      method_.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
      extrapolation_ = node.attr_float("extrapolation_value", 0.0f);
      roi_input_ = 1;
      scales_input_ = 2;
      sizes_input_ = 3;
    } else {
      method_.coordinates = ResizeCoordinates::kAsymmetric;
      method_.rounding = NearestRounding::kLegacy;
      if (is_upsample && opset < 9) {
        node.required_attr("scales");
        attribute_scales_ = node.attr_floats("scales");
      } else {
        scales_input_ = 1;
      }
    }
    if (attribute_scales_) check_scales(*attribute_scales_, node);
    if (scales_input_ >= 0 && init.constant_input(static_cast<size_t>(scales_input_))) {
      const Tensor& scales = *init.constant_input(static_cast<size_t>(scales_input_));
      if (scales.size() > 0) check_scales(read_scales(scales, node), node);
    }
  }

  void run(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const Tensor& input = ctx.required_input(0);
    const size_t rank = input.rank();
    const std::vector<kernels::ResizeAxisSize> sizes = axis_sizes(ctx, input);
    // The output first: its allocation checks the size against the memory
    // budget before the plan builds per-axis tables of the output's length.
    Shape out_shape;
    for (const auto& size : sizes) out_shape.push_back(size.out);
    const DataType type = input.dtype();
    Tensor& out = ctx.allocate_output(0, type, out_shape);
    if (out.size() == 0) return;
    const kernels::ResizePlan plan = kernels::plan_resize(method_, sizes, extrapolation_);
    if (plan.out_shape != out_shape) fail(node.describe(), ": internal error: resize plan shape differs");
    if (is_pure_gather(plan)) {
      std::vector<std::vector<int64_t>> tables(rank);
      for (size_t k = 0; k < rank; ++k) {
        tables[k] = plan.axes[k].index;
        for (size_t o = 0; o < tables[k].size(); ++o)
          if (plan.axes[k].outside[o]) tables[k][o] = -1;
      }
      unsigned char fill[8] = {};
      kernels::store_double_as(extrapolation_, type, fill);
      kernels::gather_by_axis_tables(out.raw(), input.raw(), element_size(type), input.shape(), tables, fill,
                                     ctx.threads());
      return;
    }
    if (type == DataType::kBool)
      fail_unsupported(node.describe(), ": cannot interpolate bool tensors (only mode nearest)");
    if (type == DataType::kFloat32 && kernels::f32_resize_bilinear_applies(plan))
      kernels::f32_resize_bilinear(plan, input.data<float>(), out.data<float>(), ctx.threads());
    else
      kernels::resize_reference(plan, input.raw(), out.raw(), type);
  }

 private:
  static std::vector<float> read_scales(const Tensor& scales, const Node& node) {
    if (scales.dtype() != DataType::kFloat32)
      fail(node.describe(), ": scales must be float32, got ", dtype_name(scales.dtype()));
    return std::vector<float>(scales.data<float>(), scales.data<float>() + scales.size());
  }

  void check_scales(const std::vector<float>& scales, const Node& node) const {
    for (float s : scales) {
      if (is_upsample_ && !(s >= 1.0f))
        fail(node.describe(), ": Upsample scales must be >= 1, got ", s);
      if (!(s > 0.0f) || !std::isfinite(s)) fail(node.describe(), ": scales must be positive and finite, got ", s);
    }
  }

  // The input/output length, scale and roi of every axis for this run.
  std::vector<kernels::ResizeAxisSize> axis_sizes(const KernelContext& ctx, const Tensor& input) const {
    const Node& node = ctx.node();
    const size_t rank = input.rank();
    auto non_empty = [&](int index) -> const Tensor* {
      if (index < 0) return nullptr;
      const Tensor* t = ctx.input(static_cast<size_t>(index));
      return t && t->size() > 0 ? t : nullptr;
    };
    std::optional<std::vector<float>> scales = attribute_scales_;
    if (const Tensor* t = non_empty(scales_input_)) scales = read_scales(*t, node);
    std::optional<std::vector<int64_t>> out_sizes;
    if (const Tensor* t = non_empty(sizes_input_)) out_sizes = ops::read_int_list(*t, node, "sizes");
    if (scales && out_sizes) fail(node.describe(), ": give either scales or sizes, not both");
    if (!scales && !out_sizes) fail(node.describe(), ": needs scales or sizes");
    const size_t given = scales ? scales->size() : out_sizes->size();
    if (given != rank)
      fail(node.describe(), ": ", given, scales ? " scales" : " sizes", " for input shape ",
           shape_to_string(input.shape()));
    if (scales) check_scales(*scales, node);

    std::vector<double> roi;
    if (method_.coordinates == ResizeCoordinates::kTfCropAndResize) {
      const Tensor* t = non_empty(roi_input_);
      if (!t) fail(node.describe(), ": tf_crop_and_resize needs the roi input");
      if (t->size() != static_cast<int64_t>(2 * rank))
        fail(node.describe(), ": roi has ", t->size(), " values, need ", 2 * rank);
      for (int64_t i = 0; i < t->size(); ++i) roi.push_back(t->value_as_double(i));
    }

    std::vector<kernels::ResizeAxisSize> sizes(rank);
    for (size_t k = 0; k < rank; ++k) {
      kernels::ResizeAxisSize& size = sizes[k];
      size.in = input.dim(k);
      if (!roi.empty()) {
        size.roi_start = roi[k];
        size.roi_end = roi[k + rank];
      }
      if (scales) {
        const float s = (*scales)[k];
        const float roi_length = roi.empty() ? 1.0f : static_cast<float>(size.roi_end - size.roi_start);
        const float length = static_cast<float>(size.in) * roi_length * s;
        if (!(length < 0x1p62f))
          fail(node.describe(), ": scale ", s, " makes axis ", k, " of ", shape_to_string(input.shape()),
               " absurdly large");
        size.out = length > 0 ? static_cast<int64_t>(std::floor(length)) : 0;
        size.scale = s;
      } else {
        size.out = (*out_sizes)[k];
        if (size.out < 0) fail(node.describe(), ": sizes ", shape_to_string(*out_sizes), " has a negative size");
        if (size.in == 0 && size.out != 0)
          fail(node.describe(), ": cannot resize an empty axis of ", shape_to_string(input.shape()), " to ", size.out);
        size.scale = size.in > 0 ? static_cast<double>(size.out) / static_cast<double>(size.in) : 1.0;
      }
    }
    return sizes;
  }

  bool is_upsample_;
  ResizeMethod method_;
  double extrapolation_ = 0.0;
  std::optional<std::vector<float>> attribute_scales_;
  int roi_input_ = -1, scales_input_ = -1, sizes_input_ = -1;
};

std::unique_ptr<OpKernel> make_resize(const KernelInit& init) { return std::make_unique<ResizeKernel>(init, false); }
std::unique_ptr<OpKernel> make_upsample(const KernelInit& init) { return std::make_unique<ResizeKernel>(init, true); }

}  // namespace

void register_resize_ops(OpRegistry& registry) {
  // Upsample-10 only marks the op deprecated (in favour of Resize); it means
  // what Upsample-9 means.
  registry.add("Upsample", make_upsample, shape_rules::resize, graph::kNoTraits, 7, 17);
  // 18 adds antialias, axes, keep_aspect_ratio_policy
  registry.add("Resize", make_resize,
               shape_rules::resize, graph::kNoTraits, 10, 17);
}

}  // namespace kiln
