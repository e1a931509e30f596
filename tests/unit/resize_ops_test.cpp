// Resize / Upsample: hand-checked cases per mode and coordinate transform,
// the attribute and input forms of every version, errors, and the fast paths
// against resize_reference.
//
// Tolerance: interpolated float results are compared with 1e-5 relative +
// 1e-6 absolute (weights are products of at most 4 factors per axis, values
// are O(1..255)); nearest results and integer types compare exactly.
#include <cmath>
#include <random>

#include "kernels/resize.h"
#include "tests/unit/op_test_util.h"
#include "tests/unit/typed_tensor_util.h"

namespace kiln::testing {
namespace {

void expect_close(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-6 + 1e-5 * std::fabs(want[i])) << what << " element " << i;
}

// Resize-13 with the given attributes on (X, roi, scales, sizes).
graph::Node resize13(const std::string& mode, const std::string& coordinates,
                     const std::string& nearest_mode = "round_prefer_floor") {
  graph::Node node = make_node("Resize", 4, 1, 13);
  node.attrs["mode"] = string_attr(mode);
  node.attrs["coordinate_transformation_mode"] = string_attr(coordinates);
  node.attrs["nearest_mode"] = string_attr(nearest_mode);
  return node;
}

Tensor resize_by_scales(const graph::Node& node, const Tensor& x, const std::vector<float>& scales) {
  return run_op(node, {x, Tensor(), floats({static_cast<int64_t>(scales.size())}, scales), Tensor()})[0];
}

Tensor resize_to_sizes(const graph::Node& node, const Tensor& x, const std::vector<int64_t>& sizes,
                       const Tensor& roi = Tensor()) {
  return run_op(node, {x, roi, Tensor(), int64_list(sizes)})[0];
}

const Tensor kRow4 = floats({4}, {10, 20, 30, 40});
const Tensor kSquare = floats({1, 1, 2, 2}, {1, 2, 3, 4});

// ------------------------------------------------------------- Upsample --

TEST(ResizeOpsUpsample, NearestScalesInputAndAttribute) {
  const std::vector<double> expected = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  graph::Node v9 = make_node("Upsample", 2, 1, 9);
  Tensor y = run_op(v9, {kSquare, floats({4}, {1, 1, 2, 3})})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 6}));
  EXPECT_EQ(as_doubles(y), expected);
  graph::Node v7 = make_node("Upsample", 1, 1, 7);
  v7.attrs["scales"] = floats_attr({1, 1, 2, 3});
  EXPECT_EQ(as_doubles(run_op(v7, {kSquare})[0]), expected);
}

TEST(ResizeOpsUpsample, LinearIsAsymmetricAndClamped) {
  graph::Node node = make_node("Upsample", 2, 1, 9);
  node.attrs["mode"] = string_attr("linear");
  Tensor y = run_op(node, {kSquare, floats({4}, {1, 1, 2, 2})})[0];
  expect_close(as_doubles(y), {1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4}, "upsample linear");
}

TEST(ResizeOpsUpsample, Errors) {
  graph::Node small = make_node("Upsample", 2, 1, 9);
  expect_node_error([&] { run_op(small, {kSquare, floats({4}, {1, 1, 0.5f, 1})}); }, small, ">= 1");
  graph::Node cubic = make_node("Upsample", 2, 1, 9);
  cubic.attrs["mode"] = string_attr("cubic");
  expect_node_error([&] { run_op(cubic, {kSquare, floats({4}, {1, 1, 2, 2})}); }, cubic, "cubic");
  graph::Node missing = make_node("Upsample", 1, 1, 7);
  expect_node_error([&] { run_op(missing, {kSquare}); }, missing, "scales");
}

// -------------------------------------------------------------- Resize-10 --

TEST(ResizeOpsResize10, NearestRoundsUpWhenShrinking) {
  graph::Node node = make_node("Resize", 2, 1, 10);
  Tensor x = floats({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor y = run_op(node, {x, floats({4}, {1, 1, 0.6f, 0.6f})})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 3}));  // x: 1 / 0.6 = 1.67 -> 2
  Tensor up = run_op(node, {kRow4, floats({1}, {1.5f})})[0];  // x / 1.5 truncated: 0 0 1 2 2 3
  EXPECT_EQ(as_doubles(up), (std::vector<double>{10, 10, 20, 30, 30, 40}));
}

