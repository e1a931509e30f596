// BatchNormalization (inference), InstanceNormalization, LayerNormalization;
// float32. The loops are kernels/f32_norm.h; this file checks the inputs and
// threads over runs, planes and rows.
#include <cmath>
#include <vector>

#include "kernels/f32_norm.h"
#include "platform/checked_math.h"
#include "platform/thread_pool.h"
#include "runtime/op_registry.h"
#include "runtime/ops/parallel_work.h"

namespace kiln {

namespace {

void require_float32(const graph::Node& node, const Tensor& tensor, const char* what) {
  if (tensor.dtype() != DataType::kFloat32)
    fail_unsupported(node.describe(), ": ", what, " is ", dtype_name(tensor.dtype()), ", only float32 is supported");
}

// ---------------------------------------------------------------- BatchNormalization

// y = (x - mean) / sqrt(var + epsilon) * scale + B, per channel; with the
// opset-7/8 attribute spatial = 0, per (channel, spatial position) instead.
class BatchNormKernel : public OpKernel {
 public:
  bool may_alias_inputs() const override { return true; }
  explicit BatchNormKernel(const KernelInit& init) {
    const graph::Node& node = init.node();
    epsilon_ = node.attr_float("epsilon", 1e-5f);
    if (node.attr_int("training_mode", 0) != 0)
      fail_unsupported(node.describe(), ": training_mode = 1 is not supported (kiln runs inference only)");
    // Before opset 7, is_test (default 0) chose training, which updates the
    // statistics from the batch; inference is is_test = 1.
    if (init.opset() < 7 && node.attr_int("is_test", 0) == 0)
      fail_unsupported(node.describe(), ": is_test = 0 (training, the default before opset 7) is not supported (kiln "
                       "runs inference only; exporters write is_test = 1)");
    per_channel_ = node.attr_int("spatial", 1) != 0;
    // Before opset 14 outputs 1..4 exist for training; 3 and 4 (saved batch
    // statistics) have no inference meaning. Outputs 1 and 2, the running
    // statistics, pass the inputs through unchanged.
    for (size_t i = 3; i < node.outputs.size(); ++i)
      if (!node.outputs[i].empty())
        fail_unsupported(node.describe(), ": output ", i, " (saved batch statistics) exists only in training and is not supported");
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    const char* names[] = {"X", "scale", "B", "mean", "var"};
    const Tensor* params[4];
    for (size_t i = 0; i < 5; ++i) {
      const Tensor& t = ctx.required_input(i);
      require_float32(node, t, names[i]);
      if (i > 0) params[i - 1] = &t;
    }
    if (x.rank() < 2) fail(node.describe(), ": X has shape ", shape_to_string(x.shape()), ", expected rank >= 2");
    const int64_t batch = x.dim(0);
    const int64_t plane = x.size() / std::max<int64_t>(1, batch * x.dim(1)) ;
    // Parameters cover one channel each, or (spatial = 0) one element of a sample each.
    const int64_t features = per_channel_ ? x.dim(1) : x.dim(1) * plane;
    const int64_t run_length = per_channel_ ? plane : 1;
    for (size_t i = 0; i < 4; ++i)
      if (params[i]->size() != features)
        fail(node.describe(), ": ", names[i + 1], " has shape ", shape_to_string(params[i]->shape()), ", expected ",
             features, " values for X ", shape_to_string(x.shape()));

    std::vector<float> multiplier(features), offset(features);
    const float* scale = params[0]->data<float>();
    const float* bias = params[1]->data<float>();
    const float* mean = params[2]->data<float>();
    const float* var = params[3]->data<float>();
    kernels::f32_batch_norm_fold(features, scale, bias, mean, var, epsilon_, multiplier.data(), offset.data());

    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, x.shape());
    const float* x_data = x.data<float>();
    float* y_data = y.data<float>();
    const int64_t runs = batch * features;
    const int threads = threads_for_work(ctx.threads(), x.size());
    parallel_ranges(runs, (threads > 1 && runs > 1) ? threads : 1, 1, [&](int64_t r_begin, int64_t r_end) {
      for (int64_t r = r_begin; r < r_end; ++r) {
        const int64_t f = r % features;
        kernels::f32_batch_norm_run(x_data + r * run_length, y_data + r * run_length, run_length, multiplier[f],
                                    offset[f]);
      }
    });
    if (ctx.num_outputs() > 1) ctx.set_output(1, *params[2]);
    if (ctx.num_outputs() > 2) ctx.set_output(2, *params[3]);
  }

