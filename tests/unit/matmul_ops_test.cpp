// Gemm and MatMul against plain loops. Inputs are small integers, so the
// products are exact and the stated tolerance is 0; alpha/beta cases use
// binary fractions (0.5, 0.25) to stay exact.
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "nn_test_util.h"
#include "op_test_util.h"

namespace kiln::testing {
namespace {

TEST(GemmOp, HandChecked) {
  // A 2x3, B 3x2, C broadcast row [100, 200].
  const Tensor a = Tensor::from_floats({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = Tensor::from_floats({3, 2}, {1, 0, 0, 1, 1, 1});
  const Tensor c = Tensor::from_floats({2}, {100, 200});
  graph::Node node = make_node("Gemm", 3);
  expect_equal(run_op(node, {a, b, c})[0], Tensor::from_floats({2, 2}, {104, 205, 110, 211}), "A B + C");
  node.attrs["alpha"] = float_attr(2.0f);
  node.attrs["beta"] = float_attr(0.5f);
  expect_equal(run_op(node, {a, b, c})[0], Tensor::from_floats({2, 2}, {58, 110, 70, 122}), "2 A B + C / 2");
}

// Y = alpha * op(A) op(B) + beta * C, C broadcast from c_shape.
Tensor reference_gemm(const Tensor& a, const Tensor& b, const Tensor* c, bool ta, bool tb, float alpha, float beta) {
  const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1), n = tb ? b.dim(0) : b.dim(1);
  Tensor y(DataType::kFloat32, {m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p)
        sum += static_cast<double>(ta ? a.data<float>()[p * m + i] : a.data<float>()[i * k + p]) *
               (tb ? b.data<float>()[j * k + p] : b.data<float>()[p * n + j]);
      double bias = 0;
      if (c) {
        const Shape& cs = c->shape();
        const int64_t rows = cs.size() == 2 ? cs[0] : 1, cols = cs.empty() ? 1 : cs.back();
        bias = c->data<float>()[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
      }
      y.data<float>()[i * n + j] = static_cast<float>(alpha * sum + beta * bias);
    }
  return y;
}

TEST(GemmOp, TransposesBroadcastsAndConstantB) {
  std::mt19937 rng(17);
  const int64_t m = 7, k = 5, n = 9;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (const Shape& c_shape : std::vector<Shape>{{}, {1}, {n}, {1, n}, {m, 1}, {m, n}, {0}})
        for (bool constant : {false, true}) {
          const Tensor a = random_integer_floats(ta ? Shape{k, m} : Shape{m, k}, -4, 4, rng);
          const Tensor b = random_integer_floats(tb ? Shape{n, k} : Shape{k, n}, -4, 4, rng);
          const bool has_c = c_shape != Shape{0};
          const Tensor c = random_integer_floats(has_c ? c_shape : Shape{1}, -9, 9, rng);
          graph::Node node = make_node("Gemm", has_c ? 3 : 2);
          node.attrs["transA"] = int_attr(ta);
          node.attrs["transB"] = int_attr(tb);
          node.attrs["alpha"] = float_attr(0.5f);
          node.attrs["beta"] = float_attr(0.25f);
          std::vector<Tensor> inputs = {a, b};
          if (has_c) inputs.push_back(c);
          std::ostringstream problem;
          problem << "transA=" << ta << " transB=" << tb << " C=" << (has_c ? shape_to_string(c_shape) : "none")
                  << " constant=" << constant;
          expect_equal(run_op(node, inputs, constant, 2)[0],
                       reference_gemm(a, b, has_c ? &c : nullptr, ta, tb, 0.5f, 0.25f), problem.str());
        }
}

TEST(GemmOp, ErrorsNameTheNode) {
  graph::Node node = make_node("Gemm", 3);
  const Tensor a = Tensor::zeros(DataType::kFloat32, {2, 3});
  const Tensor b = Tensor::zeros(DataType::kFloat32, {4, 5});
  try {
    run_op(node, {a, b, Tensor::zeros(DataType::kFloat32, {5})});
    ADD_FAILURE() << "inner-dim mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(node.describe()), std::string::npos) << e.what();
  }
  try {
    run_op(node, {a, Tensor::zeros(DataType::kFloat32, {3, 5}), Tensor::zeros(DataType::kFloat32, {3, 5})});
    ADD_FAILURE() << "C that does not broadcast accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broadcast"), std::string::npos) << e.what();
  }
}

// numpy matmul by definition: promote 1-D operands, broadcast batch dims.
Tensor reference_matmul(const Tensor& a, const Tensor& b) {
  Shape as = a.shape(), bs = b.shape();
  const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
  if (a_vec) as.insert(as.begin(), 1);
  if (b_vec) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  const size_t batch_rank = std::max(as.size(), bs.size()) - 2;
  Shape ab(batch_rank, 1), bb(batch_rank, 1), batch(batch_rank);
  std::copy(as.begin(), as.end() - 2, ab.end() - (as.size() - 2));
  std::copy(bs.begin(), bs.end() - 2, bb.end() - (bs.size() - 2));
  for (size_t i = 0; i < batch_rank; ++i) batch[i] = ab[i] == 1 ? bb[i] : ab[i];
  Shape ys = batch;
  if (!a_vec) ys.push_back(m);
  if (!b_vec) ys.push_back(n);
  Tensor y(DataType::kFloat32, ys);
  const int64_t batches = element_count(batch);
  for (int64_t index = 0; index < batches; ++index) {
    int64_t a_index = 0, b_index = 0, rest = index, a_scale = 1, b_scale = 1;
    for (size_t i = batch_rank; i-- > 0;) {
      const int64_t coord = rest % batch[i];
      rest /= batch[i];
      a_index += (ab[i] == 1 ? 0 : coord) * a_scale;
      b_index += (bb[i] == 1 ? 0 : coord) * b_scale;
      a_scale *= ab[i];
      b_scale *= bb[i];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += static_cast<double>(a.data<float>()[a_index * m * k + i * k + p]) * b.data<float>()[b_index * k * n + p * n + j];
        y.data<float>()[index * m * n + i * n + j] = static_cast<float>(sum);
      }
  }
  return y;
}

TEST(MatMulOp, HandCheckedVectors) {
  const Tensor v = Tensor::from_floats({3}, {1, 2, 3});
  const Tensor w = Tensor::from_floats({3}, {4, 5, 6});
  expect_equal(run_op(make_node("MatMul", 2), {v, w})[0], Tensor::from_floats({}, {32}), "dot");
  const Tensor m = Tensor::from_floats({3, 2}, {1, 0, 0, 1, 1, 1});
  expect_equal(run_op(make_node("MatMul", 2), {v, m})[0], Tensor::from_floats({2}, {4, 5}), "vector x matrix");
  const Tensor mt = Tensor::from_floats({2, 3}, {1, 0, 1, 0, 1, 1});
  expect_equal(run_op(make_node("MatMul", 2), {mt, v})[0], Tensor::from_floats({2}, {4, 5}), "matrix x vector");
}

TEST(MatMulOp, BroadcastShapes) {
  std::mt19937 rng(23);
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{4, 5}, {5, 3}},          {{2, 4, 5}, {5, 3}},       {{5}, {2, 5, 3}},
      {{2, 4, 5}, {5}},          {{2, 1, 4, 5}, {3, 5, 6}}, {{1, 4, 5}, {3, 5, 2}},
      {{3, 2, 4, 5}, {3, 2, 5, 7}}, {{0, 4, 5}, {5, 3}},    {{4, 0}, {0, 3}},
      {{6, 70, 33}, {33, 65}},   {{9, 3, 4}, {9, 4, 2}}};
  for (const auto& [as, bs] : cases)
    for (int threads : {1, 2}) {
      const Tensor a = random_integer_floats(as, -3, 3, rng);
      const Tensor b = random_integer_floats(bs, -3, 3, rng);
      expect_equal(run_op(make_node("MatMul", 2), {a, b}, false, threads)[0], reference_matmul(a, b),
                   shape_to_string(as) + " x " + shape_to_string(bs) + " threads=" + std::to_string(threads));
    }
}

TEST(MatMulOp, ErrorsNameTheNode) {
  graph::Node node = make_node("MatMul", 2);
  for (const auto& [as, bs] : std::vector<std::pair<Shape, Shape>>{{{2, 3}, {4, 5}}, {{2, 2, 3}, {3, 3, 4}}}) {
    try {
      run_op(node, {Tensor::zeros(DataType::kFloat32, as), Tensor::zeros(DataType::kFloat32, bs)});
      ADD_FAILURE() << shape_to_string(as) << " x " << shape_to_string(bs) << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(node.describe()), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace kiln::testing
