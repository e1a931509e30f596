// Kernels fed values a hostile model can produce: results that do not fit
// the output type must be defined (saturated or wrapped), never undefined
// behaviour. Each case once tripped UBSan in the fuzzer.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "tests/unit/error_test_util.h"
#include "tests/unit/op_test_util.h"

namespace kiln {
namespace {

using testing::make_node;
using testing::run_op;

// kiln_fuzz_model: ReduceLogSum over uint8 zeros is log(0) = -inf, which was
// cast to uint8 (tests/fuzz_regressions/model/reduce_log_sum_uint8_minus_inf.onnx).
TEST(HostileValues, IntegerReduceResultsSaturate) {
  Tensor zeros = Tensor::zeros(DataType::kUInt8, {2, 3});
  graph::Node log_sum = make_node("ReduceLogSum", 1);
  Tensor y = run_op(log_sum, {zeros})[0];
  ASSERT_EQ(y.dtype(), DataType::kUInt8);
  EXPECT_EQ(y.data<uint8_t>()[0], 0);  // -inf saturates to the lowest uint8

  Tensor big = Tensor::zeros(DataType::kInt32, {2});
  big.data<int32_t>()[0] = std::numeric_limits<int32_t>::max();
  big.data<int32_t>()[1] = std::numeric_limits<int32_t>::max();
  Tensor l2 = run_op(make_node("ReduceL2", 1), {big})[0];
  EXPECT_EQ(l2.data<int32_t>()[0], std::numeric_limits<int32_t>::max());  // 3.0e9 saturates
}

TEST(HostileValues, Int64SumsAndProductsWrapLikeNumpy) {
  Tensor x = Tensor::from_int64s({2}, {std::numeric_limits<int64_t>::max(), 1});
  EXPECT_EQ(run_op(make_node("ReduceSum", 1, 1, 11), {x})[0].data<int64_t>()[0], std::numeric_limits<int64_t>::min());
  Tensor y = Tensor::from_int64s({2}, {int64_t{1} << 62, 4});
  EXPECT_EQ(run_op(make_node("ReduceProd", 1), {y})[0].data<int64_t>()[0], 0);  // 2^64 wraps to 0
  Tensor z = Tensor::from_int64s({1}, {std::numeric_limits<int64_t>::min()});
  EXPECT_EQ(run_op(make_node("ReduceL1", 1), {z})[0].data<int64_t>()[0], std::numeric_limits<int64_t>::min());
}

TEST(HostileValues, FloatToInt64ConversionsSaturate) {
  Tensor f = Tensor::from_floats({3}, {1e30f, -1e30f, std::numeric_limits<float>::quiet_NaN()});
  EXPECT_EQ(f.value_as_int64(0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(f.value_as_int64(1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.value_as_int64(2), 0);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// kiln_fuzz_model: DepthToSpace with blocksize 2^32 squared it in int64
// (tests/fuzz_regressions/model/depth_to_space_blocksize_2pow32.onnx).
TEST(HostileValues, HugeBlocksizesFailCleanly) {
  graph::Node d2s = testing::make_node("DepthToSpace", 1);
  d2s.attrs["blocksize"] = testing::int_attr(int64_t{1} << 32);
  Tensor x = Tensor::zeros(DataType::kFloat32, {1, 4, 1, 1});
  EXPECT_NE(testing::error_of(d2s, {x}).find("blocksize² overflows 64 bits (4294967296 x 4294967296)"),
            std::string::npos)
      << testing::error_of(d2s, {x});
  graph::Node s2d = testing::make_node("SpaceToDepth", 1);
  s2d.attrs["blocksize"] = testing::int_attr(int64_t{1} << 32);
  Tensor empty = Tensor::zeros(DataType::kFloat32, {1, 4, 0, 0});
  EXPECT_NE(testing::error_of(s2d, {empty}).find("blocksize² overflows 64 bits"), std::string::npos)
      << testing::error_of(s2d, {empty});
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// Pad: pads that overflow the output dim, or crop more than an axis holds and
// pad it back, fail cleanly; huge pads hit the memory budget before the
// per-axis index tables are built.
TEST(HostileValues, HugePadsFailCleanly) {
  graph::Node pad = testing::make_node("Pad", 2);
  Tensor x = Tensor::zeros(DataType::kFloat32, {2});
  const int64_t max = std::numeric_limits<int64_t>::max(), min = std::numeric_limits<int64_t>::min();
  EXPECT_NE(testing::error_of(pad, {x, Tensor::from_int64s({2}, {max, 1})}).find("overflow the output shape"),
            std::string::npos);
  EXPECT_NE(testing::error_of(pad, {x, Tensor::from_int64s({2}, {min, max})}).find("crop more than input shape 2"),
            std::string::npos);
  EXPECT_NE(testing::error_of(pad, {x, Tensor::from_int64s({2}, {int64_t{1} << 50, 0})}).find("absurdly large"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln
