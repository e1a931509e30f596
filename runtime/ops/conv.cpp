// Conv and ConvTranspose (float32, 1-D / 2-D / 3-D).
//
// Conv runs one of three paths:
//   - one input channel per group (depthwise): a direct loop per channel plane
//     (kernels/f32_dwconv.h for 3x3 and 5x5 windows, else the reference);
//   - 1x1 kernel, stride 1, no pads: GEMM straight on the input (W x X);
//   - otherwise: GEMM whose B (the im2col) is gathered block by block straight
//     into the GEMM's packed panels, so no column buffer is ever stored.
// ConvTranspose is GEMM (W^T x X) into column tiles, then col2im (the adjoint
// of im2col) accumulating into the output.
#include <algorithm>
#include <string>
#include <vector>

#include "kernels/col2im.h"
#include "kernels/conv_depthwise.h"
#include "kernels/f32_affine_activation.h"
#include "kernels/f32_dwconv.h"
#include "kernels/f32_gemm_packed.h"
#include "kernels/f32_im2col_panels.h"
#include "kernels/gemm.h"
#include "platform/checked_math.h"
#include "platform/cpu_info.h"
#include "platform/memory_budget.h"
#include "platform/thread_pool.h"
#include "runtime/op_registry.h"
#include "runtime/ops/conv.h"
#include "runtime/ops/fused_activation.h"
#include "runtime/ops/parallel_work.h"
#include "runtime/ops/window_attrs.h"

