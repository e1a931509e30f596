// Indexing operators: pick elements by position.
//
// Slice Gather GatherElements GatherND
#include <algorithm>
#include <cstring>
#include <optional>

#include "kernels/data_movement.h"
#include "platform/checked_math.h"
#include "runtime/op_registry.h"
#include "runtime/ops/shape_util.h"
#include "runtime/ops/tensor_groups.h"

namespace kiln {

namespace {

using graph::Node;
using ops::normalize_axis;
using ops::read_int_list;

// ------------------------------------------------------------------ Slice --

// The slice parameters in the form the node gives them (before clamping).
struct SliceSpec {
  std::vector<int64_t> starts, ends, axes, steps;  // axes/steps may be empty = defaults
};

using checked::SliceAxis;

// Slice: attributes starts/ends/axes before opset 10; from 10 the inputs
// starts, ends, axes (optional) and steps (optional).
class SliceKernel : public OpKernel {
 public:
  explicit SliceKernel(const KernelInit& init) : uses_inputs_(init.opset() >= 10) {
    const Node& node = init.node();
    if (!uses_inputs_) {
      SliceSpec spec;
      node.required_attr("starts");
      spec.starts = node.attr_ints("starts");
      node.required_attr("ends");
      spec.ends = node.attr_ints("ends");
      spec.axes = node.attr_ints("axes");
      check_spec(spec, node);
      spec_ = spec;
      return;
    }
    if (!init.has_input(1) || !init.has_input(2)) fail(node.describe(), ": Slice needs the starts and ends inputs");
    bool all_constant = true;
    SliceSpec spec;
    auto take = [&](size_t i, std::vector<int64_t>& into, const char* what) {
      if (!init.has_input(i)) return;
      if (const Tensor* t = init.constant_input(i)) into = read_int_list(*t, node, what);
      else all_constant = false;
    };
    take(1, spec.starts, "starts");
    take(2, spec.ends, "ends");
    take(3, spec.axes, "axes");
    take(4, spec.steps, "steps");
    if (all_constant) {
      check_spec(spec, node);
      spec_ = spec;
    }
  }

  void run(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const Tensor& input = ctx.required_input(0);
    SliceSpec spec;
    if (spec_) {
      spec = *spec_;
    } else {
      spec.starts = read_int_list(ctx.required_input(1), node, "starts");
      spec.ends = read_int_list(ctx.required_input(2), node, "ends");
      if (ctx.input(3)) spec.axes = read_int_list(*ctx.input(3), node, "axes");
      if (ctx.input(4)) spec.steps = read_int_list(*ctx.input(4), node, "steps");
      check_spec(spec, node);
    }

    const size_t rank = input.rank();
    std::vector<SliceAxis> axes(rank);
    for (size_t d = 0; d < rank; ++d) axes[d] = {0, input.dim(d), 1};
    std::vector<bool> seen(rank, false);
    for (size_t i = 0; i < spec.starts.size(); ++i) {
      int64_t axis = spec.axes.empty() ? static_cast<int64_t>(i) : spec.axes[i];
      size_t a = static_cast<size_t>(normalize_axis(axis, static_cast<int64_t>(rank), node));
      if (seen[a]) fail(node.describe(), ": axes ", shape_to_string(spec.axes), " repeat axis ", axis);
      seen[a] = true;
      int64_t step = spec.steps.empty() ? 1 : spec.steps[i];
      axes[a] = checked::clamp_slice_axis(spec.starts[i], spec.ends[i], step, input.dim(a));
    }

    Shape out_shape(rank);
    for (size_t d = 0; d < rank; ++d) out_shape[d] = axes[d].count;
    Tensor& out = ctx.allocate_output(0, input.dtype(), out_shape);
    if (out.size() == 0) return;
    // The input is not empty either, so its strides and every in-bounds
    // offset fit in int64. A step is only multiplied out when it takes more
    // than one element (then |step| < dim); a lone element's huge step
    // (INT64_MAX, INT64_MIN) is never used.
    const std::vector<int64_t> in_strides = kernels::contiguous_strides(input.shape());
    std::vector<int64_t> strides(rank);
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d) {
      strides[d] = axes[d].count > 1 ? axes[d].step * in_strides[d] : in_strides[d];
      offset += axes[d].start * in_strides[d];
    }
    const size_t eb = element_size(input.dtype());
    kernels::copy_view_to_contiguous(out.raw(), static_cast<const char*>(input.raw()) + offset * static_cast<int64_t>(eb),
                                     eb, out_shape, strides, ctx.threads());
  }

