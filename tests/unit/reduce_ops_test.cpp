// Reductions, Softmax/LogSoftmax and ArgMax/ArgMin against plain loops in
// double written here. Tolerance: 1e-5 relative + 1e-6 absolute (one float
// rounding of a double result, plus exp/log differences).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "nn_test_util.h"
#include "op_test_util.h"

namespace kiln::testing {
namespace {

const Tensor kTwoByThree = Tensor::from_floats({2, 3}, {1, 2, 3, 4, -5, 6});

Tensor reduce(const std::string& op, const Tensor& x, std::vector<int64_t> axes, int keepdims, int opset = 11) {
  graph::Node node = make_node(op, 1, 1, opset);
  if (!axes.empty()) node.attrs["axes"] = ints_attr(axes);
  node.attrs["keepdims"] = int_attr(keepdims);
  return run_op(node, {x})[0];
}

TEST(ReduceOp, HandChecked) {
  const Tensor& x = kTwoByThree;
  expect_equal(reduce("ReduceSum", x, {1}, 1), Tensor::from_floats({2, 1}, {6, 5}), "sum axis 1");
  expect_equal(reduce("ReduceMean", x, {0}, 0), Tensor::from_floats({3}, {2.5f, -1.5f, 4.5f}), "mean axis 0");
  expect_equal(reduce("ReduceMax", x, {}, 1), Tensor::from_floats({1, 1}, {6}), "max all");
  expect_equal(reduce("ReduceMin", x, {}, 0), Tensor::from_floats({}, {-5}), "min all");
  expect_equal(reduce("ReduceProd", x, {-1}, 0), Tensor::from_floats({2}, {6, -120}), "prod");
  expect_equal(reduce("ReduceL1", x, {1}, 0), Tensor::from_floats({2}, {6, 15}), "l1");
  expect_equal(reduce("ReduceSumSquare", x, {1}, 0), Tensor::from_floats({2}, {14, 77}), "sum square");
  expect_close(reduce("ReduceL2", x, {1}, 0), Tensor::from_floats({2}, {std::sqrt(14.f), std::sqrt(77.f)}), 0, 1e-6, "l2");
  expect_close(reduce("ReduceLogSum", x, {0}, 0), Tensor::from_floats({3}, {std::log(5.f), std::log(-3.f), std::log(9.f)}),
               0, 1e-6, "log sum");
  expect_close(reduce("ReduceLogSumExp", Tensor::from_floats({2}, {1000, 1000}), {}, 0),
               Tensor::from_floats({}, {1000 + std::log(2.f)}), 0, 1e-6, "log sum exp of large values");
}

// Reference: every input element folds into its output element.
Tensor reference_reduce(const std::string& op, const Tensor& x, std::vector<bool> reduced, bool keepdims) {
  Shape out_shape, kept_shape;
  for (size_t d = 0; d < x.rank(); ++d) {
    if (!reduced[d]) out_shape.push_back(x.dim(d));
    else if (keepdims) out_shape.push_back(1);
    kept_shape.push_back(reduced[d] ? 1 : x.dim(d));
  }
  const int64_t outputs = element_count(kept_shape);
  const double init = op == "ReduceMax" ? -INFINITY : op == "ReduceMin" ? INFINITY : op == "ReduceProd" ? 1 : 0;
  std::vector<double> acc(outputs, init);
  std::vector<int64_t> count(outputs, 0);
  for (int64_t i = 0; i < x.size(); ++i) {
    int64_t rest = i, o = 0, scale = 1;
    for (size_t d = x.rank(); d-- > 0;) {
      const int64_t coord = rest % x.dim(d);
      rest /= x.dim(d);
      o += (reduced[d] ? 0 : coord) * scale;
      scale *= kept_shape[d];
    }
    const double v = x.data<float>()[i];
    double& a = acc[o];
    ++count[o];
    if (op == "ReduceSum" || op == "ReduceMean" || op == "ReduceLogSum") a += v;
    else if (op == "ReduceMax") a = std::max(a, v);
    else if (op == "ReduceMin") a = std::min(a, v);
    else if (op == "ReduceProd") a *= v;
    else if (op == "ReduceL1") a += std::abs(v);
    else if (op == "ReduceL2" || op == "ReduceSumSquare") a += v * v;
    else if (op == "ReduceLogSumExp") a += std::exp(v);
  }
  Tensor y(DataType::kFloat32, out_shape);
  for (int64_t o = 0; o < outputs; ++o) {
    double v = acc[o];
    if (op == "ReduceMean") v /= count[o];
    if (op == "ReduceL2") v = std::sqrt(v);
    if (op == "ReduceLogSum" || op == "ReduceLogSumExp") v = std::log(v);
    y.data<float>()[o] = static_cast<float>(v);
  }
  return y;
}

TEST(ReduceOp, RandomAxesAgainstReference) {
  std::mt19937 rng(77);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::vector<std::string> ops = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                                        "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"};
  for (int trial = 0; trial < 400; ++trial) {
    const std::string& op = ops[trial % ops.size()];
    Shape shape(pick(1, 4));
    for (int64_t& d : shape) d = pick(1, 6);
    const bool positive = op == "ReduceLogSum" || op == "ReduceProd";
    const Tensor x = random_floats(shape, positive ? 0.5f : -2, positive ? 1.5f : 2, rng);
    std::vector<int64_t> axes;
    std::vector<bool> reduced(shape.size(), false);
    for (size_t d = 0; d < shape.size(); ++d)
      if (pick(0, 1)) {
        axes.push_back(pick(0, 1) ? static_cast<int64_t>(d) : static_cast<int64_t>(d) - static_cast<int64_t>(shape.size()));
        reduced[d] = true;
      }
    if (axes.empty()) reduced.assign(shape.size(), true);  // no axes: reduce everything
    const int keepdims = pick(0, 1);
    graph::Node node = make_node(op, 1);
    node.opset = 11;
    if (!axes.empty()) node.attrs["axes"] = ints_attr(axes);
    node.attrs["keepdims"] = int_attr(keepdims);
    const Tensor got = run_op(node, {x}, false, pick(1, 2))[0];
    std::string axes_text;
    for (int64_t a : axes) axes_text += std::to_string(a) + " ";
    expect_close(got, reference_reduce(op, x, reduced, keepdims), 1e-6, 1e-5,
                 op + " on " + shape_to_string(shape) + " axes [" + axes_text + "] keepdims " + std::to_string(keepdims));
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(ReduceOp, ReduceSumAxesInputFromOpset13) {
  const Tensor& x = kTwoByThree;
  graph::Node node = make_node("ReduceSum", 2, 1, 13);
  const Tensor no_axes(DataType::kInt64, {0});
  expect_equal(run_op(node, {x, Tensor::from_int64s({1}, {0})})[0], Tensor::from_floats({1, 3}, {5, -3, 9}), "axes [0]");
  expect_equal(run_op(node, {x, no_axes})[0], Tensor::from_floats({1, 1}, {11}), "empty axes");
  node.attrs["noop_with_empty_axes"] = int_attr(1);
  expect_equal(run_op(node, {x, no_axes})[0], x, "noop with empty axes");
  expect_equal(run_op(make_node("ReduceSum", 1, 1, 13), {x})[0], Tensor::from_floats({1, 1}, {11}), "no axes input");
  graph::Node old_style = make_node("ReduceSum", 1, 1, 13);
  old_style.attrs["axes"] = ints_attr({0});
  EXPECT_THROW(run_op(old_style, {x}), Error);
}

TEST(ReduceOp, MeanOfManyValuesIsAccurate) {
  // 2^22 copies of 0.1f: a float running sum drifts by percents here.
  Tensor x(DataType::kFloat32, {1, 1 << 22});
  std::fill(x.data<float>(), x.data<float>() + x.size(), 0.1f);
  const Tensor y = reduce("ReduceMean", x, {1}, 0);
  EXPECT_NEAR(y.data<float>()[0], 0.1f, 1e-8);
}

TEST(ReduceOp, Int64IsExact) {
  const int64_t big = (int64_t{1} << 60) + 1;
  const Tensor x = Tensor::from_int64s({3}, {big, 1, -big + 5});
  graph::Node node = make_node("ReduceMax", 1);
  node.attrs["keepdims"] = int_attr(0);
  EXPECT_EQ(run_op(node, {x})[0].data<int64_t>()[0], big);
  node.op_type = "ReduceSum";
  node.opset = 11;
  EXPECT_EQ(run_op(node, {x})[0].data<int64_t>()[0], 6);
}

TEST(ReduceOp, ErrorsNameTheNode) {
  graph::Node node = make_node("ReduceMean", 1);
  node.attrs["axes"] = ints_attr({2});
  try {
    run_op(node, {kTwoByThree});
    ADD_FAILURE() << "axis 2 of a matrix accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(node.describe()), std::string::npos) << e.what();
  }
}

// Softmax over [outer, n, inner] along n, in double.
Tensor reference_softmax(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  Tensor y(DataType::kFloat32, x.shape());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      auto at = [&](int64_t i) { return (o * n + i) * inner + j; };
      double largest = -INFINITY, sum = 0;
      for (int64_t i = 0; i < n; ++i) largest = std::max<double>(largest, x.data<float>()[at(i)]);
      for (int64_t i = 0; i < n; ++i) sum += std::exp(x.data<float>()[at(i)] - largest);
      for (int64_t i = 0; i < n; ++i) {
        const double shifted = x.data<float>()[at(i)] - largest;
        y.data<float>()[at(i)] = static_cast<float>(log ? shifted - std::log(sum) : std::exp(shifted) / sum);
      }
    }
  return y;
}

TEST(SoftmaxOp, AxisSemanticsBeforeAndFromOpset13) {
  std::mt19937 rng(3);
  const Tensor x = random_floats({2, 3, 4}, -5, 5, rng);
  for (bool log : {false, true}) {
    const std::string op = log ? "LogSoftmax" : "Softmax";
    graph::Node old_node = make_node(op, 1, 1, 11);
    old_node.attrs["axis"] = int_attr(1);  // coerced to 2 x 12 rows
    expect_close(run_op(old_node, {x})[0], reference_softmax(x, 2, 12, 1, log), 1e-6, 1e-5, op + " opset 11 axis 1");
    expect_close(run_op(make_node(op, 1, 1, 11), {x})[0], reference_softmax(x, 2, 12, 1, log), 1e-6, 1e-5,
                 op + " opset 11 default axis");
    graph::Node new_node = make_node(op, 1, 1, 13);
    new_node.attrs["axis"] = int_attr(1);  // along dim 1 only
    expect_close(run_op(new_node, {x})[0], reference_softmax(x, 2, 3, 4, log), 1e-6, 1e-5, op + " opset 13 axis 1");
    expect_close(run_op(make_node(op, 1, 1, 13), {x})[0], reference_softmax(x, 6, 4, 1, log), 1e-6, 1e-5,
                 op + " opset 13 default axis");
    new_node.attrs["axis"] = int_attr(-3);
    expect_close(run_op(new_node, {x}, false, 2)[0], reference_softmax(x, 1, 2, 12, log), 1e-6, 1e-5,
                 op + " opset 13 axis -3");
  }
}

TEST(SoftmaxOp, LargeInputsDoNotOverflow) {
  const Tensor x = Tensor::from_floats({1, 3}, {10000, 10001, 10002});
  expect_close(run_op(make_node("Softmax", 1), {x})[0], Tensor::from_floats({1, 3}, {0.09003057f, 0.24472847f, 0.66524096f}),
               1e-7, 1e-6, "softmax");
  expect_close(run_op(make_node("LogSoftmax", 1), {x})[0],
               Tensor::from_floats({1, 3}, {-2.40760596f, -1.40760596f, -0.40760596f}), 1e-6, 1e-6, "log softmax");
}

TEST(ArgMaxOp, TiesKeepdimsAndLastIndex) {
  const Tensor x = Tensor::from_floats({2, 3}, {1, 7, 7, 4, 4, 0});
  graph::Node node = make_node("ArgMax", 1, 1, 13);
  node.attrs["axis"] = int_attr(-1);
  expect_equal(run_op(node, {x})[0], Tensor::from_int64s({2, 1}, {1, 0}), "first max");
  node.attrs["select_last_index"] = int_attr(1);
  node.attrs["keepdims"] = int_attr(0);
  expect_equal(run_op(node, {x})[0], Tensor::from_int64s({2}, {2, 1}), "last max");
  graph::Node argmin = make_node("ArgMin", 1, 1, 13);
  expect_equal(run_op(argmin, {x})[0], Tensor::from_int64s({1, 3}, {0, 1, 1}), "argmin axis 0");
}

}  // namespace
}  // namespace kiln::testing
