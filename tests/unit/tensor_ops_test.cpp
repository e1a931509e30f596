// Layout, indexing, cast and pad operators, and the byte-moving kernels
// under them (kernels/data_movement.h, kernels/convert_elements.h).
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "kernels/convert_elements.h"
#include "kernels/data_movement.h"
#include "tests/unit/op_test_util.h"
#include "tests/unit/typed_tensor_util.h"

namespace kiln::testing {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// Element i of a contiguous shape as a multi-index.
std::vector<int64_t> unravel(int64_t i, const Shape& shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = i % shape[d];
    i /= shape[d];
  }
  return index;
}

int64_t ravel(const std::vector<int64_t>& index, const Shape& shape) {
  int64_t i = 0;
  for (size_t d = 0; d < shape.size(); ++d) i = i * shape[d] + index[d];
  return i;
}

// ------------------------------------------------ copy_view_to_contiguous --

// Naive: one element at a time, from the strides' definition.
std::vector<uint8_t> naive_view_copy(const std::vector<uint8_t>& src, int64_t base, size_t eb, const Shape& shape,
                                     const std::vector<int64_t>& strides) {
  const int64_t n = element_count(shape);
  std::vector<uint8_t> out(static_cast<size_t>(n) * eb);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> index = unravel(i, shape);
    int64_t offset = base;
    for (size_t d = 0; d < shape.size(); ++d) offset += index[d] * strides[d];
    std::memcpy(&out[static_cast<size_t>(i) * eb], &src[static_cast<size_t>(offset) * eb], eb);
  }
  return out;
}

TEST(TensorOpsCopyView, RandomStridedViewsMatchNaiveCopy) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t eb = size_t{1} << (trial % 4);
    const size_t rank = 1 + rng() % 5;
    Shape shape(rank);
    std::vector<int64_t> strides(rank);
    int64_t base = 0, span = 1;
    for (size_t d = 0; d < rank; ++d) {
      shape[d] = 1 + static_cast<int64_t>(rng() % 5);
      strides[d] = static_cast<int64_t>(rng() % 7) - 3;  // includes 0 (broadcast) and negative
    }
    for (size_t d = 0; d < rank; ++d) {
      if (strides[d] < 0) base += -strides[d] * (shape[d] - 1);
      span += std::abs(strides[d]) * (shape[d] - 1);
    }
    std::vector<uint8_t> src(static_cast<size_t>(span) * eb);
    for (auto& b : src) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> expected = naive_view_copy(src, base, eb, shape, strides);
    for (int threads : {1, 3}) {
      std::vector<uint8_t> got(expected.size() + eb, 0xEE);  // one sentinel element past the end
      kernels::copy_view_to_contiguous(got.data(), src.data() + base * static_cast<int64_t>(eb), eb, shape, strides,
                                       threads);
      for (size_t i = expected.size(); i < got.size(); ++i) ASSERT_EQ(got[i], 0xEE) << "wrote past the end";
      got.resize(expected.size());
      ASSERT_EQ(got, expected) << "trial " << trial << " shape " << shape_to_string(shape) << " strides "
                               << shape_to_string(strides) << " element bytes " << eb << " threads " << threads;
    }
  }
}

TEST(TensorOpsCopyView, LargeThreadedCopyMatches) {
  // Big enough that parallel_ranges really splits the rows.
  const Shape shape = {64, 3, 512};
  const std::vector<int64_t> strides = {512, 64 * 512, 1};  // a 0<->1 transpose
  std::vector<uint8_t> src(static_cast<size_t>(element_count(shape)) * 4);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7 + 3);
  std::vector<uint8_t> expected = naive_view_copy(src, 0, 4, shape, strides);
  std::vector<uint8_t> got(expected.size());
  kernels::copy_view_to_contiguous(got.data(), src.data(), 4, shape, strides, 4);
  EXPECT_EQ(got, expected);
}

TEST(TensorOpsCopyView, TiledTransposesMatchNaiveCopy) {
  // Views whose last dim is strided while another dim is contiguous take the
  // tiled path; sizes straddle the 16-element tile.
  struct Case {
    Shape shape;
    std::vector<int64_t> strides;
  };
  const std::vector<Case> cases = {
      {{37, 53}, {1, 37}},                 // plain 2-D transpose
      {{3, 17, 33}, {17 * 33, 1, 17}},     // NCHW-like batch of transposes
      {{5, 16, 2, 4}, {1, 5, 80, 160}},    // contiguous dim first, two walked dims
      {{20, 7, 9}, {1, -20, 140}},         // negative stride on a walked dim
  };
  for (const Case& c : cases) {
    int64_t base = 0, span = 1;
    for (size_t d = 0; d < c.shape.size(); ++d) {
      if (c.strides[d] < 0) base += -c.strides[d] * (c.shape[d] - 1);
      span += std::abs(c.strides[d]) * (c.shape[d] - 1);
    }
    for (size_t eb : {1, 2, 4, 8}) {
      std::vector<uint8_t> src(static_cast<size_t>(span) * eb);
      for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 13 + i / 251);
      std::vector<uint8_t> expected = naive_view_copy(src, base, eb, c.shape, c.strides);
      for (int threads : {1, 2}) {
        std::vector<uint8_t> got(expected.size());
        kernels::copy_view_to_contiguous(got.data(), src.data() + base * static_cast<int64_t>(eb), eb, c.shape,
                                         c.strides, threads);
        EXPECT_EQ(got, expected) << "shape " << shape_to_string(c.shape) << " strides " << shape_to_string(c.strides)
                                 << " element bytes " << eb << " threads " << threads;
      }
    }
  }
}