 private:
  static void check_spec(const SliceSpec& spec, const Node& node) {
    const size_t n = spec.starts.size();
    if (spec.ends.size() != n || (!spec.axes.empty() && spec.axes.size() != n) ||
        (!spec.steps.empty() && spec.steps.size() != n))
      fail(node.describe(), ": starts, ends, axes and steps must have one length (got ", n, ", ", spec.ends.size(),
           ", ", spec.axes.size(), ", ", spec.steps.size(), ")");
    for (int64_t step : spec.steps)
      if (step == 0) fail(node.describe(), ": slice step cannot be 0");
  }

  bool uses_inputs_;
  std::optional<SliceSpec> spec_;
};

// ----------------------------------------------------------------- Gather --

// Reads an int32/int64 index tensor, maps negative indices into [0, dim) and
// rejects the rest (before any copying starts).
std::vector<int64_t> checked_indices(const Tensor& indices, int64_t dim, const Node& node) {
  if (indices.dtype() != DataType::kInt64 && indices.dtype() != DataType::kInt32)
    fail(node.describe(), ": indices must be int32 or int64, got ", dtype_name(indices.dtype()));
  std::vector<int64_t> out = indices.to_int64_vector();
  for (int64_t& i : out) {
    if (i < -dim || i >= dim) fail(node.describe(), ": index ", i, " is out of range for a dim of size ", dim);
    if (i < 0) i += dim;
  }
  return out;
}

// Gather: output = data[:axis] x indices.shape x data[axis+1:]; every output
// "row" is one contiguous block of the input.
class GatherKernel : public OpKernel {
 public:
  explicit GatherKernel(const KernelInit& init) : axis_(init.node().attr_int("axis", 0)) {}

  void run(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const Tensor& data = ctx.required_input(0);
    const Tensor& indices_tensor = ctx.required_input(1);
    if (data.rank() == 0) fail(node.describe(), ": cannot gather from a scalar");
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(data.rank()), node));
    const int64_t dim = data.dim(axis);
    const std::vector<int64_t> indices = checked_indices(indices_tensor, dim, node);

    Shape out_shape(data.shape().begin(), data.shape().begin() + static_cast<int64_t>(axis));
    out_shape.insert(out_shape.end(), indices_tensor.shape().begin(), indices_tensor.shape().end());
    out_shape.insert(out_shape.end(), data.shape().begin() + static_cast<int64_t>(axis) + 1, data.shape().end());
    Tensor& out = ctx.allocate_output(0, data.dtype(), out_shape);

    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d) outer *= data.dim(d);
    for (size_t d = axis + 1; d < data.rank(); ++d) inner *= data.dim(d);
    const int64_t block = inner * static_cast<int64_t>(element_size(data.dtype()));
    const int64_t count = static_cast<int64_t>(indices.size());
    const char* src = static_cast<const char*>(data.raw());
    char* dst = static_cast<char*>(out.raw());
    kernels::parallel_byte_ranges(outer * count, ctx.threads(), block, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t o = row / count, j = row % count;
        std::memcpy(dst + row * block, src + (o * dim + indices[static_cast<size_t>(j)]) * block,
                    static_cast<size_t>(block));
      }
    });
  }

 private:
  int64_t axis_;
};

// ---------------------------------------------------------- GatherElements --

// GatherElements: output has the indices' shape; output[i0..ik..] =
// data[i0..indices[i0..ik..]..] with the index replacing position `axis`.
class GatherElementsKernel : public OpKernel {
 public:
  explicit GatherElementsKernel(const KernelInit& init) : axis_(init.node().attr_int("axis", 0)) {}

  void run(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const Tensor& data = ctx.required_input(0);
    const Tensor& indices_tensor = ctx.required_input(1);
    const size_t rank = data.rank();
    if (rank == 0) fail(node.describe(), ": cannot gather from a scalar");
    if (indices_tensor.rank() != rank)
      fail(node.describe(), ": indices shape ", shape_to_string(indices_tensor.shape()), " and data shape ",
           shape_to_string(data.shape()), " differ in rank");
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(rank), node));
    for (size_t d = 0; d < rank; ++d)
      if (d != axis && indices_tensor.dim(d) > data.dim(d))
        fail(node.describe(), ": indices shape ", shape_to_string(indices_tensor.shape()), " exceeds data shape ",
             shape_to_string(data.shape()), " outside the axis");
    const std::vector<int64_t> indices = checked_indices(indices_tensor, data.dim(axis), node);

    Tensor& out = ctx.allocate_output(0, data.dtype(), indices_tensor.shape());
    const std::vector<int64_t> strides = kernels::contiguous_strides(data.shape());
    const size_t eb = element_size(data.dtype());
    const char* src = static_cast<const char*>(data.raw());
    char* dst = static_cast<char*>(out.raw());
    std::vector<int64_t> position(rank, 0);
    for (size_t i = 0; i < indices.size(); ++i) {
      int64_t offset = 0;
      for (size_t d = 0; d < rank; ++d) offset += (d == axis ? indices[i] : position[d]) * strides[d];
      std::memcpy(dst + i * eb, src + offset * static_cast<int64_t>(eb), eb);
      for (size_t d = rank; d-- > 0;) {
        if (++position[d] < indices_tensor.dim(d)) break;
        position[d] = 0;
      }
    }
  }

 private:
  int64_t axis_;
};