TEST(ResizeOpsResize10, LinearIsAsymmetric) {
  graph::Node node = make_node("Resize", 2, 1, 10);
  node.attrs["mode"] = string_attr("linear");
  expect_close(as_doubles(run_op(node, {kRow4, floats({1}, {2})})[0]), {10, 15, 20, 25, 30, 35, 40, 40},
               "resize-10 linear");
}

// --------------------------------------------------------- nearest modes --

TEST(ResizeOpsNearest, RoundingModesAndCoordinates) {
  struct Case {
    std::string coordinates, rounding;
    std::vector<double> expected;  // kRow4 resized 4 -> 8
  };
  const std::vector<Case> cases = {
      // asymmetric: x = o / 2 = 0, .5, 1, 1.5, ... (ties)
      {"asymmetric", "round_prefer_floor", {10, 10, 20, 20, 30, 30, 40, 40}},
      {"asymmetric", "round_prefer_ceil", {10, 20, 20, 30, 30, 40, 40, 40}},
      {"asymmetric", "floor", {10, 10, 20, 20, 30, 30, 40, 40}},
      {"asymmetric", "ceil", {10, 20, 20, 30, 30, 40, 40, 40}},
      // half_pixel: x = o / 2 - 0.25
      {"half_pixel", "round_prefer_floor", {10, 10, 20, 20, 30, 30, 40, 40}},
      {"half_pixel", "floor", {10, 10, 10, 20, 20, 30, 30, 40}},
      {"half_pixel", "ceil", {10, 20, 20, 30, 30, 40, 40, 40}},
      // tf_half_pixel_for_nn: x = (o + 0.5) / 2
      {"tf_half_pixel_for_nn", "round_prefer_floor", {10, 20, 20, 30, 30, 40, 40, 40}},
      // align_corners: x = o * 3 / 7
      {"align_corners", "round_prefer_floor", {10, 10, 20, 20, 30, 30, 40, 40}},
      {"align_corners", "floor", {10, 10, 10, 20, 20, 30, 30, 40}},
  };
  for (const Case& c : cases) {
    graph::Node node = resize13("nearest", c.coordinates, c.rounding);
    EXPECT_EQ(as_doubles(resize_by_scales(node, kRow4, {2})), c.expected) << c.coordinates << " " << c.rounding;
    EXPECT_EQ(as_doubles(resize_to_sizes(node, kRow4, {8})), c.expected) << c.coordinates << " " << c.rounding;
  }
}

TEST(ResizeOpsNearest, EveryTypeMatchesFloat) {
  Tensor x = iota_typed(DataType::kFloat32, {1, 2, 3, 5});
  graph::Node node = resize13("nearest", "half_pixel");
  const std::vector<double> expected = as_doubles(resize_to_sizes(node, x, {1, 2, 7, 4}));
  for (DataType type : all_tensor_types()) {
    Tensor typed = iota_typed(type, {1, 2, 3, 5});
    Tensor y = resize_to_sizes(node, typed, {1, 2, 7, 4});
    EXPECT_EQ(y.dtype(), type);
    if (type == DataType::kBool) continue;  // iota is 0/1 there
    EXPECT_EQ(as_doubles(y), expected) << dtype_name(type);
  }
}

// ----------------------------------------------------------- linear modes --

TEST(ResizeOpsLinear, BilinearHalfPixelAndAlignCorners) {
  Tensor half = resize_by_scales(resize13("linear", "half_pixel"), kSquare, {1, 1, 2, 2});
  EXPECT_EQ(half.shape(), (Shape{1, 1, 4, 4}));
  expect_close(as_doubles(half),
               {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}, "half_pixel");
  Tensor corners = resize_to_sizes(resize13("linear", "align_corners"), kSquare, {1, 1, 4, 4});
  const double t = 1.0 / 3;
  expect_close(as_doubles(corners),
               {1, 1 + t, 1 + 2 * t, 2,             // y = 0
                1 + 2 * t, 2, 2 + t, 2 + 2 * t,     // y = 1/3: 1 + 2/3 * (row shift of 2)
                2 + t, 2 + 2 * t, 3, 3 + t,         // y = 2/3
                3, 3 + t, 3 + 2 * t, 4},
               "align_corners");
}

