// Shapes and indices a hostile model can give: extreme Slice starts, ends and
// steps (INT64_MAX, INT64_MIN), split sizes that overflow when added, and
// empty tensors whose other dims multiply past int64 (0 x 2^40 x 2^40). Each
// case was signed-integer overflow (an abort under UBSan, some a wrong shape
// in release) in shape inference (graph/shape_rules.cpp) or in a kernel
// before both used platform/checked_math.h.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "graph/shape_inference.h"
#include "platform/checked_math.h"
#include "tests/unit/error_test_util.h"
#include "tests/unit/op_test_util.h"

namespace kiln {
namespace {

using testing::contains;
using testing::error_of;
using testing::int_attr;
using testing::ints_attr;
using testing::make_node;
using testing::run_op;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kHuge = kMaxDimension;  // 2^40, the largest dim a tensor may have

// Shape inference of one node: inputs are fixed shapes, `constants` the
// inputs known at build time (an undefined Tensor = not constant). Returns
// the output shapes as strings ("1x5"; "?" for an unknown dim).
std::vector<std::string> inferred(const graph::Node& node, const std::vector<Shape>& shapes,
                                  const std::vector<Tensor>& constants = {}) {
  std::vector<graph::ValueInfo> infos(shapes.size());
  std::vector<const graph::ValueInfo*> inputs;
  std::vector<const Tensor*> consts;
  for (size_t i = 0; i < shapes.size(); ++i) {
    infos[i].dtype = DataType::kFloat32;
    infos[i].has_shape = true;
    for (int64_t d : shapes[i]) infos[i].dims.push_back(graph::Dim{d, ""});
    inputs.push_back(&infos[i]);
    consts.push_back(i < constants.size() && constants[i].defined() ? &constants[i] : nullptr);
  }
  std::vector<std::string> out;
  for (const graph::ValueInfo& v : graph::infer_node(node, inputs, consts, OpRegistry::global()))
    out.push_back(v.shape_string());
  return out;
}

// ---------------------------------------------------------- the helpers --

TEST(CheckedShapes, ProductsWithAZeroAreZeroWhateverTheOtherDims) {
  EXPECT_EQ(checked::try_product({kHuge, kHuge, 0}), 0);
  EXPECT_EQ(checked::try_product({0, kHuge, kHuge}), 0);
  EXPECT_EQ(checked::try_product({kHuge, kHuge}), std::nullopt);
  EXPECT_EQ(checked::try_product({kHuge, 1 << 22}), kHuge << 22);
  EXPECT_EQ(checked::try_product({}), 1);
  EXPECT_EQ(element_count({kHuge, kHuge, 0}), 0);  // was "more elements than fit in 64 bits"
  EXPECT_TRUE(contains(error_of([] { checked::mul(kMax, 2, "node 'n' (Op)", "a size"); }),
                       "node 'n' (Op): a size overflows 64 bits (9223372036854775807 x 2)"));
  EXPECT_TRUE(contains(error_of([] { checked::dim(kHuge + 1, "node 'n' (Op)", "the dim"); }),
                       "node 'n' (Op): the dim would be 1099511627777, more than the 2^40 a dim may have"));
}

TEST(CheckedShapes, SliceClampsExtremeStartsEndsAndStepsLikeTheOnnxSpec) {
  // As numpy on range(5): x[0:2**63-1:2**63-1] == [0]; x[2**63-1:-2**63:-2**63] == [4];
  // x[-2**63:2**63-1] == all; x[2**63-1:-2**63:-1] == all reversed; x[4:-2**63:-2] == [4, 2, 0].
  // Unlike numpy (which gives []), the spec clamps a start before the front to
  // 0 for a negative step: x[-2**63:-2**63:-1] == [0].
  auto count = [](int64_t start, int64_t end, int64_t step) {
    return checked::clamp_slice_axis(start, end, step, 5).count;
  };
  EXPECT_EQ(count(0, kMax, kMax), 1);
  EXPECT_EQ(count(kMax, kMin, kMin), 1);
  EXPECT_EQ(checked::clamp_slice_axis(kMax, kMin, kMin, 5).start, 4);
  EXPECT_EQ(count(kMin, kMax, 1), 5);
  EXPECT_EQ(count(kMax, kMin, -1), 5);
  EXPECT_EQ(count(4, kMin, -2), 3);
  EXPECT_EQ(count(kMin, kMax, kMax), 1);
  EXPECT_EQ(count(kMax, kMax, 1), 0);
  EXPECT_EQ(count(kMin, kMin, -1), 1);
  EXPECT_EQ(count(kMax, kMax, -1), 0);
  EXPECT_EQ(checked::clamp_slice_axis(kMax, kMin, kMin, kHuge).count, 1);
  EXPECT_EQ(checked::clamp_slice_axis(0, kMax, 3, kHuge).count, (kHuge + 2) / 3);
}

// --------------------------------------------------------------- Slice --

graph::Node slice_node() { return make_node("Slice", 5); }
std::vector<Tensor> slice_params(int64_t start, int64_t end, int64_t axis, int64_t step) {
  return {Tensor::from_int64s({1}, {start}), Tensor::from_int64s({1}, {end}), Tensor::from_int64s({1}, {axis}),
          Tensor::from_int64s({1}, {step})};
}

TEST(CheckedShapes, SliceWithExtremeStepsInfersTheShapeNumpyGives) {
  const graph::Node slice = slice_node();
  auto shape_of = [&](int64_t start, int64_t end, int64_t axis, int64_t step) {
    std::vector<Tensor> constants = {Tensor()};
    for (Tensor& t : slice_params(start, end, axis, step)) constants.push_back(t);
    return inferred(slice, {{1, 5}, {1}, {1}, {1}, {1}}, constants).at(0);
  };
  EXPECT_EQ(shape_of(0, kMax, 0, kMax), "1x5");
  EXPECT_EQ(shape_of(0, kMax, 1, kMax), "1x1");
  EXPECT_EQ(shape_of(kMax, kMin, 1, kMin), "1x1");
  EXPECT_EQ(shape_of(kMax, kMin, 1, -1), "1x5");
  EXPECT_EQ(shape_of(kMin, kMax, 1, 1), "1x5");
  EXPECT_EQ(shape_of(4, kMin, 1, -2), "1x3");
  EXPECT_EQ(shape_of(-1, kMin, 1, kMin), "1x1");
  EXPECT_EQ(shape_of(kMin, kMin, 1, -1), "1x1");
  EXPECT_EQ(shape_of(kMax, kMax, 1, -1), "1x0");
}

TEST(CheckedShapes, SliceKernelWithExtremeStepsAgreesWithShapeInference) {
  const graph::Node slice = slice_node();
  const Tensor x = Tensor::from_floats({1, 5}, {0, 1, 2, 3, 4});
  auto run = [&](int64_t start, int64_t end, int64_t axis, int64_t step) {
    std::vector<Tensor> inputs = {x};
    for (Tensor& t : slice_params(start, end, axis, step)) inputs.push_back(t);
    const Tensor y = run_op(slice, inputs)[0];
    return shape_to_string(y.shape()) + ":" + ::testing::PrintToString(testing::to_floats(y));
  };
  EXPECT_EQ(run(0, kMax, 0, kMax), "1x5:{ 0, 1, 2, 3, 4 }");
  EXPECT_EQ(run(0, kMax, 1, kMax), "1x1:{ 0 }");
  EXPECT_EQ(run(kMax, kMin, 1, kMin), "1x1:{ 4 }");
  EXPECT_EQ(run(kMax, kMin, 1, -1), "1x5:{ 4, 3, 2, 1, 0 }");
  EXPECT_EQ(run(kMin, kMax, 1, 1), "1x5:{ 0, 1, 2, 3, 4 }");
  EXPECT_EQ(run(4, kMin, 1, -2), "1x3:{ 4, 2, 0 }");
  EXPECT_EQ(run(-1, kMin, 1, kMin), "1x1:{ 4 }");
  EXPECT_EQ(run(kMin, kMin, 1, -1), "1x1:{ 0 }");
  EXPECT_EQ(run(kMax, kMax, 1, -1), "1x0:{}");
}

// --------------------------------------------------------------- Split --

TEST(CheckedShapes, SplitSizesThatOverflowAreAnError) {
  graph::Node split = make_node("Split", 2, 2);
  const Tensor x = Tensor::zeros(DataType::kFloat32, {1, 5});
  const Tensor sizes = Tensor::from_int64s({2}, {kMax, 2});  // wraps to INT64_MIN + 1
  split.attrs["axis"] = int_attr(1);
  EXPECT_EQ(error_of(split, {x, sizes}),
            "node 'Split_under_test' (Split): split sizes 9223372036854775807x2 add up to more than 2^63, but axis 1 "
            "of shape 1x5 has 5");
  EXPECT_EQ(error_of([&] { inferred(split, {{1, 5}, {2}}, {Tensor(), sizes}); }),
            "node 'Split_under_test' (Split): split sizes 9223372036854775807x2 add up to more than 2^63, not the "
            "axis length 5");
  // Sizes that add up to the axis length but not to 5 are caught at build time too.
  EXPECT_TRUE(contains(error_of([&] { inferred(split, {{1, 5}, {2}}, {Tensor(), Tensor::from_int64s({2}, {2, 2})}); }),
                       "add up to 4, not the axis length 5"));
}

TEST(CheckedShapes, SplitOfAnEmptyTensorWithHugeDims) {
  graph::Node split = make_node("Split", 1, 2);
  const Tensor x = Tensor::zeros(DataType::kFloat32, {0, kHuge, kHuge});
  const std::vector<Tensor> parts = run_op(split, {x});
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].shape(), (Shape{0, kHuge, kHuge}));
  EXPECT_EQ(parts[1].shape(), (Shape{0, kHuge, kHuge}));
}

