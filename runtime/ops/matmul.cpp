// Gemm and MatMul (float32), both on kernels::f32_gemm.
#include <algorithm>
#include <vector>

#include "kernels/gemm.h"
#include "platform/thread_pool.h"
#include "runtime/op_registry.h"
#include "runtime/ops/parallel_work.h"

namespace kiln {

namespace {

void require_float32(const graph::Node& node, const Tensor& tensor, const char* what) {
  if (tensor.dtype() != DataType::kFloat32)
    fail_unsupported(node.describe(), ": ", what, " is ", dtype_name(tensor.dtype()), ", only float32 is supported");
}

// ---------------------------------------------------------------- Gemm

// Y[M, N] = alpha * op(A) op(B) + beta * C, C broadcast to [M, N].
class GemmKernel : public OpKernel {
 public:
  explicit GemmKernel(const KernelInit& init) : gemm_(*init.kernels().f32_gemm) {
    const graph::Node& node = init.node();
    trans_a_ = node.attr_int("transA", 0) != 0;
    trans_b_ = node.attr_int("transB", 0) != 0;
    alpha_ = node.attr_float("alpha", 1.0f);
    beta_ = node.attr_float("beta", 1.0f);
    // Before opset 7, C broadcasts only with broadcast = 1 and must be
    // exactly [M, N] otherwise; from 7 it always broadcasts (numpy rules).
    if (init.opset() < 7)
      c_must_be_m_by_n_ = node.attr_int("broadcast", 0) == 0;
    else if (node.has_attr("broadcast"))
      fail(node.describe(), ": the 'broadcast' attribute belongs to Gemm before opset 7");
    for (size_t i = 0; i < 2; ++i)
      if (const Tensor* t = init.constant_input(i); t && t->rank() != 2)
        fail(node.describe(), ": input ", i, " has shape ", shape_to_string(t->shape()), ", expected a matrix");
    // Constant B^T (a Linear layer's weights): transpose once here, not per run.
    if (const Tensor* b = init.constant_input(1); b && trans_b_ && b->dtype() == DataType::kFloat32) {
      const int64_t n = b->dim(0), k = b->dim(1);
      b_transposed_ = Tensor(DataType::kFloat32, {k, n});
      const float* from = b->data<float>();
      float* to = b_transposed_.data<float>();
      for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p) to[p * n + j] = from[j * k + p];
    }
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& a = ctx.required_input(0);
    const Tensor& b = ctx.required_input(1);
    const Tensor* c = ctx.input(2);
    require_float32(node, a, "A");
    require_float32(node, b, "B");
    if (c) require_float32(node, *c, "C");
    if (a.rank() != 2 || b.rank() != 2)
      fail(node.describe(), ": A ", shape_to_string(a.shape()), " and B ", shape_to_string(b.shape()),
           " must be matrices");
    const int64_t m = trans_a_ ? a.dim(1) : a.dim(0);
    const int64_t k = trans_a_ ? a.dim(0) : a.dim(1);
    const int64_t k_b = trans_b_ ? b.dim(1) : b.dim(0);
    const int64_t n = trans_b_ ? b.dim(0) : b.dim(1);
    if (k != k_b)
      fail(node.describe(), ": inner dims differ: A ", shape_to_string(a.shape()), (trans_a_ ? " (transposed)" : ""),
           ", B ", shape_to_string(b.shape()), (trans_b_ ? " (transposed)" : ""));
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, {m, n});
    if (y.size() == 0) return;
    float* y_data = y.data<float>();

    if (c && c_must_be_m_by_n_ && c->shape() != Shape{m, n})
      fail(node.describe(), ": C of shape ", shape_to_string(c->shape()), " must be ", m, "x", n,
           " (broadcast = 0, Gemm before opset 7)");
    float beta = 0.0f;
    if (c && beta_ != 0.0f) {
      fill_broadcast_c(node, *c, m, n, y_data);
      beta = beta_;
    }
    if (b_transposed_.defined())
      kernels::f32_gemm(gemm_, trans_a_, false, m, n, k, alpha_, a.data<float>(), a.dim(1),
                        b_transposed_.data<float>(), n, beta, y_data, n, threads_for_work(ctx.threads(), m * n * k));
    else
      kernels::f32_gemm(gemm_, trans_a_, trans_b_, m, n, k, alpha_, a.data<float>(), a.dim(1), b.data<float>(),
                        b.dim(1), beta, y_data, n, threads_for_work(ctx.threads(), m * n * k));
  }
  std::string kernel_name() const override { return gemm_.name; }

 private:
  // Writes C broadcast (unidirectionally, numpy rules) to [m, n] into y.
  static void fill_broadcast_c(const graph::Node& node, const Tensor& c, int64_t m, int64_t n, float* y) {
    int64_t c_rows = 1, c_cols = 1;
    if (c.rank() == 1) {
      c_cols = c.dim(0);
    } else if (c.rank() == 2) {
      c_rows = c.dim(0);
      c_cols = c.dim(1);
    } else if (c.rank() != 0) {
      c_rows = -1;
    }
    if ((c_rows != 1 && c_rows != m) || (c_cols != 1 && c_cols != n))
      fail(node.describe(), ": C of shape ", shape_to_string(c.shape()), " does not broadcast to ", m, "x", n);
    const float* c_data = c.data<float>();
    for (int64_t i = 0; i < m; ++i) {
      const float* c_row = c_data + (c_rows == 1 ? 0 : i) * c_cols;
      float* y_row = y + i * n;
      if (c_cols == 1) std::fill_n(y_row, n, c_row[0]);
      else std::copy_n(c_row, n, y_row);
    }
  }

