// MaxPool (with optional Indices), AveragePool, GlobalMaxPool,
// GlobalAveragePool. Planes (sample, channel) run in parallel.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/pool.h"
#include "platform/thread_pool.h"
#include "runtime/op_registry.h"
#include "runtime/ops/parallel_work.h"
#include "runtime/ops/window_attrs.h"

namespace kiln {

namespace {

// Attributes of MaxPool / AveragePool: kernel_shape is required.
WindowAttrs read_pool_attrs(const graph::Node& node) {
  WindowAttrs attrs = read_window_attrs(node);
  if (attrs.kernel_shape.empty()) fail(node.describe(), ": missing attribute 'kernel_shape'");
  // A pad as wide as the kernel makes windows that see only padding (MaxPool
  // would output the lowest float, AveragePool divide by zero), and a huge one
  // an output of billions of such windows; onnxruntime refuses these too.
  const size_t rank = attrs.kernel_shape.size();
  if (attrs.auto_pad == AutoPad::kNotSet)
    for (size_t i = 0; i < attrs.pads.size(); ++i)
      if (attrs.pads[i] >= attrs.kernel_shape[i % rank])
        fail(node.describe(), ": pads ", graph::ints_to_string(attrs.pads), " must be smaller than kernel_shape ",
             graph::ints_to_string(attrs.kernel_shape), " (pad ", attrs.pads[i], " at the ", i < rank ? "start" : "end",
             " of spatial axis ", i % rank, ", kernel ", attrs.kernel_shape[i % rank], ")");
  return attrs;
}

// Input X [N, C, spatial...] against the kernel rank; returns the geometry.
kernels::WindowGeometry pool_geometry(const graph::Node& node, const WindowAttrs& attrs, const Tensor& x) {
  if (x.rank() != attrs.kernel_shape.size() + 2)
    fail(node.describe(), ": input ", shape_to_string(x.shape()), " does not match kernel_shape ",
         shape_to_string(attrs.kernel_shape), " (expected rank ", attrs.kernel_shape.size() + 2, ")");
  return resolve_window(node, attrs, std::vector<int64_t>(x.shape().begin() + 2, x.shape().end()),
                        attrs.kernel_shape);
}

Shape pooled_shape(const Tensor& x, const kernels::WindowGeometry& g) {
  Shape shape = {x.dim(0), x.dim(1)};
  const size_t rank = x.rank() - 2;
  for (size_t i = 0; i < rank; ++i) shape.push_back(g.out[kernels::WindowGeometry::kDims - rank + i]);
  return shape;
}

// ---------------------------------------------------------------- MaxPool

class MaxPoolKernel : public OpKernel {
 public:
  explicit MaxPoolKernel(const KernelInit& init) : attrs_(read_pool_attrs(init.node())) {
    const graph::Node& node = init.node();
    const int64_t order = node.attr_int("storage_order", 0);
    if (order != 0 && order != 1) fail(node.describe(), ": storage_order must be 0 or 1, got ", order);
    column_major_ = order == 1;
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    const kernels::WindowGeometry g = pool_geometry(node, attrs_, x);
    Tensor& y = ctx.allocate_output(0, x.dtype(), pooled_shape(x, g));
    int64_t* indices = nullptr;
    if (ctx.num_outputs() > 1 && !node.outputs[1].empty())
      indices = ctx.allocate_output(1, DataType::kInt64, y.shape()).data<int64_t>();
    switch (x.dtype()) {
      case DataType::kFloat32: return pool<float>(x, y, indices, g, ctx.threads());
      case DataType::kFloat64: return pool<double>(x, y, indices, g, ctx.threads());
      case DataType::kInt8: return pool<int8_t>(x, y, indices, g, ctx.threads());
      case DataType::kUInt8: return pool<uint8_t>(x, y, indices, g, ctx.threads());
      default:
        fail_unsupported(node.describe(), ": input type ", dtype_name(x.dtype()), " is not supported");
    }
  }

 private:
  template <class T>
  void pool(const Tensor& x, Tensor& y, int64_t* indices, const kernels::WindowGeometry& g, int threads) const {
    const int64_t planes = x.dim(0) * x.dim(1);
    const T* x_data = x.data<T>();
    T* y_data = y.data<T>();
    threads = threads_for_work(threads, y.size() * g.kernel_size());
    parallel_ranges(planes, (threads > 1 && planes > 1) ? threads : 1, 1, [&](int64_t p_begin, int64_t p_end) {
      for (int64_t p = p_begin; p < p_end; ++p) 
        kernels::max_pool_plane<T>(g, x_data + p * g.input_size(), y_data + p * g.output_size(),
                                   indices ? indices + p * g.output_size() : nullptr, p * g.input_size(),
                                   column_major_);
    });
  }