// --------------------------------------------------------------- GatherND --

// GatherND: the last dim of `indices` (length k) indexes the first k dims
// after the batch_dims (opset 12+) leading dims that data and indices share;
// each index tuple copies one contiguous slice of data.
class GatherNDKernel : public OpKernel {
 public:
  explicit GatherNDKernel(const KernelInit& init) : batch_dims_(init.node().attr_int("batch_dims", 0)) {
    if (batch_dims_ < 0) fail(init.node().describe(), ": batch_dims must not be negative");
  }

  void run(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const Tensor& data = ctx.required_input(0);
    const Tensor& indices_tensor = ctx.required_input(1);
    const size_t b = static_cast<size_t>(batch_dims_);
    const size_t q = indices_tensor.rank();
    if (q < 1 || data.rank() < 1) fail(node.describe(), ": data and indices need rank >= 1");
    const size_t k = static_cast<size_t>(indices_tensor.dim(q - 1));
    if (b >= q || b + k > data.rank())
      fail(node.describe(), ": indices shape ", shape_to_string(indices_tensor.shape()), " does not fit data shape ",
           shape_to_string(data.shape()), " with batch_dims ", b);
    for (size_t d = 0; d < b; ++d)
      if (data.dim(d) != indices_tensor.dim(d))
        fail(node.describe(), ": batch dims of data ", shape_to_string(data.shape()), " and indices ",
             shape_to_string(indices_tensor.shape()), " differ");
    if (indices_tensor.dtype() != DataType::kInt64 && indices_tensor.dtype() != DataType::kInt32)
      fail(node.describe(), ": indices must be int32 or int64");
    std::vector<int64_t> indices = indices_tensor.to_int64_vector();

    const std::vector<int64_t> strides = kernels::contiguous_strides(data.shape());
    int64_t batches = 1, tuples_per_batch = 1, slice = 1;
    for (size_t d = 0; d < b; ++d) batches *= data.dim(d);
    for (size_t d = b; d + 1 < q; ++d) tuples_per_batch *= indices_tensor.dim(d);
    for (size_t d = b + k; d < data.rank(); ++d) slice *= data.dim(d);
    const int64_t batch_stride = b == 0 ? data.size() : strides[b - 1];

    // Element offset of every tuple's slice, checked before copying.
    std::vector<int64_t> offsets(static_cast<size_t>(batches * tuples_per_batch));
    for (size_t t = 0; t < offsets.size(); ++t) {
      int64_t offset = static_cast<int64_t>(t) / tuples_per_batch * batch_stride;
      for (size_t j = 0; j < k; ++j) {
        int64_t i = indices[t * k + j];
        const int64_t dim = data.dim(b + j);
        if (i < -dim || i >= dim) fail(node.describe(), ": index ", i, " is out of range for a dim of size ", dim);
        offset += (i < 0 ? i + dim : i) * strides[b + j];
      }
      offsets[t] = offset;
    }

    Shape out_shape(indices_tensor.shape().begin(), indices_tensor.shape().end() - 1);
    out_shape.insert(out_shape.end(), data.shape().begin() + static_cast<int64_t>(b + k), data.shape().end());
    Tensor& out = ctx.allocate_output(0, data.dtype(), out_shape);
    const int64_t eb = static_cast<int64_t>(element_size(data.dtype()));
    const char* src = static_cast<const char*>(data.raw());
    char* dst = static_cast<char*>(out.raw());
    for (size_t t = 0; t < offsets.size(); ++t)
      std::memcpy(dst + static_cast<int64_t>(t) * slice * eb, src + offsets[t] * eb, static_cast<size_t>(slice * eb));
  }

 private:
  int64_t batch_dims_;
};

}  // namespace

void register_indexing_ops(OpRegistry& registry) {
  registry.add("Slice", make_kernel<SliceKernel>, shape_rules::slice, graph::kNoTraits, 1);
  registry.add("Gather", make_kernel<GatherKernel>, shape_rules::gather, graph::kNoTraits, 1);
  registry.add("GatherElements", make_kernel<GatherElementsKernel>, shape_rules::gather_elements, graph::kNoTraits, 11);
  registry.add("GatherND", make_kernel<GatherNDKernel>, shape_rules::type_of_input, graph::kNoTraits, 11);
}

}  // namespace kiln