TEST(ResizeOpsLinear, PytorchHalfPixelWithOutputLengthOne) {
  // Output length 1: pytorch_half_pixel maps to 0, half_pixel to (0.5 / 0.25) - 0.5 = 1.5.
  EXPECT_EQ(as_doubles(resize_to_sizes(resize13("linear", "pytorch_half_pixel"), kRow4, {1})),
            (std::vector<double>{10}));
  expect_close(as_doubles(resize_to_sizes(resize13("linear", "half_pixel"), kRow4, {1})), {25}, "half_pixel 1");
  // Longer outputs behave like half_pixel: 4 -> 3, x = (o + 0.5) * 4 / 3 - 0.5.
  expect_close(as_doubles(resize_to_sizes(resize13("linear", "pytorch_half_pixel"), kRow4, {3})),
               {10 + 10 * (1.0 / 6), 25, 40 - 10 * (1.0 / 6)}, "pytorch 3");
}

TEST(ResizeOpsLinear, TfCropAndResizeExtrapolates) {
  graph::Node node = resize13("linear", "tf_crop_and_resize");
  node.attrs["extrapolation_value"] = float_attr(-1);
  // roi 0.5 .. 1.5 of a length-4 axis: x = 1.5 + o * 1.5 = 1.5, 3, 4.5 (outside).
  Tensor y = resize_to_sizes(node, kRow4, {3}, floats({2}, {0.5f, 1.5f}));
  expect_close(as_doubles(y), {25, 40, -1}, "crop");
  graph::Node nearest = resize13("nearest", "tf_crop_and_resize");
  nearest.attrs["extrapolation_value"] = float_attr(7);
  // Rows: roi -1 .. 1 of length 2 gives x = -1 (outside), 1. Columns as above, nearest.
  Tensor n = resize_to_sizes(nearest, floats({2, 4}, {10, 20, 30, 40, 50, 60, 70, 80}), {2, 3},
                             floats({4}, {-1, 0.5f, 1, 1.5f}));
  EXPECT_EQ(as_doubles(n), (std::vector<double>{7, 7, 7, 60, 80, 7}));
}

TEST(ResizeOpsLinear, InterpolatesAnyAxis) {
  // Linear along axis 0 of a 3-D tensor (the reference N-linear path).
  Tensor x = floats({2, 1, 1}, {1, 3});
  expect_close(as_doubles(resize_to_sizes(resize13("linear", "half_pixel"), x, {4, 1, 1})), {1, 1.5, 2.5, 3},
               "axis 0");
  // Trilinear on a 5-D tensor: a linear function of the coordinates stays linear.
  Tensor cube = floats({1, 1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});  // value = 4z + 2y + x
  Tensor y = resize_to_sizes(resize13("linear", "align_corners"), cube, {1, 1, 3, 3, 3});
  std::vector<double> expected;
  for (int z = 0; z < 3; ++z)
    for (int yy = 0; yy < 3; ++yy)
      for (int xx = 0; xx < 3; ++xx) expected.push_back(4 * z / 2.0 + 2 * yy / 2.0 + xx / 2.0);
  expect_close(as_doubles(y), expected, "trilinear");
}