// ------------------------------------------------- gather_by_axis_tables --

TEST(TensorOpsAxisTables, RandomTablesMatchNaiveGather) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t eb = size_t{1} << (trial % 4);
    const size_t rank = 1 + rng() % 4;
    Shape in_shape(rank);
    std::vector<std::vector<int64_t>> tables(rank);
    Shape out_shape(rank);
    for (size_t d = 0; d < rank; ++d) {
      in_shape[d] = 1 + static_cast<int64_t>(rng() % 5);
      out_shape[d] = static_cast<int64_t>(rng() % 20);
      for (int64_t o = 0; o < out_shape[d]; ++o) {
        // Mix of -1 (fill), runs (o % in) and repeats.
        const int kind = static_cast<int>(rng() % 4);
        int64_t v = kind == 0 ? -1 : kind == 1 ? o % in_shape[d] : static_cast<int64_t>(rng() % in_shape[d]);
        tables[d].push_back(v);
      }
    }
    std::vector<uint8_t> src(static_cast<size_t>(element_count(in_shape)) * eb);
    for (auto& b : src) b = static_cast<uint8_t>(rng());
    uint8_t fill[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const int64_t n = element_count(out_shape);
    std::vector<uint8_t> expected(static_cast<size_t>(n) * eb);
    for (int64_t i = 0; i < n; ++i) {
      std::vector<int64_t> index = unravel(i, out_shape);
      bool outside = false;
      for (size_t d = 0; d < rank; ++d) {
        index[d] = tables[d][static_cast<size_t>(index[d])];
        outside = outside || index[d] < 0;
      }
      const uint8_t* from = outside ? fill : &src[static_cast<size_t>(ravel(index, in_shape)) * eb];
      std::memcpy(&expected[static_cast<size_t>(i) * eb], from, eb);
    }
    for (int threads : {1, 2}) {
      std::vector<uint8_t> got(expected.size() + eb, 0xEE);
      kernels::gather_by_axis_tables(got.data(), src.data(), eb, in_shape, tables, fill, threads);
      for (size_t i = expected.size(); i < got.size(); ++i) ASSERT_EQ(got[i], 0xEE) << "wrote past the end";
      got.resize(expected.size());
      ASSERT_EQ(got, expected) << "trial " << trial << " in " << shape_to_string(in_shape) << " out "
                               << shape_to_string(out_shape) << " element bytes " << eb;
    }
  }
}

TEST(TensorOpsFill, FillsAnyPattern) {
  const uint8_t pattern[4] = {1, 2, 3, 4};
  std::vector<uint8_t> out(4 * 37 + 1, 0xEE);
  kernels::fill_elements(out.data(), pattern, 4, 37);
  for (size_t i = 0; i < 4 * 37; ++i) ASSERT_EQ(out[i], pattern[i % 4]) << i;
  EXPECT_EQ(out.back(), 0xEE);
}

// ----------------------------------------------------------------- Concat --

TEST(TensorOpsConcat, AxisAndNegativeAxis) {
  Tensor a = floats({2, 2}, {1, 2, 3, 4});
  Tensor b = floats({2, 1}, {5, 6});
  graph::Node node = make_node("Concat", 2);
  node.attrs["axis"] = int_attr(-1);
  Tensor y = run_op(node, {a, b})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 2, 5, 3, 4, 6}));
  graph::Node rows = make_node("Concat", 2);
  rows.attrs["axis"] = int_attr(0);
  Tensor c = floats({1, 2}, {7, 8});
  EXPECT_EQ(as_doubles(run_op(rows, {a, c})[0]), (std::vector<double>{1, 2, 3, 4, 7, 8}));
}

TEST(TensorOpsConcat, EveryTypeWithAnEmptyInput) {
  for (DataType type : all_tensor_types()) {
    graph::Node node = make_node("Concat", 3);
    node.attrs["axis"] = int_attr(1);
    Tensor a = make_typed(type, {2, 1, 2}, {1, 0, 1, 1});
    Tensor empty(type, {2, 0, 2});
    Tensor b = make_typed(type, {2, 2, 2}, {0, 1, 1, 0, 1, 1, 0, 0});
    Tensor y = run_op(node, {a, empty, b})[0];
    EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
    EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0})) << dtype_name(type);
  }
}

