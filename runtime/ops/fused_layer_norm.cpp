// FusedLayerNorm (domain com.kiln, docs/fused_ops.md): the layer
// normalization chains exporters spell out (ReduceMean, Sub, Pow, ReduceMean,
// Add, Sqrt, Div, then Mul and Add by constants, then often an activation)
// as one operator: three passes over the tensor instead of about ten.
//
//   Y = f((X - mean) / sqrt(var + epsilon) * Scale + B)
//
// mean and var (biased) over the axes [axis, rank) of each outer index. Scale
// and B broadcast onto X without changing its shape and vary only along one
// contiguous run of the normalized axes (a scalar, one value per channel, or
// one per element all qualify).
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "kernels/f32_affine_activation.h"
#include "kernels/f32_gemm_epilogue.h"
#include "kernels/f32_norm.h"
#include "platform/checked_math.h"
#include "platform/thread_pool.h"
#include "graph/expansion_builder.h"
#include "graph/pass.h"
#include "runtime/op_registry.h"
#include "runtime/ops/fused_activation.h"

namespace kiln {

namespace {

// Where an element of a normalized row finds its Scale or B value:
// values[(i / inner) % count] for offset i in the row.
struct RowBroadcast {
  const float* values = nullptr;  // nullptr: the input is absent (scale 1, bias 0)
  int64_t inner = 1, count = 1;
};

// Checks that `t` broadcasts onto `x` (normalized from `axis`) as described in
// the file comment, and says how to index it.
RowBroadcast row_broadcast(const graph::Node& node, const char* what, const Tensor* t, const Shape& x, size_t axis) {
  RowBroadcast b;
  if (!t) return b;
  if (t->dtype() != DataType::kFloat32)
    fail_unsupported(node.describe(), ": ", what, " is ", dtype_name(t->dtype()), ", only float32 is supported");
  const Shape& s = t->shape();
  if (s.size() > x.size())
    fail(node.describe(), ": ", what, " has shape ", shape_to_string(s), ", of higher rank than the input ",
         shape_to_string(x));
  const size_t lead = x.size() - s.size();
  int64_t first = -1, last = -1;  // the varying axes of x, inclusive
  for (size_t d = 0; d < s.size(); ++d) {
    const size_t axis_of_x = lead + d;
    if (s[d] == 1) continue;
    if (s[d] != x[axis_of_x] || axis_of_x < axis)
      fail(node.describe(), ": ", what, " of shape ", shape_to_string(s), " does not broadcast onto the normalized axes ",
           axis, ".. of the input ", shape_to_string(x));
    if (first < 0) first = static_cast<int64_t>(axis_of_x);
    if (last >= 0 && static_cast<int64_t>(axis_of_x) != last + 1)
      fail_unsupported(node.describe(), ": ", what, " of shape ", shape_to_string(s),
                       " varies along axes that are not adjacent; only one run of adjacent axes is supported");
    last = static_cast<int64_t>(axis_of_x);
  }
  b.values = t->data<float>();
  if (first < 0) return b;  // one value
  // Checked products: an empty X's other dims may multiply past int64.
  const std::string who = node.describe();
  b.inner = checked::product(x, static_cast<size_t>(last) + 1, x.size(), who, "the dims after the parameter's");
  b.count = checked::product(x, static_cast<size_t>(first), static_cast<size_t>(last) + 1, who, "the parameter's dims");
  return b;
}

class FusedLayerNormKernel : public OpKernel {
 public:
  explicit FusedLayerNormKernel(const KernelInit& init)
      : axis_(init.node().attr_int("axis", -1)),
        epsilon_(init.node().attr_float("epsilon", 1e-5f)),
        activation_(read_fused_activation(init.node())),
        normalize_(*init.kernels().f32_affine_activation) {
    const graph::Node& node = init.node();
    if (node.inputs.empty() || node.inputs.size() > 3 || node.outputs.size() != 1)
      fail(node.describe(), ": FusedLayerNorm takes 1 to 3 inputs (X, Scale, B) and gives 1 output, got ",
           node.inputs.size(), " and ", node.outputs.size());
    if (!(epsilon_ >= 0.0f)) fail(node.describe(), ": epsilon must be >= 0, got ", epsilon_);
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    if (x.dtype() != DataType::kFloat32)
      fail_unsupported(node.describe(), ": input is ", dtype_name(x.dtype()), ", only float32 is supported");
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis < 0 || axis >= std::max<int64_t>(rank, 1))
      fail(node.describe(), ": axis ", axis_, " is out of range for an input of rank ", rank);
    const RowBroadcast scale = row_broadcast(node, "Scale", ctx.input(1), x.shape(), static_cast<size_t>(axis));
    const RowBroadcast bias = row_broadcast(node, "B", ctx.input(2), x.shape(), static_cast<size_t>(axis));
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, x.shape());
    if (x.size() == 0) return;
    int64_t row = 1;
    for (int64_t d = axis; d < rank; ++d) row *= x.dim(static_cast<size_t>(d));
    const int64_t rows = x.size() / row;