TEST(ResizeOpsLinear, IntegerTypesTruncate) {
  Tensor x = make_typed(DataType::kUInt8, {2}, {0, 255});
  Tensor y = resize_by_scales(resize13("linear", "half_pixel"), x, {2});
  EXPECT_EQ(y.dtype(), DataType::kUInt8);
  EXPECT_EQ(as_doubles(y), (std::vector<double>{0, 63, 191, 255}));  // 63.75 and 191.25 truncated
  Tensor h = make_typed(DataType::kFloat16, {2}, {0, 1});
  EXPECT_EQ(as_doubles(resize_by_scales(resize13("linear", "half_pixel"), h, {2})),
            (std::vector<double>{0, 0.25, 0.75, 1}));
  expect_node_error([&] { resize_by_scales(resize13("linear", "half_pixel"), make_typed(DataType::kBool, {2}, {0, 1}), {2}); },
                    resize13("linear", "half_pixel"), "bool");
}

// ------------------------------------------------------------------ cubic --

TEST(ResizeOpsCubic, HandComputedWeights) {
  // a = -0.75, r = 0.5: weights far(1.5) = -0.09375, near(0.5) = 0.59375.
  Tensor impulse = floats({5}, {0, 0, 1, 0, 0});
  Tensor y = resize_by_scales(resize13("cubic", "asymmetric"), impulse, {2});
  ASSERT_EQ(y.size(), 10);
  EXPECT_NEAR(y.value_as_double(4), 1.0, 1e-12);      // x = 2 exactly
  EXPECT_NEAR(y.value_as_double(5), 0.59375, 1e-7);   // x = 2.5
  EXPECT_NEAR(y.value_as_double(3), 0.59375, 1e-7);   // x = 1.5
  EXPECT_NEAR(y.value_as_double(7), -0.09375, 1e-7);  // x = 3.5: index 2 is 2 taps back
}

TEST(ResizeOpsCubic, ExcludeOutsideRenormalizes) {
  Tensor x = floats({4}, {1, 0, 0, 0});
  graph::Node node = resize13("cubic", "asymmetric");
  Tensor plain = resize_by_scales(node, x, {2});
  EXPECT_NEAR(plain.value_as_double(1), 0.5, 1e-7);  // tap -1 clamps onto index 0: -0.09375 + 0.59375
  node.attrs["exclude_outside"] = int_attr(1);
  Tensor excluded = resize_by_scales(node, x, {2});
  EXPECT_NEAR(excluded.value_as_double(1), 0.59375 / 1.09375, 1e-7);
}

TEST(ResizeOpsCubic, KeysKernelReproducesQuadratics) {
  // With a = -0.5 the cubic convolution is exact for polynomials of degree 2
  // wherever all four taps lie inside the input.
  std::vector<float> samples;
  for (int i = 0; i < 8; ++i) samples.push_back(static_cast<float>(i * i));
  graph::Node node = resize13("cubic", "asymmetric");
  node.attrs["cubic_coeff_a"] = float_attr(-0.5f);
  Tensor y = resize_by_scales(node, floats({8}, samples), {2});
  for (int o = 2; o <= 11; ++o) EXPECT_NEAR(y.value_as_double(o), (o / 2.0) * (o / 2.0), 1e-4) << "o = " << o;
}

// ------------------------------------------------------- forms and errors --

TEST(ResizeOpsForms, Opset11EmptyScalesAndOpset13OmittedInputs) {
  graph::Node v11 = make_node("Resize", 4, 1, 11);
  Tensor empty_roi(DataType::kFloat32, {0}), empty_scales(DataType::kFloat32, {0});
  Tensor y = run_op(v11, {kSquare, empty_roi, empty_scales, int64_list({1, 1, 4, 4})})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));  // default nearest, half_pixel, round_prefer_floor
  EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  graph::Node v13 = make_node("Resize", 3, 1, 13);
  Tensor z = run_op(v13, {kSquare, Tensor(), floats({4}, {1, 1, 2, 2})}, true)[0];
  EXPECT_EQ(as_doubles(z), as_doubles(y));
}

