// BatchNormalization, InstanceNormalization, LayerNormalization against
// formulas evaluated in double here. Tolerance: 1e-5 absolute + 1e-5
// relative (a few float roundings of values of order 1..10).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "nn_test_util.h"
#include "op_test_util.h"

namespace kiln::testing {
namespace {

TEST(BatchNormOp, HandChecked) {
  // Channel 0: (x - 1) / sqrt(4) * 2 + 0.5 = x - 0.5; channel 1: (x - 0) / 1 * 1 + 0 (var 1 - eps).
  const float eps = 1e-5f;
  graph::Node node = make_node("BatchNormalization", 5, 1, 15);
  const Tensor x = Tensor::from_floats({1, 2, 1, 2}, {1, 3, -2, 5});
  const Tensor scale = Tensor::from_floats({2}, {2, 1});
  const Tensor bias = Tensor::from_floats({2}, {0.5f, 0});
  const Tensor mean = Tensor::from_floats({2}, {1, 0});
  const Tensor var = Tensor::from_floats({2}, {4 - eps, 1 - eps});
  expect_close(run_op(node, {x, scale, bias, mean, var})[0], Tensor::from_floats({1, 2, 1, 2}, {0.5f, 2.5f, -2, 5}),
               1e-5, 1e-5, "hand");
}

TEST(BatchNormOp, RandomAgainstFormulaAndSpatialZero) {
  std::mt19937 rng(5);
  for (int opset : {7, 9, 15, 16, 17}) {
    for (bool spatial : {true, false}) {
      if (!spatial && opset > 8) continue;
      const Tensor x = random_floats({3, 4, 5, 6}, -3, 3, rng);
      const Shape p_shape = spatial ? Shape{4} : Shape{4, 5, 6};
      const Tensor scale = random_floats(p_shape, 0.5f, 2, rng), bias = random_floats(p_shape, -1, 1, rng);
      const Tensor mean = random_floats(p_shape, -1, 1, rng), var = random_floats(p_shape, 0.1f, 3, rng);
      graph::Node node = make_node("BatchNormalization", 5, 1, opset);
      node.attrs["epsilon"] = float_attr(1e-3f);
      if (!spatial) node.attrs["spatial"] = int_attr(0);
      Tensor want(DataType::kFloat32, x.shape());
      const int64_t features = scale.size(), run = x.size() / 3 / features;
      for (int64_t i = 0; i < x.size(); ++i) {
        const int64_t f = (i / run) % features;
        want.data<float>()[i] = static_cast<float>(
            (x.data<float>()[i] - mean.data<float>()[f]) / std::sqrt(var.data<float>()[f] + 1e-3) *
                scale.data<float>()[f] + bias.data<float>()[f]);
      }
      expect_close(run_op(node, {x, scale, bias, mean, var}, false, 2)[0], want, 1e-5, 1e-5,
                   "opset " + std::to_string(opset) + " spatial " + std::to_string(spatial));
    }
  }
}

TEST(BatchNormOp, TrainingModeIsABuildTimeError) {
  graph::Node node = make_node("BatchNormalization", 5, 3, 15);
  node.attrs["training_mode"] = int_attr(1);
  const Tensor p = Tensor::from_floats({1}, {1});
  try {
    run_op(node, {Tensor::from_floats({1, 1, 1}, {1}), p, p, p, p});
    ADD_FAILURE() << "training mode accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(node.describe()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("training_mode"), std::string::npos) << e.what();
  }
}

// Per row of `row` values: (x - mean) / sqrt(var + eps), in double.
std::vector<double> normalized_rows(const Tensor& x, int64_t row, double eps) {
  std::vector<double> out(static_cast<size_t>(x.size()));
  for (int64_t r = 0; r < x.size() / row; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < row; ++i) mean += x.data<float>()[r * row + i];
    mean /= row;
    for (int64_t i = 0; i < row; ++i) var += std::pow(x.data<float>()[r * row + i] - mean, 2);
    var /= row;
    for (int64_t i = 0; i < row; ++i) out[r * row + i] = (x.data<float>()[r * row + i] - mean) / std::sqrt(var + eps);
  }
  return out;
}

TEST(InstanceNormOp, AgainstFormulaWithLargeOffset) {
  // Values 1000 + small noise: a one-pass float E[x^2] - E[x]^2 would lose
  // every digit of the variance here.
  std::mt19937 rng(9);
  Tensor x = random_floats({2, 3, 17, 19}, -0.01f, 0.01f, rng);
  for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] += 1000.0f;
  const Tensor scale = Tensor::from_floats({3}, {1, 2, -1});
  const Tensor bias = Tensor::from_floats({3}, {0, 1, 2});
  graph::Node node = make_node("InstanceNormalization", 3, 1, 6);
  node.attrs["epsilon"] = float_attr(1e-9f);
  const std::vector<double> norm = normalized_rows(x, 17 * 19, 1e-9);
  Tensor want(DataType::kFloat32, x.shape());
  for (int64_t i = 0; i < x.size(); ++i) {
    const int64_t c = (i / (17 * 19)) % 3;
    want.data<float>()[i] = static_cast<float>(norm[i] * scale.data<float>()[c] + bias.data<float>()[c]);
  }
  // The inputs themselves are float-rounded near 1000 (ulp 6e-5 against a
  // spread of 0.006), which the double reference sees identically.
  expect_close(run_op(node, {x, scale, bias}, false, 2)[0], want, 1e-4, 1e-4, "instance norm");
}