// Few rows of large inputs (a channel concat of images) take the piecewise
// path, cut into 256 KiB copies shared by the threads; many rows the row path.
TEST(TensorOpsConcat, LargeInputsOnTwoThreads) {
  for (const Shape& base : {Shape{1, 1, 300, 301}, Shape{40, 1, 30, 31}}) {
    std::vector<Tensor> inputs;
    for (int64_t channels : {2, 1, 3}) {
      Shape shape = base;
      shape[1] = channels;
      Tensor t(DataType::kFloat32, shape);
      for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = static_cast<float>(channels * 1000000 + i);
      inputs.push_back(t);
    }
    graph::Node node = make_node("Concat", 3);
    node.attrs["axis"] = int_attr(1);
    const Tensor out = run_op(node, inputs, false, 2)[0];
    const int64_t plane = base[2] * base[3];
    ASSERT_EQ(out.shape(), (Shape{base[0], 6, base[2], base[3]}));
    for (int64_t n = 0; n < base[0]; ++n) {
      int64_t channel = 0;
      for (const Tensor& t : inputs)
        for (int64_t c = 0; c < t.dim(1); ++c, ++channel)
          for (int64_t i = 0; i < plane; i += 97)
            ASSERT_EQ(out.data<float>()[(n * 6 + channel) * plane + i], t.data<float>()[(n * t.dim(1) + c) * plane + i])
                << "n " << n << " channel " << channel << " element " << i;
    }
  }
}

TEST(TensorOpsConcat, MismatchesThrow) {
  graph::Node node = make_node("Concat", 2);
  node.attrs["axis"] = int_attr(0);
  expect_node_error([&] { run_op(node, {floats({1, 2}, {1, 2}), floats({1, 3}, {1, 2, 3})}); }, node,
                    "cannot concatenate");
  expect_node_error([&] { run_op(node, {floats({1, 2}, {1, 2}), int64s({1, 2}, {1, 2})}); }, node, "int64");
  graph::Node no_axis = make_node("Concat", 2);
  expect_node_error([&] { run_op(no_axis, {floats({1}, {1}), floats({1}, {2})}); }, no_axis, "axis");
}

// ------------------------------------------------------------------ Split --