namespace kiln {

namespace {

// ConvTranspose's column tiles: fewest input positions per tile, so each GEMM
// call has some width, and the target size of the column buffer (a few
// hundred KiB to a few MiB keeps it in L2 / L3).
constexpr int64_t kMinColumnTile = 64;
constexpr int64_t kIm2colTileBytes = int64_t{1} << 21;

std::vector<int64_t> spatial_dims(const Shape& shape) { return std::vector<int64_t>(shape.begin() + 2, shape.end()); }

void require_float32(const graph::Node& node, const Tensor& tensor, const char* what) {
  if (tensor.dtype() != DataType::kFloat32)
    fail_unsupported(node.describe(), ": ", what, " is ", dtype_name(tensor.dtype()), ", only float32 is supported");
}

// Checks a weight shape against the attributes. `group` must divide W's dim 0
// (C_out for Conv, C_in for ConvTranspose).
void check_weights(const graph::Node& node, const WindowAttrs& attrs, int64_t group, const Shape& w_shape) {
  if (w_shape.size() < 3)
    fail(node.describe(), ": weights have shape ", shape_to_string(w_shape), ", expected rank >= 3");
  check_window_rank(node, attrs, w_shape.size() - 2);
  const std::vector<int64_t> kernel = spatial_dims(w_shape);
  if (!attrs.kernel_shape.empty() && attrs.kernel_shape != kernel)
    fail(node.describe(), ": kernel_shape ", shape_to_string(attrs.kernel_shape), " does not match weights ",
         shape_to_string(w_shape));
  for (int64_t k : kernel)
    if (k < 1) fail(node.describe(), ": weights have an empty kernel dim: ", shape_to_string(w_shape));
  if (w_shape[0] % group != 0)
    fail(node.describe(), ": group ", group, " does not divide the ", w_shape[0], " channels of weights dim 0 (",
         shape_to_string(w_shape), ")");
}

// The checks Conv and ConvTranspose share on every run: float32 tensors,
// weights matching the attributes, and input and weights of one rank.
void check_run_inputs(const graph::Node& node, const WindowAttrs& attrs, int64_t group, const Tensor& x,
                      const Tensor& w, const Tensor* b) {
  require_float32(node, x, "input X");
  require_float32(node, w, "weights W");
  if (b) require_float32(node, *b, "bias B");
  check_weights(node, attrs, group, w.shape());
  if (x.rank() != w.rank())
    fail(node.describe(), ": input ", shape_to_string(x.shape()), " and weights ", shape_to_string(w.shape()),
         " differ in rank");
}

void check_bias(const graph::Node& node, const Tensor* bias, int64_t out_channels) {
  if (bias && (bias->rank() != 1 || bias->dim(0) != out_channels))
    fail(node.describe(), ": bias has shape ", shape_to_string(bias->shape()), ", expected ", out_channels);
}

int64_t read_group(const graph::Node& node) {
  const int64_t group = node.attr_int("group", 1);
  if (group < 1) fail(node.describe(), ": group must be >= 1, got ", group);
  return group;
}

// ---------------------------------------------------------------- Conv

struct ConvProblem {
  int64_t batch, in_channels, out_channels, group;
  kernels::WindowGeometry geometry;
  int64_t in_per_group() const { return in_channels / group; }
  int64_t out_per_group() const { return out_channels / group; }
};

bool is_pointwise(const kernels::WindowGeometry& g) {
  for (int d = 0; d < kernels::WindowGeometry::kDims; ++d)
    if (g.kernel[d] != 1 || g.stride[d] != 1 || g.pad_begin[d] != 0 || g.in[d] != g.out[d]) return false;
  return true;
}

// One input channel per group: every output channel is a direct 2-D/3-D
// filter of one input plane with the bias and activation, by `fast` (a
// kernel of kernels/f32_dwconv.h chosen when the session was built) when it
// fits the geometry, else by the reference loops and `map` (the session's
// affine-activation kernel) for the activation.
void conv_depthwise(const ConvProblem& p, const float* x, const float* w, const float* bias, float* y,
                    const kernels::F32GemmEpilogue& activation, const kernels::F32DwconvKernel* fast,
                    const kernels::F32AffineActivationKernel& map, int threads) {
  const auto& g = p.geometry;
  if (fast && !kernels::f32_dwconv_fits(*fast, g)) fast = nullptr;
  const int64_t planes = p.batch * p.out_channels;
  threads = threads_for_work(threads, planes * g.output_size() * g.kernel_size());
  const size_t scratch_floats = fast ? static_cast<size_t>(kernels::f32_dwconv_scratch_floats(g)) : 0;
  parallel_for(planes, threads, [&](int64_t plane) {
    thread_local std::vector<float> scratch;
    if (scratch.size() < scratch_floats) {
      check_workspace_bytes(scratch_floats * sizeof(float), "the depthwise kernel's row buffers");
      scratch.resize(scratch_floats);
    }
    const int64_t oc = plane % p.out_channels;
    const int64_t n = plane / p.out_channels;
    const int64_t input_channel = oc / p.out_per_group();  // == group index
    const float* x_plane = x + (n * p.in_channels + input_channel) * g.input_size();
    const float* w_plane = w + oc * g.kernel_size();
    kernels::F32DwconvEpilogue epilogue{bias ? bias[oc] : 0.0f, activation.activation, activation.param0,
                                        activation.param1};
    if (activation.output_scale) {
      epilogue.output_scale = activation.output_scale[oc];
      epilogue.output_shift = activation.output_shift[oc];
    }
    float* y_plane = y + plane * g.output_size();
    if (fast) {
      fast->run(g, x_plane, w_plane, epilogue, y_plane, scratch.data());
      return;
    }
    // The reference loops for the sums (and bias); the activation and the
    // output map as vector passes over the plane while it is in cache.
    kernels::F32DwconvEpilogue sums_only;
    sums_only.bias = epilogue.bias;
    kernels::f32_conv_depthwise_plane(g, x_plane, w_plane, sums_only, y_plane);
    const auto& map_plane = map.run;
    const size_t size = static_cast<size_t>(g.output_size());
    if (epilogue.activation != kernels::Activation::none)
      map_plane(y_plane, y_plane, size, {0.0f, 1.0f, 0.0f, epilogue.activation, epilogue.param0, epilogue.param1});
    if (epilogue.has_output_affine())
      map_plane(y_plane, y_plane, size,
                {0.0f, epilogue.output_scale, epilogue.output_shift, kernels::Activation::none, 0.0f, 0.0f});
  });
}

// Per (sample, group):
//   Y[oc, positions] = act(W_group[oc, K] x columns[K, positions] + bias),  K = C_in/group * kernel taps,
// with W packed once per group, and B the input itself for a pointwise conv,
// else its im2col, gathered block by block straight into the GEMM's packed
// panels (kernels/f32_im2col_panels.h), never stored whole. With many groups
// the (sample, group) GEMMs run in parallel, one thread each; otherwise each
// GEMM is threaded.
void conv_gemm(const ConvProblem& p, const float* x, const std::vector<kernels::F32PackedA>& weights,
               const float* bias, float* y, const kernels::F32GemmEpilogue& activation, bool reflect, int threads) {
  const auto& g = p.geometry;
  const int64_t in_group = p.in_per_group();
  const int64_t out_group = p.out_per_group();
  const int64_t depth = in_group * g.kernel_size();  // GEMM K
  const int64_t positions = g.output_size();
  const bool pointwise = is_pointwise(g);  // no pads, so nothing to reflect
  const int64_t tasks = p.batch * p.group;
  threads = threads_for_work(threads, p.batch * p.out_channels * positions * depth);
  const bool parallel_tasks = threads > 1 && tasks >= 4 * static_cast<int64_t>(threads);

  auto run_task = [&](int64_t task, int gemm_threads) {
    const int64_t n = task / p.group;
    const int64_t grp = task % p.group;
    const float* x_group = x + (n * p.in_channels + grp * in_group) * g.input_size();
    float* y_group = y + (n * p.out_channels + grp * out_group) * positions;
    kernels::F32GemmEpilogue epilogue = activation;
    epilogue.bias = bias ? bias + grp * out_group : nullptr;
    if (activation.output_scale) {
      epilogue.output_scale = activation.output_scale + grp * out_group;
      epilogue.output_shift = activation.output_shift + grp * out_group;
    }
    const kernels::F32PackedA& a = weights[static_cast<size_t>(grp)];
    if (pointwise) {  // the input is the column matrix
      kernels::f32_gemm_packed(a, false, static_cast<size_t>(positions), x_group, static_cast<size_t>(positions),
                               y_group, static_cast<size_t>(positions), epilogue, gemm_threads);
      return;
    }
    const kernels::F32Im2colPanels columns{&g, x_group, 0, reflect};
    kernels::f32_gemm_packed(a, static_cast<size_t>(positions), kernels::f32_im2col_panel_source(columns), y_group,
                             static_cast<size_t>(positions), epilogue, gemm_threads);
  };

  if (!parallel_tasks) {
    for (int64_t task = 0; task < tasks; ++task) run_task(task, threads);
    return;
  }
  parallel_for(tasks, threads, [&](int64_t task) { run_task(task, 1); });
}

// W (C_out x C_in/group x taps) as one packed GEMM A per group, for `kernel`.
std::vector<kernels::F32PackedA> pack_conv_weights(const Tensor& w, int64_t group,
                                                   const kernels::F32GemmMicrokernel& kernel) {
  const int64_t out_group = w.dim(0) / group;
  const int64_t depth = w.size() / std::max<int64_t>(w.dim(0), 1);
  std::vector<kernels::F32PackedA> packed(static_cast<size_t>(group));
  for (int64_t grp = 0; grp < group; ++grp)
    packed[static_cast<size_t>(grp)].pack(kernel, false,
                                          static_cast<size_t>(out_group), static_cast<size_t>(depth),
                                          w.data<float>() + grp * out_group * depth, static_cast<size_t>(depth));
  return packed;
}

// ConvTranspose's W (C_in x C_out/group x taps) as one packed GEMM A per
// group: A = W_group^T, (C_out/group * taps) x (C_in/group), for `kernel`.
std::vector<kernels::F32PackedA> pack_transposed_weights(const Tensor& w, int64_t group,
                                                         const kernels::F32GemmMicrokernel& kernel) {
  const int64_t in_group = w.dim(0) / group;
  const int64_t rows = w.size() / std::max<int64_t>(w.dim(0), 1);
  std::vector<kernels::F32PackedA> packed(static_cast<size_t>(group));
  for (int64_t grp = 0; grp < group; ++grp)
    packed[static_cast<size_t>(grp)].pack(kernel, true, static_cast<size_t>(rows),
                                          static_cast<size_t>(in_group), w.data<float>() + grp * in_group * rows,
                                          static_cast<size_t>(rows));
  return packed;
}

// Conv, and kiln's FusedConv (Conv + activation, domain com.kiln). Constant
// weights are packed for the GEMM once, here; others on every run.
class ConvKernel : public OpKernel {
 public:
  explicit ConvKernel(const KernelInit& init)
      : attrs_(read_window_attrs(init.node())),
        group_(read_group(init.node())),
        activation_(read_fused_activation(init.node())),
        gemm_(*init.kernels().f32_gemm),
        affine_(*init.kernels().f32_affine_activation) {
    const graph::Node& node = init.node();
    if (attrs_.ceil_mode) fail(node.describe(), ": Conv has no ceil_mode attribute");
    if (node.op_type == "FusedConv") {
      output_scale_ = node.attr_floats("output_scale");
      output_shift_ = node.attr_floats("output_shift");
      const std::string pad_mode = node.attr_string("pad_mode", "constant");
      if (pad_mode != "constant" && pad_mode != "reflect")
        fail(node.describe(), ": pad_mode must be 'constant' or 'reflect', got '", pad_mode, "'");
      reflect_ = pad_mode == "reflect";
      if (reflect_ && attrs_.auto_pad != AutoPad::kNotSet)
        fail(node.describe(), ": pad_mode 'reflect' needs explicit pads, not auto_pad");
      if (output_scale_.empty() != output_shift_.empty())
        fail(node.describe(), ": output_scale and output_shift come together, got ", output_scale_.size(), " and ",
             output_shift_.size(), " values");
    }
    if (const Tensor* w = init.constant_input(1)) {
      check_weights(node, attrs_, group_, w->shape());
      check_output_affine(node, w->dim(0));
      if (const Tensor* b = init.constant_input(2)) check_bias(node, b, w->dim(0));
      if (w->dtype() == DataType::kFloat32 && w->dim(1) != 1) {
        packed_weights_ = pack_conv_weights(*w, group_, gemm_);
        packed_from_ = w->raw();
      }
      depthwise_ = w->dtype() == DataType::kFloat32 && w->dim(1) == 1;
      if (depthwise_) depthwise_kernel_ = choose_depthwise_kernel(init.kernels(), w->shape());
    }
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    const Tensor& w = ctx.required_input(1);
    const Tensor* b = ctx.input(2);
    check_run_inputs(node, attrs_, group_, x, w, b);
    if (x.dim(1) != w.dim(1) * group_)
      fail(node.describe(), ": input has ", x.dim(1), " channels, weights ", shape_to_string(w.shape()),
           " with group ", group_, " expect ", w.dim(1) * group_);
    check_bias(node, b, w.dim(0));
    check_output_affine(node, w.dim(0));

    ConvProblem p;
    p.batch = x.dim(0);
    p.in_channels = x.dim(1);
    p.out_channels = w.dim(0);
    p.group = group_;
    p.geometry = resolve_window(node, attrs_, spatial_dims(x.shape()), spatial_dims(w.shape()));
    Shape y_shape = {p.batch, p.out_channels};
    for (int d = kernels::WindowGeometry::kDims - static_cast<int>(x.rank() - 2); d < kernels::WindowGeometry::kDims; ++d)
      y_shape.push_back(p.geometry.out[d]);
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, y_shape);
    if (y.size() == 0) return;
    const float* bias = b ? b->data<float>() : nullptr;
    // The output affine map, one value per output channel.
    std::vector<float> scale, shift;
    kernels::F32GemmEpilogue epilogue = activation_;
    if (!output_scale_.empty()) {
      for (int64_t oc = 0; oc < p.out_channels; ++oc) {
        scale.push_back(output_scale_[output_scale_.size() == 1 ? 0 : static_cast<size_t>(oc)]);
        shift.push_back(output_shift_[output_shift_.size() == 1 ? 0 : static_cast<size_t>(oc)]);
      }
      epilogue.output_scale = scale.data();
      epilogue.output_shift = shift.data();
    }
    if (p.in_channels == 0) {  // an empty sum: the output is act(bias) * scale + shift
      for (int64_t plane = 0; plane < p.batch * p.out_channels; ++plane) {
        const size_t oc = static_cast<size_t>(plane % p.out_channels);
        float value = kernels::f32_activation_reference(activation_.activation, bias ? bias[oc] : 0.0f,
                                                        activation_.param0, activation_.param1);
        if (!scale.empty()) value = value * scale[oc] + shift[oc];
        std::fill_n(y.data<float>() + plane * p.geometry.output_size(), p.geometry.output_size(), value);
      }
      return;
    }
    if (reflect_ && (p.in_per_group() == 1 || x.rank() != 4))
      fail_unsupported(node.describe(), ": pad_mode 'reflect' is supported for 2-D convolutions with more than one ",
                       "input channel per group");
    if (p.in_per_group() == 1) {
      conv_depthwise(p, x.data<float>(), w.data<float>(), bias, y.data<float>(), epilogue, depthwise_kernel_, affine_,
                     ctx.threads());
      return;
    }
    if (packed_from_ == w.raw()) {
      conv_gemm(p, x.data<float>(), packed_weights_, bias, y.data<float>(), epilogue, reflect_, ctx.threads());
    } else {
      conv_gemm(p, x.data<float>(), pack_conv_weights(w, group_, gemm_), bias, y.data<float>(), epilogue, reflect_,
                ctx.threads());
    }
  }