TEST(ResizeOpsForms, Errors) {
  graph::Node node = resize13("linear", "half_pixel");
  expect_node_error([&] { run_op(node, {kSquare, Tensor(), floats({4}, {1, 1, 2, 2}), int64_list({1, 1, 4, 4})}); },
                    node, "not both");
  expect_node_error([&] { run_op(node, {kSquare, Tensor(), Tensor(), Tensor()}); }, node, "scales or sizes");
  expect_node_error([&] { resize_by_scales(node, kSquare, {2, 2}); }, node, "scales");
  expect_node_error([&] { resize_by_scales(node, kSquare, {1, 1, -2, 2}); }, node, "positive");
  expect_node_error([&] { resize_to_sizes(node, kSquare, {1, 1, -4, 4}); }, node, "negative");
  graph::Node crop = resize13("linear", "tf_crop_and_resize");
  expect_node_error([&] { resize_to_sizes(crop, kRow4, {2}); }, crop, "roi");
  graph::Node coordinates = resize13("linear", "corner_pixels");
  expect_node_error([&] { resize_to_sizes(coordinates, kRow4, {2}); }, coordinates, "corner_pixels");
  graph::Node rounding = resize13("nearest", "asymmetric", "round_half_even");
  expect_node_error([&] { resize_to_sizes(rounding, kRow4, {2}); }, rounding, "round_half_even");
  graph::Node mode = resize13("area", "asymmetric");
  expect_node_error([&] { resize_to_sizes(mode, kRow4, {2}); }, mode, "area");
}

// ------------------------------------------- fast paths vs the reference --

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-4, 4);
  std::vector<float> v(n);
  for (float& f : v) f = value(rng);
  return v;
}

TEST(ResizeOpsFastPaths, BilinearMatchesReference) {
  std::mt19937 rng(7);
  const std::vector<kernels::ResizeCoordinates> coordinate_modes = {
      kernels::ResizeCoordinates::kHalfPixel, kernels::ResizeCoordinates::kPytorchHalfPixel,
      kernels::ResizeCoordinates::kAlignCorners, kernels::ResizeCoordinates::kAsymmetric,
      kernels::ResizeCoordinates::kTfCropAndResize};
  for (int trial = 0; trial < 200; ++trial) {
    kernels::ResizeMethod method;
    method.mode = kernels::ResizeMode::kLinear;
    method.coordinates = coordinate_modes[static_cast<size_t>(trial) % coordinate_modes.size()];
    std::vector<kernels::ResizeAxisSize> sizes(4);
    sizes[0].in = sizes[0].out = 1 + rng() % 2;
    sizes[1].in = sizes[1].out = 1 + rng() % 3;
    for (size_t k = 2; k < 4; ++k) {
      sizes[k].in = 1 + rng() % 9;
      sizes[k].out = 1 + rng() % 17;
      sizes[k].scale = static_cast<double>(sizes[k].out) / static_cast<double>(sizes[k].in);
      sizes[k].roi_start = -0.2 + 0.1 * static_cast<double>(rng() % 4);
      sizes[k].roi_end = 0.8 + 0.1 * static_cast<double>(rng() % 5);
    }
    const kernels::ResizePlan plan = kernels::plan_resize(method, sizes, 3.5);
    ASSERT_TRUE(kernels::f32_resize_bilinear_applies(plan));
    const std::vector<float> input = random_floats(static_cast<size_t>(element_count(plan.in_shape)), rng);
    const size_t out_count = static_cast<size_t>(element_count(plan.out_shape));
    std::vector<float> want(out_count), got(out_count + 1, 1234.5f);
    kernels::resize_reference(plan, input.data(), want.data(), DataType::kFloat32);
    kernels::f32_resize_bilinear(plan, input.data(), got.data(), 1 + trial % 3);
    ASSERT_EQ(got.back(), 1234.5f) << "wrote past the end";
    // Looser than the file's 1e-6 absolute: the fast path rounds the plan's
    // double weights to float and interpolates in two float passes (a row,
    // then between rows), so each output carries a few float roundings of
    // terms up to max|input| = 4: 4 * 4 * 2^-24 = 1e-6 per rounding, a handful
    // of them. 1e-5 * (1 + |want|) covers that and still fails any wrong tap
    // or weight (those move an output by about 1e-2 or more here).
    for (size_t i = 0; i < out_count; ++i)
      ASSERT_NEAR(got[i], want[i], 1e-5 * (1 + std::fabs(want[i])))
          << "trial " << trial << " in " << shape_to_string(plan.in_shape) << " out "
          << shape_to_string(plan.out_shape) << " element " << i;
  }
}