TEST(TensorOpsSplit, AttributeFormBeforeOpset13) {
  graph::Node node = make_node("Split", 1, 2, 11);
  node.attrs["axis"] = int_attr(-1);
  node.attrs["split"] = ints_attr({1, 3});
  auto outputs = run_op(node, {floats({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})});
  EXPECT_EQ(outputs[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(as_doubles(outputs[0]), (std::vector<double>{1, 5}));
  EXPECT_EQ(as_doubles(outputs[1]), (std::vector<double>{2, 3, 4, 6, 7, 8}));
}

TEST(TensorOpsSplit, InputFormAndEqualDefault) {
  Tensor x = iota_typed(DataType::kInt8, {6, 2});
  graph::Node sized = make_node("Split", 2, 2, 13);
  for (bool constant : {false, true}) {
    auto outputs = run_op(sized, {x, int64_list({4, 2})}, constant);
    EXPECT_EQ(outputs[0].shape(), (Shape{4, 2}));
    EXPECT_EQ(as_doubles(outputs[1]), (std::vector<double>{8, 9, 10, 11}));
  }
  graph::Node equal = make_node("Split", 1, 3, 13);
  auto parts = run_op(equal, {x});
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(as_doubles(parts[2]), (std::vector<double>{8, 9, 10, 11}));
  graph::Node zero = make_node("Split", 2, 3, 13);
  auto with_empty = run_op(zero, {x, int64_list({0, 6, 0})});
  EXPECT_EQ(with_empty[0].shape(), (Shape{0, 2}));
  EXPECT_TRUE(same_bytes(with_empty[1], x));
}

TEST(TensorOpsSplit, BadSizesThrow) {
  Tensor x = iota_typed(DataType::kFloat32, {5});
  graph::Node uneven = make_node("Split", 1, 2, 13);
  expect_node_error([&] { run_op(uneven, {x}); }, uneven, "equal parts");
  graph::Node sum = make_node("Split", 2, 2, 13);
  expect_node_error([&] { run_op(sum, {x, int64_list({2, 2})}); }, sum, "add up");
  graph::Node count = make_node("Split", 1, 2, 11);
  count.attrs["split"] = ints_attr({1, 1, 3});
  expect_node_error([&] { run_op(count, {x}); }, count, "outputs");
}

// ------------------------------------------------------------------ Slice --

TEST(TensorOpsSlice, AttributeFormBeforeOpset10) {
  graph::Node node = make_node("Slice", 1, 1, 9);
  node.attrs["starts"] = ints_attr({1, 0});
  node.attrs["ends"] = ints_attr({2, 3});
  Tensor x = floats({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_EQ(as_doubles(run_op(node, {x})[0]), (std::vector<double>{5, 6, 7}));
  graph::Node with_axes = make_node("Slice", 1, 1, 1);
  with_axes.attrs["starts"] = ints_attr({1});
  with_axes.attrs["ends"] = ints_attr({1000});
  with_axes.attrs["axes"] = ints_attr({1});
  Tensor y = run_op(with_axes, {x})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{2, 3, 4, 6, 7, 8}));
}

TEST(TensorOpsSlice, InputFormWithStepsAxesAndClamping) {
  Tensor x = floats({2, 5}, {0, 1, 2, 3, 4, 10, 11, 12, 13, 14});
  graph::Node node = make_node("Slice", 5, 1, 13);
  struct Case {
    std::vector<int64_t> starts, ends, axes, steps;
    Shape shape;
    std::vector<double> expected;
  };
  const std::vector<Case> cases = {
      {{0, 1}, {2, 5}, {0, 1}, {1, 2}, {2, 2}, {1, 3, 11, 13}},
      {{kInt64Max}, {kInt64Min}, {-1}, {-1}, {2, 5}, {4, 3, 2, 1, 0, 14, 13, 12, 11, 10}},
      {{-2}, {kInt64Max}, {1}, {1}, {2, 2}, {3, 4, 13, 14}},
      {{4}, {0}, {1}, {-2}, {2, 2}, {4, 2, 14, 12}},
      {{-100}, {100}, {-2}, {1}, {2, 5}, {0, 1, 2, 3, 4, 10, 11, 12, 13, 14}},
      {{3}, {1}, {1}, {1}, {2, 0}, {}},
      {{1, 7}, {0, 8}, {0, 1}, {-1, 1}, {1, 0}, {}},
  };
  for (const Case& c : cases) {
    for (bool constant : {false, true}) {
      Tensor y = run_op(node, {x, int64_list(c.starts), int64_list(c.ends), int64_list(c.axes), int64_list(c.steps)},
                        constant)[0];
      EXPECT_EQ(y.shape(), c.shape) << "starts " << shape_to_string(c.starts) << " steps " << shape_to_string(c.steps);
      EXPECT_EQ(as_doubles(y), c.expected) << "starts " << shape_to_string(c.starts);
    }
  }
  // Optional axes/steps omitted; int32 starts/ends.
  graph::Node short_form = make_node("Slice", 3, 1, 10);
  Tensor y = run_op(short_form, {x, make_typed(DataType::kInt32, {2}, {1, 1}),
                                 make_typed(DataType::kInt32, {2}, {2147483647, -1})})[0];
  EXPECT_EQ(as_doubles(y), (std::vector<double>{11, 12, 13}));
}

TEST(TensorOpsSlice, EveryType) {
  for (DataType type : all_tensor_types()) {
    graph::Node node = make_node("Slice", 5, 1, 13);
    Tensor x = iota_typed(type, {3, 4});
    Tensor y = run_op(node, {x, int64_list({2, 3}), int64_list({-10, 0}), int64_list({0, 1}), int64_list({-2, -2})})[0];
    std::vector<double> all = as_doubles(x);
    EXPECT_EQ(as_doubles(y), (std::vector<double>{all[11], all[9], all[3], all[1]})) << dtype_name(type);
  }
}

TEST(TensorOpsSlice, BadParametersThrow) {
  Tensor x = iota_typed(DataType::kFloat32, {4});
  graph::Node node = make_node("Slice", 5, 1, 13);
  expect_node_error([&] { run_op(node, {x, int64_list({0}), int64_list({4}), int64_list({0}), int64_list({0})}); },
                    node, "step");
  expect_node_error(
      [&] { run_op(node, {x, int64_list({0}), int64_list({4}), int64_list({0}), int64_list({0})}, true); }, node,
      "step");
  expect_node_error([&] { run_op(node, {x, int64_list({0}), int64_list({4, 1}), Tensor(), Tensor()}); }, node,
                    "length");
  expect_node_error([&] { run_op(node, {x, int64_list({0}), int64_list({4}), int64_list({1}), Tensor()}); }, node,
                    "out of range");
}

// -------------------------------------------------------------- Transpose --

TEST(TensorOpsTranspose, DefaultReversesDims) {
  graph::Node node = make_node("Transpose", 1);
  Tensor y = run_op(node, {floats({2, 3}, {1, 2, 3, 4, 5, 6})})[0];
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 4, 2, 5, 3, 6}));
}