  WindowAttrs attrs_;
  bool column_major_ = false;
};

// ---------------------------------------------------------------- AveragePool

class AveragePoolKernel : public OpKernel {
 public:
  explicit AveragePoolKernel(const KernelInit& init) : attrs_(read_pool_attrs(init.node())) {
    count_include_pad_ = init.node().attr_int("count_include_pad", 0) != 0;
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    if (x.dtype() != DataType::kFloat32)
      fail_unsupported(node.describe(), ": input type ", dtype_name(x.dtype()), " is not supported (float32 only)");
    const kernels::WindowGeometry g = pool_geometry(node, attrs_, x);
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, pooled_shape(x, g));
    const int64_t planes = x.dim(0) * x.dim(1);
    const float* x_data = x.data<float>();
    float* y_data = y.data<float>();
    const int threads = threads_for_work(ctx.threads(), y.size() * g.kernel_size());
    parallel_ranges(planes, (threads > 1 && planes > 1) ? threads : 1, 1, [&](int64_t p_begin, int64_t p_end) {
      for (int64_t p = p_begin; p < p_end; ++p) 
        kernels::f32_average_pool_plane(g, count_include_pad_, x_data + p * g.input_size(),
                                        y_data + p * g.output_size());
    });
  }

 private:
  WindowAttrs attrs_;
  bool count_include_pad_ = false;
};

// ---------------------------------------------------------------- Global pools

// Reduces each (sample, channel) plane of a [N, C, ...] float tensor to one
// value; output [N, C, 1, ...].
template <bool kMax>
class GlobalPoolKernel : public OpKernel {
 public:
  explicit GlobalPoolKernel(const KernelInit& init) {}

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& x = ctx.required_input(0);
    if (x.dtype() != DataType::kFloat32)
      fail_unsupported(node.describe(), ": input type ", dtype_name(x.dtype()), " is not supported (float32 only)");
    if (x.rank() < 3) fail(node.describe(), ": input has shape ", shape_to_string(x.shape()), ", expected rank >= 3");
    Shape y_shape(x.rank(), 1);
    y_shape[0] = x.dim(0);
    y_shape[1] = x.dim(1);
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, y_shape);
    const int64_t planes = x.dim(0) * x.dim(1);
    if (planes == 0) return;
    const int64_t plane_size = x.size() / planes;
    const float* x_data = x.data<float>();
    float* y_data = y.data<float>();
    const int threads = threads_for_work(ctx.threads(), x.size());
    parallel_ranges(planes, (threads > 1 && planes > 1) ? threads : 1, 1, [&](int64_t p_begin, int64_t p_end) {
      for (int64_t p = p_begin; p < p_end; ++p) {
        const float* plane = x_data + p * plane_size;
        if constexpr (kMax) {
          float best = -std::numeric_limits<float>::infinity();
          for (int64_t i = 0; i < plane_size; ++i) best = std::max(best, plane[i]);
          y_data[p] = best;
        } else {
          // Eight partial sums: one running double sum waits on every add.
          double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
          int64_t i = 0;
          for (; i + 8 <= plane_size; i += 8)
            for (int j = 0; j < 8; ++j) partial[j] += plane[i + j];
          for (; i < plane_size; ++i) partial[0] += plane[i];
          const double sum =
              ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
          y_data[p] = plane_size ? static_cast<float>(sum / static_cast<double>(plane_size)) : 0.0f;
        }
      }
    });
  }
};

}  // namespace

void register_pool_ops(OpRegistry& registry) {
  registry.add("MaxPool", make_kernel<MaxPoolKernel>, shape_rules::pool, graph::kNoTraits, 1, 17);
  registry.add("AveragePool", make_kernel<AveragePoolKernel>, shape_rules::pool, graph::kNoTraits, 1, 17);
  registry.add("GlobalMaxPool", make_kernel<GlobalPoolKernel<true>>, shape_rules::global_pool, graph::kNoTraits, 1, 17);
  registry.add("GlobalAveragePool", make_kernel<GlobalPoolKernel<false>>,
               shape_rules::global_pool, graph::kNoTraits, 1, 17);
}

}  // namespace kiln