  // Constant depthwise weights: the fast kernel or, when none fits, the
  // reference loops plus the affine-activation kernel. Otherwise the GEMM's.
  std::string kernel_name() const override {
    if (!depthwise_) return gemm_.name;
    if (depthwise_kernel_) return depthwise_kernel_->name;
    return std::string("f32_conv_depthwise_reference+") + affine_.name;
  }

 private:
  void check_output_affine(const graph::Node& node, int64_t out_channels) const {
    for (const std::vector<float>* values : {&output_scale_, &output_shift_})
      if (values->size() > 1 && static_cast<int64_t>(values->size()) != out_channels)
        fail(node.describe(), ": output_scale and output_shift need 1 or ", out_channels,
             " values (one per output channel), got ", values->size());
  }

  // The fast depthwise kernel of the session's table for constant weights of
  // this shape, or nullptr (reference loops). The window's kernel, strides
  // and dilations are known now; pads and image size only at run time, and
  // every fast kernel takes any of them.
  const kernels::F32DwconvKernel* choose_depthwise_kernel(const kernels::KernelTable& table,
                                                          const Shape& w_shape) const {
    if (w_shape.size() != 4) return nullptr;
    kernels::WindowGeometry window;
    for (int i = 0; i < 2; ++i) {
      window.kernel[1 + i] = w_shape[2 + i];
      window.stride[1 + i] = attrs_.strides.empty() ? 1 : attrs_.strides[i];
      window.dilation[1 + i] = attrs_.dilations.empty() ? 1 : attrs_.dilations[i];
    }
    return table.f32_dwconv(window);
  }