TEST(TensorOpsTranspose, EveryPermutationAndTypeMatchesNaive) {
  const Shape shape = {2, 3, 1, 4};
  std::vector<int64_t> perm = {0, 1, 2, 3};
  do {
    for (DataType type : all_tensor_types()) {
      graph::Node node = make_node("Transpose", 1);
      node.attrs["perm"] = ints_attr(perm);
      Tensor x = iota_typed(type, shape);
      Tensor y = run_op(node, {x})[0];
      Shape out_shape(4);
      for (size_t i = 0; i < 4; ++i) out_shape[i] = shape[static_cast<size_t>(perm[i])];
      ASSERT_EQ(y.shape(), out_shape);
      const std::vector<double> in = as_doubles(x), out = as_doubles(y);
      for (int64_t i = 0; i < y.size(); ++i) {
        std::vector<int64_t> o = unravel(i, out_shape), src(4);
        for (size_t d = 0; d < 4; ++d) src[static_cast<size_t>(perm[d])] = o[d];
        ASSERT_EQ(out[static_cast<size_t>(i)], in[static_cast<size_t>(ravel(src, shape))])
            << "perm " << shape_to_string(perm) << " type " << dtype_name(type) << " element " << i;
      }
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(TensorOpsTranspose, BadPermThrows) {
  graph::Node node = make_node("Transpose", 1);
  node.attrs["perm"] = ints_attr({0, 0});
  expect_node_error([&] { run_op(node, {floats({1, 1}, {1})}); }, node, "permutation");
  graph::Node wrong_rank = make_node("Transpose", 1);
  wrong_rank.attrs["perm"] = ints_attr({1, 0});
  expect_node_error([&] { run_op(wrong_rank, {floats({1, 1, 1}, {1})}); }, wrong_rank, "perm");
}

// ----------------------------------------------------------------- Gather --

TEST(TensorOpsGather, AxesNegativeIndicesAndIndexTypes) {
  Tensor x = floats({3, 2}, {1, 2, 3, 4, 5, 6});
  graph::Node rows = make_node("Gather", 2);
  Tensor y = run_op(rows, {x, int64s({2, 2}, {0, 2, -1, 1})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 2, 5, 6, 5, 6, 3, 4}));
  graph::Node cols = make_node("Gather", 2);
  cols.attrs["axis"] = int_attr(-1);
  Tensor z = run_op(cols, {x, make_typed(DataType::kInt32, {1}, {1})})[0];
  EXPECT_EQ(z.shape(), (Shape{3, 1}));
  EXPECT_EQ(as_doubles(z), (std::vector<double>{2, 4, 6}));
  Tensor scalar_index = run_op(cols, {x, int64s({}, {0})})[0];
  EXPECT_EQ(scalar_index.shape(), (Shape{3}));
  EXPECT_EQ(as_doubles(scalar_index), (std::vector<double>{1, 3, 5}));
}

TEST(TensorOpsGather, EveryType) {
  for (DataType type : all_tensor_types()) {
    graph::Node node = make_node("Gather", 2);
    node.attrs["axis"] = int_attr(1);
    Tensor x = iota_typed(type, {2, 3});
    std::vector<double> v = as_doubles(x);
    Tensor y = run_op(node, {x, int64s({2}, {2, 0})})[0];
    EXPECT_EQ(as_doubles(y), (std::vector<double>{v[2], v[0], v[5], v[3]})) << dtype_name(type);
  }
}

TEST(TensorOpsGather, OutOfRangeIndexThrows) {
  graph::Node node = make_node("Gather", 2);
  Tensor x = floats({3}, {1, 2, 3});
  expect_node_error([&] { run_op(node, {x, int64s({1}, {3})}); }, node, "out of range");
  expect_node_error([&] { run_op(node, {x, int64s({1}, {-4})}); }, node, "out of range");
  expect_node_error([&] { run_op(node, {x, floats({1}, {0})}); }, node, "int32 or int64");
}

TEST(TensorOpsGatherElements, PicksAlongAxis) {
  graph::Node node = make_node("GatherElements", 2, 1, 13);
  node.attrs["axis"] = int_attr(1);
  Tensor x = floats({2, 2}, {1, 2, 3, 4});
  Tensor y = run_op(node, {x, int64s({2, 2}, {0, 0, 1, 0})})[0];
  EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 1, 4, 3}));
  graph::Node rows = make_node("GatherElements", 2, 1, 13);
  Tensor z = run_op(rows, {floats({3, 2}, {1, 2, 3, 4, 5, 6}), int64s({1, 2}, {-1, 1})})[0];
  EXPECT_EQ(as_doubles(z), (std::vector<double>{5, 4}));
  expect_node_error([&] { run_op(rows, {x, int64s({1, 2}, {2, 0})}); }, rows, "out of range");
}