    // Each row is cut into chunks so one large row (a whole image) still
    // shares the threads: partial sums per chunk, then per row.
    const int threads = x.size() >= (int64_t{1} << 16) ? ctx.threads() : 1;
    const int64_t chunks = std::clamp<int64_t>(row / (int64_t{1} << 16), 1, 4 * static_cast<int64_t>(threads));
    const int64_t items = rows * chunks;
    auto chunk_range = [&](int64_t item, int64_t* begin, int64_t* end) {
      const int64_t r = item / chunks, c = item % chunks;
      *begin = r * row + row * c / chunks;
      *end = r * row + row * (c + 1) / chunks;
    };
    const float* x_data = x.data<float>();
    std::vector<double> partial(static_cast<size_t>(items));
    std::vector<double> mean(static_cast<size_t>(rows)), inv_std(static_cast<size_t>(rows));
    auto per_row = [&](std::vector<double>& out) {
      for (int64_t r = 0; r < rows; ++r) {
        double sum = 0;
        for (int64_t c = 0; c < chunks; ++c) sum += partial[static_cast<size_t>(r * chunks + c)];
        out[static_cast<size_t>(r)] = sum / static_cast<double>(row);
      }
    };
    parallel_for(items, threads, [&](int64_t item) {
      int64_t begin, end;
      chunk_range(item, &begin, &end);
      partial[static_cast<size_t>(item)] = kernels::f32_sum(x_data + begin, end - begin);
    });
    per_row(mean);
    parallel_for(items, threads, [&](int64_t item) {
      int64_t begin, end;
      chunk_range(item, &begin, &end);
      const double m = mean[static_cast<size_t>(item / chunks)];
      partial[static_cast<size_t>(item)] = kernels::f32_sum_squared_deviations(x_data + begin, end - begin, m);
    });
    per_row(inv_std);  // the variance, for now
    for (double& v : inv_std) v = 1.0 / std::sqrt(v + epsilon_);

    // Blocks of constant Scale and B: `inner` of one divides the other's
    // (both are products of trailing dims).
    const int64_t block = std::min(scale.values ? scale.inner : row, bias.values ? bias.inner : row);
    const kernels::F32AffineActivationFn* normalize = normalize_.run;
    float* y_data = y.data<float>();
    parallel_for(items, threads, [&](int64_t item) {
      int64_t begin, end;
      chunk_range(item, &begin, &end);
      const int64_t r = item / chunks;
      const float m = static_cast<float>(mean[static_cast<size_t>(r)]);
      const double s = inv_std[static_cast<size_t>(r)];
      for (int64_t at = begin; at < end;) {
        const int64_t offset = at - r * row;  // within the row
        const int64_t n = std::min(end - at, block - offset % block);
        const float scale_value = scale.values ? scale.values[offset / scale.inner % scale.count] : 1.0f;
        const float bias_value = bias.values ? bias.values[offset / bias.inner % bias.count] : 0.0f;
        const kernels::F32AffineActivation map{m, static_cast<float>(s * scale_value), bias_value,
                                               activation_.activation, activation_.param0, activation_.param1};
        normalize(x_data + at, y_data + at, static_cast<size_t>(n), map);
        at += n;
      }
    });
  }
  // The statistics are read first; then each element is normalized where it
  // stands (f32_affine_activation reads a vector before it stores one).
  bool may_write_over_input(size_t i) const override { return i == 0; }
  std::string kernel_name() const override { return normalize_.name; }

 private:
  int64_t axis_;
  float epsilon_;
  kernels::F32GemmEpilogue activation_;
  const kernels::F32AffineActivationKernel& normalize_;
};