 private:
  float epsilon_ = 1e-5f;
  bool per_channel_ = true;
};

// ---------------------------------------------------------------- InstanceNormalization

// Per (sample, channel) plane: y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c].
class InstanceNormKernel : public OpKernel {
 public:
  explicit InstanceNormKernel(const KernelInit& init) { epsilon_ = init.node().attr_float("epsilon", 1e-5f); }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    const Tensor& scale = ctx.required_input(1);
    const Tensor& bias = ctx.required_input(2);
    require_float32(node, x, "input");
    require_float32(node, scale, "scale");
    require_float32(node, bias, "B");
    if (x.rank() < 3) fail(node.describe(), ": input has shape ", shape_to_string(x.shape()), ", expected rank >= 3");
    const int64_t channels = x.dim(1);
    if (scale.size() != channels || bias.size() != channels)
      fail(node.describe(), ": scale ", shape_to_string(scale.shape()), " and B ", shape_to_string(bias.shape()),
           " must hold ", channels, " values");
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, x.shape());
    const int64_t planes = x.dim(0) * channels;
    if (planes == 0) return;
    const int64_t plane_size = x.size() / planes;
    const float* x_data = x.data<float>();
    const float* scale_data = scale.data<float>();
    const float* bias_data = bias.data<float>();
    float* y_data = y.data<float>();
    const int threads = threads_for_work(ctx.threads(), x.size());
    parallel_ranges(planes, (threads > 1 && planes > 1) ? threads : 1, 1, [&](int64_t p_begin, int64_t p_end) {
      for (int64_t p = p_begin; p < p_end; ++p) {
        const int64_t c = p % channels;
        kernels::f32_instance_norm_plane(x_data + p * plane_size, y_data + p * plane_size, plane_size, scale_data[c],
                                         bias_data[c], epsilon_);
      }
    });
  }

 private:
  float epsilon_ = 1e-5f;
};

// ---------------------------------------------------------------- LayerNormalization

// Normalizes over the trailing dims from `axis` on:
//   Y = (X - mean) / sqrt(var + epsilon) * Scale + B,
// with optional outputs Mean and InvStdDev (shape: X with those dims set to 1).
class LayerNormKernel : public OpKernel {
 public:
  explicit LayerNormKernel(const KernelInit& init) {
    const graph::Node& node = init.node();
    axis_ = node.attr_int("axis", -1);
    epsilon_ = node.attr_float("epsilon", 1e-5f);
    const int64_t stash = node.attr_int("stash_type", 1);
    if (stash != 1) fail_unsupported(node.describe(), ": stash_type ", stash, " is not supported (only 1, float32)");
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    const Tensor& scale = ctx.required_input(1);
    const Tensor* bias = ctx.input(2);
    require_float32(node, x, "X");
    require_float32(node, scale, "Scale");
    if (bias) require_float32(node, *bias, "B");
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis < 0 || axis >= rank)
      fail(node.describe(), ": axis ", axis_, " is out of range for X ", shape_to_string(x.shape()));
    // A checked product (0 with a 0 among the dims): an empty X's other dims
    // may multiply past int64. An empty X has no rows to normalize.
    const int64_t row_size =
        checked::product(x.shape(), static_cast<size_t>(axis), x.rank(), node.describe(), "the normalized row");
    const int64_t rows = x.size() == 0 ? 0 : x.size() / row_size;
    auto check_param = [&](const Tensor& t, const char* what) {
      if (t.size() != row_size && t.size() != 1)
        fail(node.describe(), ": ", what, " has shape ", shape_to_string(t.shape()), ", expected ", row_size,
             " values (X ", shape_to_string(x.shape()), ", axis ", axis_, ")");
    };
    check_param(scale, "Scale");
    if (bias) check_param(*bias, "B");

    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, x.shape());
    Shape stats_shape = x.shape();
    for (int64_t d = axis; d < rank; ++d) stats_shape[static_cast<size_t>(d)] = 1;
    float* mean_out = nullptr;
    float* inv_std_out = nullptr;
    if (ctx.num_outputs() > 1 && !node.outputs[1].empty())
      mean_out = ctx.allocate_output(1, DataType::kFloat32, stats_shape).data<float>();
    if (ctx.num_outputs() > 2 && !node.outputs[2].empty())
      inv_std_out = ctx.allocate_output(2, DataType::kFloat32, stats_shape).data<float>();

    const float* x_data = x.data<float>();
    const float* scale_data = scale.data<float>();
    const float* bias_data = bias ? bias->data<float>() : nullptr;
    const bool scale_per_element = scale.size() == row_size && row_size != 1;
    const bool bias_per_element = bias && bias->size() == row_size && row_size != 1;
    float* y_data = y.data<float>();
    const int threads = threads_for_work(ctx.threads(), x.size());
    parallel_ranges(rows, (threads > 1 && rows > 1) ? threads : 1, 1, [&](int64_t r_begin, int64_t r_end) {
      for (int64_t r = r_begin; r < r_end; ++r) {
        kernels::f32_layer_norm_row(x_data + r * row_size, y_data + r * row_size, row_size, scale_data,
                                    scale_per_element, bias_data, bias_per_element, epsilon_,
                                    mean_out ? mean_out + r : nullptr, inv_std_out ? inv_std_out + r : nullptr);
      }
    });
  }

 private:
  int64_t axis_ = -1;
  float epsilon_ = 1e-5f;
};

}  // namespace

void register_norm_ops(OpRegistry& registry) {
  // Version 15 is the latest: opsets 16 and 17 keep it.
  registry.add("BatchNormalization", make_kernel<BatchNormKernel>, shape_rules::same_as_input, graph::kNoTraits, 1,
               17);
  registry.add("InstanceNormalization", make_kernel<InstanceNormKernel>,
               shape_rules::same_as_input, graph::kNoTraits, 1, 17);
  registry.add("LayerNormalization", make_kernel<LayerNormKernel>,
               shape_rules::same_as_input, graph::kNoTraits, 17, 17);
}

}  // namespace kiln