TEST(TensorOpsGatherND, TuplesSlicesAndBatchDims) {
  graph::Node node = make_node("GatherND", 2, 1, 13);
  Tensor x = make_typed(DataType::kInt32, {2, 2}, {0, 1, 2, 3});
  EXPECT_EQ(as_doubles(run_op(node, {x, int64s({2, 2}, {0, 0, 1, 1})})[0]), (std::vector<double>{0, 3}));
  Tensor rows = run_op(node, {x, int64s({2, 1}, {1, -2})})[0];
  EXPECT_EQ(rows.shape(), (Shape{2, 2}));
  EXPECT_EQ(as_doubles(rows), (std::vector<double>{2, 3, 0, 1}));
  graph::Node batched = make_node("GatherND", 2, 1, 13);
  batched.attrs["batch_dims"] = int_attr(1);
  Tensor cube = make_typed(DataType::kFloat32, {2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  Tensor y = run_op(batched, {cube, int64s({2, 1}, {1, 0})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{2, 3, 4, 5}));
  expect_node_error([&] { run_op(node, {x, int64s({1, 2}, {0, 2})}); }, node, "out of range");
  expect_node_error([&] { run_op(node, {x, int64s({1, 3}, {0, 0, 0})}); }, node, "does not fit");
}

// ------------------------------------------------------------------- Cast --

Tensor cast(const Tensor& x, DataType to) {
  graph::Node node = make_node("Cast", 1, 1, 13);
  node.attrs["to"] = int_attr(static_cast<int64_t>(to));
  return run_op(node, {x})[0];
}

TEST(TensorOpsCast, FloatToIntegerTruncatesTowardZero) {
  Tensor x = floats({6}, {2.7f, -2.7f, 0.5f, -0.5f, 100.0f, std::nanf("")});
  EXPECT_EQ(as_doubles(cast(x, DataType::kInt32)), (std::vector<double>{2, -2, 0, 0, 100, 0}));
  EXPECT_EQ(as_doubles(cast(x, DataType::kInt64)), (std::vector<double>{2, -2, 0, 0, 100, 0}));
  EXPECT_EQ(as_doubles(cast(floats({3}, {-1, 255.9f, 256}), DataType::kUInt8)), (std::vector<double>{255, 255, 0}));
  EXPECT_EQ(as_doubles(cast(floats({2}, {1e30f, -1e30f}), DataType::kInt64)),
            (std::vector<double>{static_cast<double>(kInt64Max), static_cast<double>(kInt64Min)}));
}

TEST(TensorOpsCast, BoolBothWays) {
  Tensor x = floats({4}, {0, -0.0f, 0.1f, std::nanf("")});
  Tensor b = cast(x, DataType::kBool);
  EXPECT_EQ(b.dtype(), DataType::kBool);
  EXPECT_EQ(as_doubles(b), (std::vector<double>{0, 0, 1, 1}));
  EXPECT_EQ(as_doubles(cast(b, DataType::kFloat32)), (std::vector<double>{0, 0, 1, 1}));
  EXPECT_EQ(as_doubles(cast(make_typed(DataType::kInt64, {2}, {0, 7}), DataType::kBool)), (std::vector<double>{0, 1}));
}

TEST(TensorOpsCast, SixteenBitFloats) {
  Tensor x = floats({5}, {1.0f, -2.5f, 65504.0f, 1e6f, 0.0999755859375f});
  Tensor h = cast(x, DataType::kFloat16);
  ASSERT_EQ(h.dtype(), DataType::kFloat16);
  EXPECT_EQ(as_doubles(h), (std::vector<double>{1.0, -2.5, 65504.0, INFINITY, 0.0999755859375}));
  // inf saturates to the int64 range, then wraps to int32 like an integer cast (-1).
  EXPECT_EQ(as_doubles(cast(h, DataType::kInt32)), (std::vector<double>{1, -2, 65504, -1, 0}));
  // bfloat16 rounds to nearest even: 1 + 2^-8 is a tie between 1 and 1 + 2^-7 -> 1;
  // 1 + 3 * 2^-8 is a tie between 1 + 2^-7 and 1 + 2^-6 -> 1 + 2^-6.
  Tensor bf = cast(floats({2}, {1.0f + 1.0f / 256, 1.0f + 3.0f / 256}), DataType::kBFloat16);
  EXPECT_EQ(as_doubles(bf), (std::vector<double>{1.0, 1.0 + 1.0 / 64}));
}

TEST(TensorOpsCast, DoubleToHalfRoundsOnce) {
  // 1 + 2^-11 + 2^-40 lies just above the tie between 1 and 1 + 2^-10 in
  // half precision: the correct result is 1 + 2^-10. Going through float
  // first would round to 1 + 2^-11 (a tie) and then to 1.
  const double value = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  Tensor x = make_typed(DataType::kFloat64, {1}, {value});
  EXPECT_EQ(cast(x, DataType::kFloat16).value_as_double(0), 1.0 + std::ldexp(1.0, -10));
}

TEST(TensorOpsCast, EveryPairOfTypesRoundTripsSmallIntegers) {
  for (DataType from : all_tensor_types()) {
    for (DataType to : all_tensor_types()) {
      const std::vector<double> values = from == DataType::kBool || to == DataType::kBool
                                             ? std::vector<double>{0, 1, 1, 0}
                                             : std::vector<double>{0, 1, 7, 100};
      Tensor y = cast(make_typed(from, {4}, values), to);
      ASSERT_EQ(y.dtype(), to);
      EXPECT_EQ(as_doubles(y), values) << dtype_name(from) << " -> " << dtype_name(to);
    }
  }
}

TEST(TensorOpsCast, SameTypeIsAViewAndCastLikeTakesTheType) {
  Tensor x = floats({2}, {1.5f, 2.5f});
  EXPECT_EQ(cast(x, DataType::kFloat32).raw(), x.raw());
  graph::Node like = make_node("CastLike", 2, 1, 15);
  Tensor y = run_op(like, {x, Tensor(DataType::kInt16, {0})})[0];
  EXPECT_EQ(y.dtype(), DataType::kInt16);
  EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 2}));
}