  // FusedConv's output_scale / output_shift (docs/fused_ops.md) as given:
  // empty, or 1 or C_out values each.
  std::vector<float> output_scale_, output_shift_;
  // FusedConv's pad_mode "reflect": taps past the edges read the mirrored image.
  bool reflect_ = false;

  WindowAttrs attrs_;
  int64_t group_;
  kernels::F32GemmEpilogue activation_;
  const kernels::F32GemmMicrokernel& gemm_;
  const kernels::F32AffineActivationKernel& affine_;
  std::vector<kernels::F32PackedA> packed_weights_;
  const void* packed_from_ = nullptr;  // the constant W the packed copy was made from
  bool depthwise_ = false;             // constant float weights with one input channel per group
  const kernels::F32DwconvKernel* depthwise_kernel_ = nullptr;
};

// ---------------------------------------------------------------- ConvTranspose

class ConvTransposeKernel : public OpKernel {
 public:
  explicit ConvTransposeKernel(const KernelInit& init)
      : attrs_(read_window_attrs(init.node())), group_(read_group(init.node())), gemm_(*init.kernels().f32_gemm) {
    const graph::Node& node = init.node();
    output_padding_ = node.attr_ints("output_padding");
    output_shape_ = node.attr_ints("output_shape");
    for (size_t i = 0; i < output_padding_.size(); ++i) {
      const int64_t v = output_padding_[i];
      if (v < 0) fail(node.describe(), ": output_padding values must be >= 0, got ", v);
      // ONNX: output_padding must be less than the stride or the dilation; a
      // larger one only appends rows no window reaches (onnxruntime refuses it).
      const int64_t stride = i < attrs_.strides.size() ? attrs_.strides[i] : 1;
      const int64_t dilation = i < attrs_.dilations.size() ? attrs_.dilations[i] : 1;
      if (v >= stride && v >= dilation)
        fail(node.describe(), ": output_padding ", graph::ints_to_string(output_padding_),
             " must be smaller than the stride or the dilation along each axis (axis ", i, ": output_padding ", v,
             ", stride ", stride, ", dilation ", dilation, ")");
    }
    if (attrs_.ceil_mode) fail(node.describe(), ": ConvTranspose has no ceil_mode attribute");
    if (const Tensor* w = init.constant_input(1)) {
      check_weights(node, attrs_, group_, w->shape());
      check_output_lists(node, w->rank() - 2);
      if (const Tensor* b = init.constant_input(2)) check_bias(node, b, w->dim(1) * group_);
      if (w->dtype() == DataType::kFloat32) {
        packed_weights_ = pack_transposed_weights(*w, group_, gemm_);
        packed_from_ = w->raw();
      }
    }
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    const Tensor& w = ctx.required_input(1);
    const Tensor* b = ctx.input(2);
    check_run_inputs(node, attrs_, group_, x, w, b);
    if (x.dim(1) != w.dim(0))
      fail(node.describe(), ": input has ", x.dim(1), " channels, weights ", shape_to_string(w.shape()),
           " expect ", w.dim(0));
    const size_t rank = x.rank() - 2;
    check_output_lists(node, rank);
    const int64_t batch = x.dim(0), in_channels = x.dim(1);
    const int64_t out_group = w.dim(1), in_group = in_channels / group_;
    const int64_t out_channels = out_group * group_;
    check_bias(node, b, out_channels);

    const kernels::WindowGeometry g = resolve(node, spatial_dims(x.shape()), spatial_dims(w.shape()));
    Shape y_shape = {batch, out_channels};
    for (size_t i = 0; i < rank; ++i) y_shape.push_back(g.in[kernels::WindowGeometry::kDims - rank + i]);
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, y_shape);
    if (y.size() == 0) return;