// Its expansion: the chain fuse_layer_norm reads, ReduceMean, Sub, Mul (the
// square), ReduceMean, Add epsilon, Sqrt, Div, then Mul by Scale and Add of B
// when present, then the activation. X's rank (from shape inference) lists
// the ReduceMean axes.
void expand_fused_layer_norm(const graph::Node& fused, graph::ExpansionBuilder& b) {
  using graph::ExpansionBuilder;
  const std::string activation = fused.attr_string("activation", "");
  const std::vector<float> params = fused.attr_floats("activation_params");
  const size_t wanted = ExpansionBuilder::activation_param_count(activation);
  if (wanted == SIZE_MAX || params.size() != wanted)
    fail(fused.describe(), ": bad activation '", activation, "' with ", params.size(), " activation_params");
  if (fused.inputs.empty() || fused.outputs.size() != 1)
    fail(fused.describe(), ": FusedLayerNorm needs X and one output");
  const std::optional<int64_t> known_rank = b.rank_of(fused.inputs[0]);
  if (!known_rank) fail(fused.describe(), ": the rank of its input is unknown, so it cannot be written as standard ops");
  const int64_t rank = *known_rank;
  int64_t axis = fused.attr_int("axis", -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) fail(fused.describe(), ": axis out of range for rank ", rank);
  const std::string& x = fused.inputs[0];
  const std::string result = fused.outputs[0];
  std::vector<int64_t> axes;
  for (int64_t a = axis; a < rank; ++a) axes.push_back(a);
  auto reduce_mean = [&](const std::string& in, const std::string& out, const std::string& name) {
    std::vector<std::string> inputs = {in};
    if (b.opset() >= 18) {
      Tensor t(DataType::kInt64, {static_cast<int64_t>(axes.size())});
      std::copy(axes.begin(), axes.end(), t.data<int64_t>());
      inputs.push_back(b.editor().add_initializer(fused.name + "_axes", std::move(t)));
    }
    graph::Node& n = b.add(name, "ReduceMean", inputs, out);
    if (b.opset() < 18) n.attrs["axes"] = ExpansionBuilder::ints_attr(axes);
    graph::Attribute keep;
    keep.kind = graph::Attribute::Kind::kInt;
    keep.i = 1;
    n.attrs["keepdims"] = keep;
  };
  auto fresh = [&](const char* what) { return b.editor().unique_name(result + "_" + what); };
  const std::string mean = fresh("mean"), centered = fresh("centered"), squared = fresh("squared"),
                    variance = fresh("variance"), shifted = fresh("variance_eps"), std_dev = fresh("std");
  reduce_mean(x, mean, fused.name);
  b.add_named("Sub", {x, mean}, centered);
  b.add_named("Mul", {centered, centered}, squared);
  reduce_mean(squared, variance, b.unique_node_name(fused.name + "/ReduceMean"));
  const std::string eps = b.editor().add_initializer(fused.name + "_epsilon",
                                                     Tensor::from_floats({}, {fused.attr_float("epsilon", 1e-5f)}));
  b.add_named("Add", {variance, eps}, shifted);
  b.add_named("Sqrt", {shifted}, std_dev);
  const bool has_scale = fused.inputs.size() > 1 && !fused.inputs[1].empty();
  const bool has_bias = fused.inputs.size() > 2 && !fused.inputs[2].empty();
  std::string value = activation.empty() && !has_scale && !has_bias ? result : fresh("normalized");
  b.add_named("Div", {centered, std_dev}, value);
  if (has_scale) {
    const std::string out = activation.empty() && !has_bias ? result : fresh("scaled");
    b.add_named("Mul", {value, fused.inputs[1]}, out);
    value = out;
  }
  if (has_bias) {
    const std::string out = activation.empty() ? result : fresh("shifted");
    b.add_named("Add", {value, fused.inputs[2]}, out);
    value = out;
  }
  if (!activation.empty()) b.activation(activation, params, value, result);
}

}  // namespace

void register_fused_layer_norm_ops(OpRegistry& registry) {
  // X, optional Scale, optional B -> Y
  registry.add_kiln_op("FusedLayerNorm", make_kernel<FusedLayerNormKernel>, shape_rules::same_as_input,
                       graph::Arity{1, 3, 1, 1, 1, 1}, expand_fused_layer_norm);
}

}  // namespace kiln