TEST(TensorOpsCast, UnsupportedTargetsThrow) {
  graph::Node to_string = make_node("Cast", 1, 1, 13);
  to_string.attrs["to"] = int_attr(8);
  expect_node_error([&] { run_op(to_string, {floats({1}, {1})}); }, to_string, "string");
  EXPECT_THROW(run_op(to_string, {floats({1}, {1})}), UnsupportedError);
  graph::Node complex = make_node("Cast", 1, 1, 13);
  complex.attrs["to"] = int_attr(14);
  expect_node_error([&] { run_op(complex, {floats({1}, {1})}); }, complex, "unsupported");
  graph::Node missing = make_node("Cast", 1, 1, 13);
  expect_node_error([&] { run_op(missing, {floats({1}, {1})}); }, missing, "to");
}

// -------------------------------------------------------------------- Pad --

TEST(TensorOpsPad, AttributeFormBeforeOpset11) {
  graph::Node node = make_node("Pad", 1, 1, 2);
  node.attrs["pads"] = ints_attr({0, 1, 1, 0});
  node.attrs["value"] = float_attr(9);
  Tensor y = run_op(node, {floats({2, 2}, {1, 2, 3, 4})})[0];
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{9, 1, 2, 9, 3, 4, 9, 9, 9}));
}

TEST(TensorOpsPad, InputFormConstant) {
  graph::Node node = make_node("Pad", 3, 1, 11);
  Tensor x = make_typed(DataType::kInt64, {1, 3}, {1, 2, 3});
  Tensor y = run_op(node, {x, int64_list({1, 2, 0, 1}), make_typed(DataType::kInt64, {}, {-5})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 6}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{-5, -5, -5, -5, -5, -5, -5, -5, 1, 2, 3, -5}));
  Tensor zero_fill = run_op(node, {x, int64_list({0, 1, 0, 0}), Tensor()}, true)[0];
  EXPECT_EQ(as_doubles(zero_fill), (std::vector<double>{0, 1, 2, 3}));
}

TEST(TensorOpsPad, ReflectEdgeAndNegativePads) {
  Tensor x = floats({3}, {1, 2, 3});
  auto pad = [&](const std::string& mode, std::vector<int64_t> pads) {
    graph::Node node = make_node("Pad", 2, 1, 13);
    node.attrs["mode"] = string_attr(mode);
    return as_doubles(run_op(node, {x, int64_list(pads)})[0]);
  };
  EXPECT_EQ(pad("reflect", {2, 2}), (std::vector<double>{3, 2, 1, 2, 3, 2, 1}));
  EXPECT_EQ(pad("reflect", {5, 0}), (std::vector<double>{2, 1, 2, 3, 2, 1, 2, 3}));  // repeated mirroring
  EXPECT_EQ(pad("edge", {2, 1}), (std::vector<double>{1, 1, 1, 2, 3, 3}));
  EXPECT_EQ(pad("constant", {-1, 1}), (std::vector<double>{2, 3, 0}));
  EXPECT_EQ(pad("edge", {-2, 2}), (std::vector<double>{3, 3, 3}));
}

TEST(TensorOpsPad, ReflectIn2DAndEveryType) {
  for (DataType type : all_tensor_types()) {
    graph::Node node = make_node("Pad", 2, 1, 13);
    node.attrs["mode"] = string_attr("reflect");
    Tensor x = make_typed(type, {2, 2}, {1, 0, 0, 1});
    Tensor y = run_op(node, {x, int64_list({1, 1, 0, 0})})[0];
    EXPECT_EQ(y.shape(), (Shape{3, 3})) << dtype_name(type);
    EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 0, 1, 0, 1, 0, 1, 0, 1})) << dtype_name(type);
  }
}

TEST(TensorOpsPad, BadPadsThrow) {
  graph::Node node = make_node("Pad", 2, 1, 13);
  Tensor x = floats({2}, {1, 2});
  expect_node_error([&] { run_op(node, {x, int64_list({1})}); }, node, "pads");
  expect_node_error([&] { run_op(node, {x, int64_list({-2, -1})}); }, node, "crop");
  graph::Node mode = make_node("Pad", 2, 1, 13);
  mode.attrs["mode"] = string_attr("wrap");
  expect_node_error([&] { run_op(mode, {x, int64_list({1, 1})}); }, mode, "wrap");
}