// ---------------------------------------------- empty tensors, huge dims --

TEST(CheckedShapes, ConcatOfEmptyTensorsWithHugeDims) {
  graph::Node concat = make_node("Concat", 2);
  concat.attrs["axis"] = int_attr(0);
  const Tensor x = Tensor::zeros(DataType::kFloat32, {0, kHuge, kHuge});
  EXPECT_EQ(run_op(concat, {x, x})[0].shape(), (Shape{0, kHuge, kHuge}));
  // A concatenated dim above 2^40 is an error at build time as at run time.
  concat.attrs["axis"] = int_attr(1);
  EXPECT_EQ(error_of(concat, {x, x}),
            "node 'Concat_under_test' (Concat): the output dim would be 2199023255552, more than the 2^40 a dim may "
            "have");
  EXPECT_EQ(error_of([&] { inferred(concat, {{0, kHuge, kHuge}, {0, kHuge, kHuge}}); }),
            "node 'Concat_under_test' (Concat): a dim of output 'out0' would be 2199023255552, more than the 2^40 a "
            "dim may have");
}

TEST(CheckedShapes, PadOfEmptyTensorsWithHugeDimsAndOverflowingPads) {
  graph::Node pad = make_node("Pad", 2);
  const Tensor x = Tensor::zeros(DataType::kFloat32, {kHuge, kHuge, 0});
  EXPECT_EQ(run_op(pad, {x, Tensor::from_int64s({6}, {0, 0, 0, 0, 0, 0})})[0].shape(), (Shape{kHuge, kHuge, 0}));
  const Tensor pads = Tensor::from_int64s({6}, {0, 0, kMax, 0, 0, 1});
  EXPECT_TRUE(contains(error_of(pad, {x, pads}), "overflow the output shape"));
  EXPECT_EQ(error_of([&] { inferred(pad, {{kHuge, kHuge, 0}, {6}}, {Tensor(), pads}); }),
            "node 'Pad_under_test' (Pad): a padded dim overflows 64 bits (9223372036854775807 + 1)");
}