    const float* bias = b ? b->data<float>() : nullptr;
    const float* x_data = x.data<float>();
    float* y_data = y.data<float>();
    const int64_t in_positions = g.output_size();  // ConvTranspose input = forward-conv output
    const int64_t out_positions = g.input_size();
    const int64_t rows = out_group * g.kernel_size();  // column rows: (output channel, tap)
    const int64_t tile = std::min(in_positions, std::max<int64_t>(kMinColumnTile, kIm2colTileBytes / (4 * rows)));
    std::vector<kernels::F32PackedA> repacked;
    if (packed_from_ != w.raw()) repacked = pack_transposed_weights(w, group_, gemm_);
    const std::vector<kernels::F32PackedA>& packed = packed_from_ == w.raw() ? packed_weights_ : repacked;
    const size_t column_floats = static_cast<size_t>(rows * std::min(tile, in_positions));
    check_workspace_bytes(column_floats * sizeof(float), node.describe() + "'s column buffer");
    std::vector<float> columns(column_floats);
    const int threads = threads_for_work(ctx.threads(), batch * in_positions * rows * in_group);

    if (tiles_output(g)) {
      run_tiling(g, x_data, bias, y_data, packed, batch, in_channels, in_group, out_group, out_channels, tile,
                 columns, threads);
      return;
    }
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t grp = 0; grp < group_; ++grp) {
        float* y_group = y_data + (n * out_channels + grp * out_group) * out_positions;
        for (int64_t oc = 0; oc < out_group; ++oc)
          std::fill_n(y_group + oc * out_positions, out_positions, bias ? bias[grp * out_group + oc] : 0.0f);
        const float* x_group = x_data + (n * in_channels + grp * in_group) * in_positions;
        for (int64_t first = 0; first < in_positions; first += tile) {
          const int64_t count = std::min(tile, in_positions - first);
          // columns[rows, count] = W_group^T x X_group[:, first .. first+count)
          kernels::f32_gemm_packed(packed[static_cast<size_t>(grp)], false, static_cast<size_t>(count),
                                   x_group + first, static_cast<size_t>(in_positions), columns.data(),
                                   static_cast<size_t>(count), kernels::F32GemmEpilogue{}, threads);
          parallel_for(out_group, threads, [&](int64_t oc) {
            kernels::f32_col2im(g, 1, columns.data() + oc * g.kernel_size() * count, first, count,
                                y_group + oc * out_positions);
          });
        }
      }
    }
  }
  std::string kernel_name() const override { return gemm_.name; }

 private:
  // Whether every output element comes from exactly one (input position,
  // tap): kernel == stride, no dilation, no pads, no output_padding (the
  // 2x2 stride-2 upsampling of detection necks).
  static bool tiles_output(const kernels::WindowGeometry& g) {
    for (int d = 0; d < kernels::WindowGeometry::kDims; ++d)
      if (g.kernel[d] != g.stride[d] || g.dilation[d] != 1 || g.pad_begin[d] != 0 || g.in[d] != g.out[d] * g.stride[d])
        return false;
    return true;
  }

  // The tiling case: the GEMM adds the bias (one value per (channel, tap)
  // row) and each column value is stored straight to its output element: no
  // bias fill first, no accumulation.
  void run_tiling(const kernels::WindowGeometry& g, const float* x_data, const float* bias, float* y_data,
                  const std::vector<kernels::F32PackedA>& packed, int64_t batch, int64_t in_channels,
                  int64_t in_group, int64_t out_group, int64_t out_channels, int64_t tile, std::vector<float>& columns,
                  int threads) const {
    const int64_t taps = g.kernel_size(), in_positions = g.output_size(), out_positions = g.input_size();
    const int64_t in_h = g.out[1], in_w = g.out[2];
    std::vector<float> row_bias(static_cast<size_t>(out_group * taps));
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t grp = 0; grp < group_; ++grp) {
        for (int64_t r = 0; r < out_group * taps; ++r)
          row_bias[static_cast<size_t>(r)] = bias ? bias[grp * out_group + r / taps] : 0.0f;
        kernels::F32GemmEpilogue epilogue;
        epilogue.bias = row_bias.data();
        float* y_group = y_data + (n * out_channels + grp * out_group) * out_positions;
        const float* x_group = x_data + (n * in_channels + grp * in_group) * in_positions;
        for (int64_t first = 0; first < in_positions; first += tile) {
          const int64_t count = std::min(tile, in_positions - first);
          kernels::f32_gemm_packed(packed[static_cast<size_t>(grp)], false, static_cast<size_t>(count),
                                   x_group + first, static_cast<size_t>(in_positions), columns.data(),
                                   static_cast<size_t>(count), epilogue, threads);
          // Row (oc, tap) of the columns: input position p lands at output
          // (od * sd + kd, oh * sh + kh, ow * sw + kw). Per output channel
          // and output row, the kw taps interleave so the row is written in
          // order.
          parallel_for(out_group, threads, [&](int64_t oc) {
            float* plane = y_group + oc * out_positions;
            const float* oc_rows = columns.data() + oc * taps * count;
            const int64_t kernel_w = g.kernel[2], stride_w = g.stride[2];
            for (int64_t p = first; p < first + count;) {
              const int64_t ow0 = p % in_w, out_row = p / in_w;
              const int64_t oh = out_row % in_h, od = out_row / in_h;
              const int64_t length = std::min(in_w - ow0, first + count - p);
              for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
                for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                  float* to = plane + ((od * g.stride[0] + kd) * g.in[1] + oh * g.stride[1] + kh) * g.in[2] +
                              ow0 * stride_w;
                  const float* tap_rows = oc_rows + ((kd * g.kernel[1] + kh) * kernel_w) * count + (p - first);
                  if (kernel_w == 2) {  // the common 2x2 upsampling: two rows zipped, which vectorizes
                    const float* even = tap_rows;
                    const float* odd = tap_rows + count;
                    for (int64_t i = 0; i < length; ++i) {
                      to[2 * i] = even[i];
                      to[2 * i + 1] = odd[i];
                    }
                  } else {
                    for (int64_t i = 0; i < length; ++i)
                      for (int64_t kw = 0; kw < kernel_w; ++kw) to[i * stride_w + kw] = tap_rows[kw * count + i];
                  }
                }
              p += length;
            }
          });
        }
      }
    }
  }

  void check_output_lists(const graph::Node& node, size_t rank) const {
    if (!output_padding_.empty() && output_padding_.size() != rank)
      fail(node.describe(), ": output_padding has ", output_padding_.size(), " values, expected ", rank);
    if (!output_shape_.empty() && output_shape_.size() != rank && output_shape_.size() != rank + 2)
      fail(node.describe(), ": output_shape has ", output_shape_.size(), " values, expected ", rank);
  }

  // The geometry of the forward conv whose adjoint this is: its input is our
  // output (g.in) and its output is our input (g.out).
  kernels::WindowGeometry resolve(const graph::Node& node, const std::vector<int64_t>& input_dims,
                                  const std::vector<int64_t>& kernel_dims) const {
    const size_t rank = input_dims.size();
    kernels::WindowGeometry g;
    for (size_t i = 0; i < rank; ++i) {
      const size_t dim = kernels::WindowGeometry::kDims - rank + i;
      const int64_t in = input_dims[i], kernel = kernel_dims[i];
      const int64_t stride = attrs_.strides.empty() ? 1 : attrs_.strides[i];
      const int64_t dilation = attrs_.dilations.empty() ? 1 : attrs_.dilations[i];
      const int64_t extra = output_padding_.empty() ? 0 : output_padding_[i];
      // The unpadded output size, stride * (in - 1) + extra + dilation * (kernel - 1) + 1, checked: hostile
      // attributes and dims must not wrap it around.
      const std::string who = node.describe();
      const char* what = "the output size";
      const int64_t span = checked::mul(stride, checked::add(in, -1, who, what), who, what);
      const int64_t extent = checked::add(checked::mul(dilation, kernel - 1, who, what), 1, who, what);
      const int64_t full = checked::add(checked::add(span, extra, who, what), extent, who, what);
      int64_t pad_begin = 0, pad_end = 0, out = 0;
      const bool same = attrs_.auto_pad == AutoPad::kSameUpper || attrs_.auto_pad == AutoPad::kSameLower;
      if (!output_shape_.empty() || same) {
        out = !output_shape_.empty() ? output_shape_[output_shape_.size() - rank + i]
                                     : checked::mul(in, stride, who, what);
        // A larger requested output than `full` adds zeros (bias) at the end, as output_padding would.
        const int64_t total = std::max<int64_t>(0, checked::sub(full, out, who, what));
        pad_begin = attrs_.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
        pad_end = total - pad_begin;
      } else {
        if (attrs_.auto_pad == AutoPad::kNotSet && !attrs_.pads.empty()) {
          pad_begin = attrs_.pads[i];
          pad_end = attrs_.pads[i + rank];
        }
        out = checked::sub(checked::sub(full, pad_begin, who, what), pad_end, who, what);
      }
      if (out < 0 || out > kMaxDimension)
        fail(node.describe(), ": spatial dim ", i, " of the output would be ", out, " (input ", in, ", pads ",
             pad_begin, "+", pad_end, ")", out < 0 ? "" : ", more than the 2^40 a dim may have");
      g.in[dim] = out;
      g.out[dim] = in;
      g.kernel[dim] = kernel;
      g.stride[dim] = stride;
      g.dilation[dim] = dilation;
      g.pad_begin[dim] = pad_begin;
      g.pad_end[dim] = pad_end;
    }
    return g;
  }

  WindowAttrs attrs_;
  int64_t group_;
  const kernels::F32GemmMicrokernel& gemm_;
  std::vector<kernels::F32PackedA> packed_weights_;  // W_group^T per group, packed when W is constant
  const void* packed_from_ = nullptr;
  std::vector<int64_t> output_padding_;
  std::vector<int64_t> output_shape_;
};

}  // namespace

std::unique_ptr<OpKernel> make_conv_kernel(const KernelInit& init) { return std::make_unique<ConvKernel>(init); }

void register_conv_ops(OpRegistry& registry) {
  registry.add("Conv", make_conv_kernel, shape_rules::conv, graph::kNoTraits, 1, 17);
  registry.add("ConvTranspose", make_kernel<ConvTransposeKernel>, shape_rules::conv_transpose, graph::kNoTraits, 1,
               17);
}

}  // namespace kiln