// ------------------------------------------------------------------- Tile --

TEST(TensorOpsTile, RepeatsEachAxis) {
  graph::Node node = make_node("Tile", 2);
  Tensor y = run_op(node, {floats({2, 2}, {1, 2, 3, 4}), int64_list({2, 3})})[0];
  EXPECT_EQ(y.shape(), (Shape{4, 6}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
                                                1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}));
  Tensor wide = run_op(node, {iota_typed(DataType::kUInt16, {1, 20}), int64_list({1, 2})})[0];
  std::vector<double> expected = as_doubles(iota_typed(DataType::kUInt16, {20}));
  expected.insert(expected.end(), expected.begin(), expected.end());
  EXPECT_EQ(as_doubles(wide), expected);
  expect_node_error([&] { run_op(node, {floats({2}, {1, 2}), int64_list({1, 1})}); }, node, "repeats");
}

// ------------------------------------------------ DepthToSpace, SpaceToDepth --

Tensor depth_to_space_example_input() {
  std::vector<double> v;
  for (int c = 0; c < 8; ++c)
    for (int i = 0; i < 6; ++i) v.push_back(c * 9 + i);
  return make_typed(DataType::kFloat32, {1, 8, 2, 3}, v);
}

TEST(TensorOpsDepthToSpace, DcrMatchesTheSpecExample) {
  graph::Node node = make_node("DepthToSpace", 1, 1, 13);
  node.attrs["blocksize"] = int_attr(2);
  Tensor y = run_op(node, {depth_to_space_example_input()})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 2, 4, 6}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{0,  18, 1,  19, 2,  20, 36, 54, 37, 55, 38, 56,
                                                3,  21, 4,  22, 5,  23, 39, 57, 40, 58, 41, 59,
                                                9,  27, 10, 28, 11, 29, 45, 63, 46, 64, 47, 65,
                                                12, 30, 13, 31, 14, 32, 48, 66, 49, 67, 50, 68}));
}

TEST(TensorOpsDepthToSpace, CrdMatchesTheSpecExample) {
  graph::Node node = make_node("DepthToSpace", 1, 1, 13);
  node.attrs["blocksize"] = int_attr(2);
  node.attrs["mode"] = string_attr("CRD");
  Tensor y = run_op(node, {depth_to_space_example_input()})[0];
  EXPECT_EQ(as_doubles(y), (std::vector<double>{0,  9,  1,  10, 2,  11, 18, 27, 19, 28, 20, 29,
                                                3,  12, 4,  13, 5,  14, 21, 30, 22, 31, 23, 32,
                                                36, 45, 37, 46, 38, 47, 54, 63, 55, 64, 56, 65,
                                                39, 48, 40, 49, 41, 50, 57, 66, 58, 67, 59, 68}));
}

TEST(TensorOpsSpaceToDepth, InvertsDepthToSpaceDcr) {
  for (DataType type : all_tensor_types()) {
    Tensor x = iota_typed(type, {2, 3, 4, 6});
    graph::Node to_depth = make_node("SpaceToDepth", 1, 1, 13);
    to_depth.attrs["blocksize"] = int_attr(2);
    Tensor d = run_op(to_depth, {x})[0];
    EXPECT_EQ(d.shape(), (Shape{2, 12, 2, 3}));
    graph::Node to_space = make_node("DepthToSpace", 1, 1, 13);
    to_space.attrs["blocksize"] = int_attr(2);
    EXPECT_TRUE(same_bytes(run_op(to_space, {d})[0], x)) << dtype_name(type);
  }
  // Output channel (i*b + j)*C + c holds pixel (h*b + i, w*b + j) of channel c.
  graph::Node node = make_node("SpaceToDepth", 1, 1, 13);
  node.attrs["blocksize"] = int_attr(2);
  Tensor y = run_op(node, {floats({1, 1, 2, 2}, {1, 2, 3, 4})})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 4, 1, 1}));
  EXPECT_EQ(as_doubles(y), (std::vector<double>{1, 2, 3, 4}));
  expect_node_error([&] { run_op(node, {floats({1, 1, 3, 2}, {1, 2, 3, 4, 5, 6})}); }, node, "divisible");
}

TEST(TensorOpsDepthToSpace, BadInputsThrow) {
  graph::Node node = make_node("DepthToSpace", 1, 1, 13);
  node.attrs["blocksize"] = int_attr(2);
  expect_node_error([&] { run_op(node, {iota_typed(DataType::kFloat32, {1, 6, 1, 1})}); }, node, "divisible");
  graph::Node mode = make_node("DepthToSpace", 1, 1, 13);
  mode.attrs["blocksize"] = int_attr(2);
  mode.attrs["mode"] = string_attr("XYZ");
  expect_node_error([&] { run_op(mode, {iota_typed(DataType::kFloat32, {1, 4, 1, 1})}); }, mode, "mode");
}

}  // namespace
}  // namespace kiln::testing