TEST(ResizeOpsFastPaths, NearestGatherMatchesReference) {
  std::mt19937 rng(11);
  const std::vector<std::string> coordinate_modes = {"half_pixel", "asymmetric", "align_corners",
                                                     "tf_half_pixel_for_nn", "pytorch_half_pixel"};
  const std::vector<std::string> roundings = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  for (int trial = 0; trial < 100; ++trial) {
    const std::string coordinates = coordinate_modes[static_cast<size_t>(trial) % coordinate_modes.size()];
    const std::string rounding = roundings[static_cast<size_t>(trial / 5) % roundings.size()];
    const Shape in_shape = {1 + static_cast<int64_t>(rng() % 2), 1 + static_cast<int64_t>(rng() % 3),
                            1 + static_cast<int64_t>(rng() % 7), 1 + static_cast<int64_t>(rng() % 7)};
    std::vector<int64_t> out_sizes = {in_shape[0], in_shape[1], 1 + static_cast<int64_t>(rng() % 15),
                                      1 + static_cast<int64_t>(rng() % 15)};
    const std::vector<float> values = random_floats(static_cast<size_t>(element_count(in_shape)), rng);
    Tensor x = floats(in_shape, values);
    Tensor y = resize_to_sizes(resize13("nearest", coordinates, rounding), x, out_sizes);

    kernels::ResizeMethod method;
    method.mode = kernels::ResizeMode::kNearest;
    method.coordinates = coordinates == "half_pixel"      ? kernels::ResizeCoordinates::kHalfPixel
                         : coordinates == "asymmetric"    ? kernels::ResizeCoordinates::kAsymmetric
                         : coordinates == "align_corners" ? kernels::ResizeCoordinates::kAlignCorners
                         : coordinates == "tf_half_pixel_for_nn" ? kernels::ResizeCoordinates::kTfHalfPixelForNn
                                                                 : kernels::ResizeCoordinates::kPytorchHalfPixel;
    method.rounding = rounding == "round_prefer_floor"  ? kernels::NearestRounding::kRoundPreferFloor
                      : rounding == "round_prefer_ceil" ? kernels::NearestRounding::kRoundPreferCeil
                      : rounding == "floor"             ? kernels::NearestRounding::kFloor
                                                        : kernels::NearestRounding::kCeil;
    std::vector<kernels::ResizeAxisSize> sizes(4);
    for (size_t k = 0; k < 4; ++k) {
      sizes[k].in = in_shape[k];
      sizes[k].out = out_sizes[k];
      sizes[k].scale = static_cast<double>(out_sizes[k]) / static_cast<double>(in_shape[k]);
    }
    const kernels::ResizePlan plan = kernels::plan_resize(method, sizes, 0);
    std::vector<float> want(static_cast<size_t>(element_count(plan.out_shape)));
    kernels::resize_reference(plan, values.data(), want.data(), DataType::kFloat32);
    ASSERT_EQ(y.shape(), plan.out_shape);
    EXPECT_EQ(to_floats(y), want) << coordinates << " " << rounding << " in " << shape_to_string(in_shape);
  }
}

TEST(ResizeOpsFastPaths, ThreadedRunsMatchSingleThreaded) {
  std::mt19937 rng(3);
  Tensor x = floats({2, 3, 37, 53}, random_floats(2 * 3 * 37 * 53, rng));
  for (const std::string mode : {"nearest", "linear", "cubic"}) {
    graph::Node node = resize13(mode, "half_pixel");
    const std::vector<Tensor> inputs = {x, Tensor(), floats({4}, {1, 1, 2.5f, 1.5f}), Tensor()};
    Tensor one = run_op(node, inputs, false, 1)[0];
    Tensor many = run_op(node, inputs, false, 4)[0];
    EXPECT_EQ(one.shape(), (Shape{2, 3, 92, 79}));
    EXPECT_TRUE(same_bytes(one, many)) << mode;
  }
}

}  // namespace
}  // namespace kiln::testing