TEST(CheckedShapes, FlattenOfEmptyTensorsWithHugeDims) {
  graph::Node flatten = make_node("Flatten", 1);
  flatten.attrs["axis"] = int_attr(2);
  // 2^32 x 2^32 x 0 flattened at 2 is 2^64 x 0: release builds said 0x0.
  const Tensor x = Tensor::zeros(DataType::kFloat32, {int64_t{1} << 32, int64_t{1} << 32, 0});
  EXPECT_EQ(error_of(flatten, {x}),
            "node 'Flatten_under_test' (Flatten): the outer dim (4294967296x4294967296) overflows 64 bits");
  EXPECT_EQ(error_of([&] { inferred(flatten, {{int64_t{1} << 32, int64_t{1} << 32, 0}}); }),
            "node 'Flatten_under_test' (Flatten): the outer dim (4294967296x4294967296) overflows 64 bits");
  flatten.attrs["axis"] = int_attr(1);
  const Tensor y = Tensor::zeros(DataType::kFloat32, {kHuge, 0, kHuge});
  EXPECT_EQ(run_op(flatten, {y})[0].shape(), (Shape{kHuge, 0}));
  EXPECT_EQ(inferred(flatten, {{kHuge, 0, kHuge}}), std::vector<std::string>{"1099511627776x0"});
  EXPECT_EQ(error_of(flatten, {Tensor::zeros(DataType::kFloat32, {0, kHuge, kHuge})}),
            "node 'Flatten_under_test' (Flatten): the inner dim (1099511627776x1099511627776) overflows 64 bits");
}