  const kernels::F32GemmMicrokernel& gemm_;
  bool trans_a_ = false, trans_b_ = false;
  bool c_must_be_m_by_n_ = false;
  Tensor b_transposed_;  // [K, N] when B is a constant used transposed
  float alpha_ = 1.0f, beta_ = 1.0f;
};

// ---------------------------------------------------------------- MatMul

// numpy matmul: 1-D operands gain (and then lose) a unit dim; batch dims
// broadcast.
class MatMulKernel : public OpKernel {
 public:
  explicit MatMulKernel(const KernelInit& init) : gemm_(*init.kernels().f32_gemm) {}

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const Tensor& a = ctx.required_input(0);
    const Tensor& b = ctx.required_input(1);
    require_float32(node, a, "A");
    require_float32(node, b, "B");
    if (a.rank() == 0 || b.rank() == 0)
      fail(node.describe(), ": MatMul needs operands of rank >= 1, got ", shape_to_string(a.shape()), " and ",
           shape_to_string(b.shape()));

    Shape a_shape = a.shape(), b_shape = b.shape();
    const bool a_vector = a_shape.size() == 1, b_vector = b_shape.size() == 1;
    if (a_vector) a_shape.insert(a_shape.begin(), 1);
    if (b_vector) b_shape.push_back(1);
    const int64_t m = a_shape[a_shape.size() - 2], k = a_shape.back();
    const int64_t n = b_shape.back();
    if (b_shape[b_shape.size() - 2] != k)
      fail(node.describe(), ": inner dims differ: ", shape_to_string(a.shape()), " x ", shape_to_string(b.shape()));

    // Broadcast the batch dims, right-aligned.
    const Shape a_batch(a_shape.begin(), a_shape.end() - 2), b_batch(b_shape.begin(), b_shape.end() - 2);
    const size_t batch_rank = std::max(a_batch.size(), b_batch.size());
    Shape batch(batch_rank);
    std::vector<int64_t> a_stride(batch_rank, 0), b_stride(batch_rank, 0);  // in matrices; 0 = broadcast
    int64_t a_step = 1, b_step = 1;
    for (size_t i = batch_rank; i-- > 0;) {
      const size_t from_end = batch_rank - i;
      const int64_t da = from_end <= a_batch.size() ? a_batch[a_batch.size() - from_end] : 1;
      const int64_t db = from_end <= b_batch.size() ? b_batch[b_batch.size() - from_end] : 1;
      if (da != db && da != 1 && db != 1)
        fail(node.describe(), ": batch dims of ", shape_to_string(a.shape()), " and ", shape_to_string(b.shape()),
             " do not broadcast");
      batch[i] = std::max(da, db);
      if (da == 0 || db == 0) batch[i] = 0;
      a_stride[i] = da == 1 ? 0 : a_step;
      b_stride[i] = db == 1 ? 0 : b_step;
      a_step *= da;
      b_step *= db;
    }

    Shape y_shape = batch;
    if (!a_vector) y_shape.push_back(m);
    if (!b_vector) y_shape.push_back(n);
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, y_shape);
    if (y.size() == 0) return;

    const float* a_data = a.data<float>();
    const float* b_data = b.data<float>();
    float* y_data = y.data<float>();
    const int64_t batches = element_count(batch);
    const int threads = threads_for_work(ctx.threads(), batches * m * n * k);

    // B shared by every batch and A's batches laid out like Y's: one tall GEMM.
    if (b_step == 1 && a_step == batches) {
      kernels::f32_gemm(gemm_, false, false, batches * m, n, k, 1.0f, a_data, k, b_data, n, 0.0f, y_data, n,
                        threads);
      return;
    }
    const bool parallel_batches = threads > 1 && batches >= threads;
    auto multiply = [&](int64_t index, int gemm_threads) {
      int64_t a_matrix = 0, b_matrix = 0, rest = index;
      for (size_t i = batch_rank; i-- > 0;) {
        const int64_t coordinate = rest % batch[i];
        rest /= batch[i];
        a_matrix += coordinate * a_stride[i];
        b_matrix += coordinate * b_stride[i];
      }
      kernels::f32_gemm(gemm_, false, false, m, n, k, 1.0f, a_data + a_matrix * m * k, k,
                        b_data + b_matrix * k * n, n, 0.0f, y_data + index * m * n, n, gemm_threads);
    };
    if (!parallel_batches) {
      for (int64_t index = 0; index < batches; ++index) multiply(index, threads);
      return;
    }
    parallel_for(batches, threads, [&](int64_t index) { multiply(index, 1); });
  }
  std::string kernel_name() const override { return gemm_.name; }

 private:
  const kernels::F32GemmMicrokernel& gemm_;
};

}  // namespace

void register_matmul_ops(OpRegistry& registry) {
  registry.add("Gemm", make_kernel<GemmKernel>, shape_rules::gemm, graph::kNoTraits, 1, 17);
  registry.add("MatMul", make_kernel<MatMulKernel>, shape_rules::matmul, graph::kNoTraits, 1, 17);
}

}  // namespace kiln