TEST(LayerNormOp, AxesOutputsAndBroadcastParameters) {
  std::mt19937 rng(21);
  const Tensor x = random_floats({2, 3, 4, 5}, -2, 2, rng);
  for (int64_t axis : {-1, -2, 1, 0}) {
    const int64_t a = axis < 0 ? axis + 4 : axis;
    int64_t row = 1;
    Shape p_shape;
    for (int64_t d = a; d < 4; ++d) {
      row *= x.dim(d);
      p_shape.push_back(x.dim(d));
    }
    const Tensor scale = random_floats(p_shape, 0.5f, 1.5f, rng), bias = random_floats(p_shape, -1, 1, rng);
    graph::Node node = make_node("LayerNormalization", 3, 3, 17);
    node.attrs["axis"] = int_attr(axis);
    const std::vector<Tensor> got = run_op(node, {x, scale, bias}, false, 2);
    const std::vector<double> norm = normalized_rows(x, row, 1e-5);
    Tensor want(DataType::kFloat32, x.shape());
    for (int64_t i = 0; i < x.size(); ++i)
      want.data<float>()[i] = static_cast<float>(norm[i] * scale.data<float>()[i % row] + bias.data<float>()[i % row]);
    expect_close(got[0], want, 1e-5, 1e-5, "Y axis " + std::to_string(axis));
    Shape stats_shape = x.shape();
    for (int64_t d = a; d < 4; ++d) stats_shape[d] = 1;
    Tensor want_mean(DataType::kFloat32, stats_shape), want_inv(DataType::kFloat32, stats_shape);
    for (int64_t r = 0; r < x.size() / row; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < row; ++i) mean += x.data<float>()[r * row + i];
      mean /= row;
      for (int64_t i = 0; i < row; ++i) var += std::pow(x.data<float>()[r * row + i] - mean, 2);
      want_mean.data<float>()[r] = static_cast<float>(mean);
      want_inv.data<float>()[r] = static_cast<float>(1 / std::sqrt(var / row + 1e-5));
    }
    expect_close(got[1], want_mean, 1e-6, 1e-5, "Mean axis " + std::to_string(axis));
    expect_close(got[2], want_inv, 1e-6, 1e-5, "InvStdDev axis " + std::to_string(axis));
  }
}

TEST(LayerNormOp, ScalarScaleNoBias) {
  const Tensor x = Tensor::from_floats({1, 4}, {1, 2, 3, 4});
  graph::Node node = make_node("LayerNormalization", 2, 1, 17);
  node.attrs["epsilon"] = float_attr(0.0f);
  // mean 2.5, var 1.25 -> (x - 2.5) / sqrt(1.25) * 3
  const float s = 3.0f / std::sqrt(1.25f);
  expect_close(run_op(node, {x, Tensor::from_floats({1}, {3})})[0],
               Tensor::from_floats({1, 4}, {-1.5f * s, -0.5f * s, 0.5f * s, 1.5f * s}), 1e-6, 1e-6, "scalar scale");
}

TEST(LayerNormOp, LargeOffsetKeepsItsDigits) {
  // Rows near 1000 with a spread of 1e-3: centering in float with a folded
  // offset would leave a few bits of the normalized values.
  Tensor x(DataType::kFloat32, {2, 4});
  for (int64_t i = 0; i < 8; ++i) x.data<float>()[i] = 1000.0f + 0.001f * static_cast<float>(i % 4) + (i >= 4 ? 1.0f : 0.0f);
  graph::Node node = make_node("LayerNormalization", 2, 1, 17);
  node.attrs["epsilon"] = float_attr(0.0f);
  const std::vector<double> norm = normalized_rows(x, 4, 0.0);
  Tensor want(DataType::kFloat32, x.shape());
  for (int64_t i = 0; i < 8; ++i) want.data<float>()[i] = static_cast<float>(norm[i]);
  expect_close(run_op(node, {x, Tensor::from_floats({1}, {1})})[0], want, 1e-5, 1e-5, "offset 1000");
}

}  // namespace
}  // namespace kiln::testing