TEST(CheckedShapes, ReduceOfEmptyTensorsWithHugeDims) {
  graph::Node sum = make_node("ReduceSum", 2);
  const Tensor x = Tensor::zeros(DataType::kFloat32, {0, kHuge, kHuge});
  EXPECT_EQ(run_op(sum, {x, Tensor::from_int64s({1}, {1})})[0].shape(), (Shape{0, 1, kHuge}));
  // Reducing the 0 away leaves 2^80 sums of nothing: more than a tensor holds.
  EXPECT_TRUE(contains(error_of(sum, {x, Tensor::from_int64s({1}, {0})}), "more than fit in 64 bits"));
  graph::Node mean = make_node("ReduceMean", 1);
  mean.attrs["axes"] = ints_attr({0});
  mean.attrs["keepdims"] = int_attr(0);
  const Tensor y = Tensor::zeros(DataType::kFloat32, {kHuge, 0, kHuge});
  EXPECT_EQ(run_op(mean, {y})[0].shape(), (Shape{0, kHuge}));
  graph::Node argmax = make_node("ArgMax", 1);
  argmax.attrs["axis"] = int_attr(3);
  const Tensor z = Tensor::zeros(DataType::kFloat32, {kHuge, kHuge, 0, 5});
  EXPECT_EQ(run_op(argmax, {z})[0].shape(), (Shape{kHuge, kHuge, 0, 1}));
}

TEST(CheckedShapes, LayerNormAndSoftmaxOfEmptyTensorsWithHugeDims) {
  graph::Node norm = make_node("LayerNormalization", 2);
  const Tensor x = Tensor::zeros(DataType::kFloat32, {kHuge, kHuge, 0});
  const Tensor scale = Tensor::zeros(DataType::kFloat32, {0});
  EXPECT_EQ(run_op(norm, {x, scale})[0].shape(), (Shape{kHuge, kHuge, 0}));
  // Rows of 2^80 elements cannot match any Scale.
  norm.attrs["axis"] = int_attr(1);
  EXPECT_EQ(error_of(norm, {Tensor::zeros(DataType::kFloat32, {0, kHuge, kHuge}), scale}),
            "node 'LayerNormalization_under_test' (LayerNormalization): the normalized row "
            "(1099511627776x1099511627776) overflows 64 bits");
  graph::Node softmax = make_node("Softmax", 1);
  EXPECT_EQ(run_op(softmax, {x})[0].shape(), (Shape{kHuge, kHuge, 0}));
}

TEST(CheckedShapes, TransposeOfEmptyTensorsWithHugeDims) {
  graph::Node transpose = make_node("Transpose", 1);
  transpose.attrs["perm"] = ints_attr({2, 1, 0});
  const Tensor x = Tensor::zeros(DataType::kFloat32, {0, kHuge, kHuge});
  EXPECT_EQ(run_op(transpose, {x})[0].shape(), (Shape{kHuge, kHuge, 0}));
}

TEST(CheckedShapes, ConvTransposeOutputSizesAreChecked) {
  graph::Node deconv = make_node("ConvTranspose", 2);
  deconv.attrs["strides"] = ints_attr({(int64_t{1} << 31) - 1});
  const Tensor x = Tensor::zeros(DataType::kFloat32, {0, 1, kHuge});
  const Tensor w = Tensor::zeros(DataType::kFloat32, {1, 1, 1});
  // (2^31 - 1) x (2^40 - 1) overflows; it used to wrap to a negative size.
  EXPECT_EQ(error_of(deconv, {x, w}),
            "node 'ConvTranspose_under_test' (ConvTranspose): the output size overflows 64 bits (2147483647 x "
            "1099511627775)");
  EXPECT_EQ(error_of([&] { inferred(deconv, {{0, 1, kHuge}, {1, 1, 1}}, {Tensor(), w}); }),
            "node 'ConvTranspose_under_test' (ConvTranspose): the output size overflows 64 bits (2147483647 x "
            "1099511627775)");
  // Without overflow but above 2^40: 2 x (2^40 - 1) + 1.
  deconv.attrs["strides"] = ints_attr({2});
  EXPECT_TRUE(contains(error_of(deconv, {x, w}), "spatial dim 0 of the output would be 2199023255551"));
  EXPECT_TRUE(contains(error_of([&] { inferred(deconv, {{0, 1, kHuge}, {1, 1, 1}}, {Tensor(), w}); }),
                       "would be 2199023255551, more than the 2^40 a dim may have"));
}

// Build-time shape inference applies the 2^40 limit a Tensor has at run time.
TEST(CheckedShapes, ShapeInferenceRejectsDimsAboveTheLimit) {
  graph::Node reshape = make_node("Reshape", 2);
  const Tensor target = Tensor::from_int64s({2}, {0, int64_t{1} << 41});
  EXPECT_EQ(error_of([&] { inferred(reshape, {{0, 4}, {2}}, {Tensor(), target}); }),
            "node 'Reshape_under_test' (Reshape): a dim of output 'out0' would be 2199023255552, more than the 2^40 "
            "a dim may have");
  EXPECT_TRUE(contains(error_of(reshape, {Tensor::zeros(DataType::kFloat32, {0, 4}), target}), "more than 2^40"));
}

}  // namespace
}  // namespace kiln
