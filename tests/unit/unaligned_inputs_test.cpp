// Caller inputs need no 64-byte alignment: Tensor::view over a buffer 4 bytes
// past a 64-byte boundary (what a numpy array usually is: 16-byte aligned,
// or less for a slice) runs through every ISA level's kernels and gives
// bit-for-bit the outputs of the same values in kiln's own aligned storage.
// The kernels' aligned loads (V::load_aligned) only read buffers kiln
// allocates itself: the GEMM's packed panels and the depthwise staging rows.
// The Python module relies on this to take numpy arrays without copying them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kiln/session.h"
#include "platform/cpu_info.h"
#include "tests/unit/model_builder.h"

namespace kiln {
namespace {

using testing::ModelBuilder;

void ints_attribute(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

void int_attribute(onnx::NodeProto* node, const std::string& name, int64_t value) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

std::vector<float> wave(size_t n, float step) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(step * static_cast<float>(i) + 0.3f);
  return v;
}

constexpr int64_t kC = 8, kH = 13, kW = 17;

// Every op reads the graph input x itself, so each kernel meets the
// unaligned pointer: a dense Conv (im2col into the GEMM's panels), a
// depthwise Conv (the dwconv kernels), MatMul with x as A and as B (the
// GEMM's packing of both sides), Add and Mul with a broadcast constant,
// Relu and Sigmoid (activation kernels), InstanceNormalization, Softmax,
// MaxPool, AveragePool and ReduceMean.
std::string model_reading_x_everywhere() {
  ModelBuilder m;
  m.input("x", {1, kC, kH, kW});
  m.initializer("w_dense", {5, kC, 3, 3}, wave(5 * kC * 9, 0.37f));
  m.initializer("b_dense", {5}, wave(5, 0.9f));
  m.initializer("w_dw", {kC, 1, 3, 3}, wave(kC * 9, 0.23f));
  m.initializer("w_right", {kW, 6}, wave(kW * 6, 0.41f));
  m.initializer("w_left", {4, kH}, wave(4 * kH, 0.53f));
  m.initializer("per_channel", {1, kC, 1, 1}, wave(kC, 1.3f));
  m.initializer("scale", {kC}, wave(kC, 0.7f));
  m.initializer("bias", {kC}, wave(kC, 0.5f));

  auto* dense = m.node("Conv", {"x", "w_dense", "b_dense"}, {"dense"}, "dense");
  ints_attribute(dense, "pads", {1, 1, 1, 1});
  auto* dw = m.node("Conv", {"x", "w_dw"}, {"depthwise"}, "depthwise");
  int_attribute(dw, "group", kC);
  ints_attribute(dw, "pads", {1, 1, 1, 1});
  ints_attribute(dw, "strides", {2, 2});
  m.node("MatMul", {"x", "w_right"}, {"matmul_a"}, "matmul_a");
  m.node("MatMul", {"w_left", "x"}, {"matmul_b"}, "matmul_b");
  m.node("Add", {"x", "per_channel"}, {"add"}, "add");
  m.node("Mul", {"x", "per_channel"}, {"mul"}, "mul");
  m.node("Relu", {"x"}, {"relu"}, "relu");
  m.node("Sigmoid", {"x"}, {"sigmoid"}, "sigmoid");
  m.node("InstanceNormalization", {"x", "scale", "bias"}, {"instance_norm"}, "instance_norm");
  m.node("Softmax", {"x"}, {"softmax"}, "softmax");
  auto* maxpool = m.node("MaxPool", {"x"}, {"maxpool"}, "maxpool");
  ints_attribute(maxpool, "kernel_shape", {3, 3});
  auto* avgpool = m.node("AveragePool", {"x"}, {"avgpool"}, "avgpool");
  ints_attribute(avgpool, "kernel_shape", {2, 2});
  auto* reduce = m.node("ReduceMean", {"x"}, {"reduce"}, "reduce");
  ints_attribute(reduce, "axes", {2, 3});
  for (const char* out : {"dense", "depthwise", "matmul_a", "matmul_b", "add", "mul", "relu", "sigmoid",
                          "instance_norm", "softmax", "maxpool", "avgpool", "reduce"})
    m.output(out);
  return m.bytes();
}

TEST(UnalignedInputs, EveryIsaLevelGivesTheAlignedOutputsBitForBit) {
  const std::string model = model_reading_x_everywhere();
  const int64_t count = kC * kH * kW;
  const std::vector<float> values = wave(static_cast<size_t>(count), 0.071f);

  Tensor aligned(DataType::kFloat32, {1, kC, kH, kW});
  std::memcpy(aligned.raw(), values.data(), values.size() * sizeof(float));

  // One float past a 64-byte boundary: aligned for float, for no SIMD width.
  Tensor backing(DataType::kFloat32, {count + 16});
  float* shifted = backing.data<float>() + 1;
  ASSERT_EQ(reinterpret_cast<uintptr_t>(shifted) % 64, 4u);
  std::memcpy(shifted, values.data(), values.size() * sizeof(float));
  Tensor unaligned = Tensor::view(DataType::kFloat32, {1, kC, kH, kW}, backing.storage(), shifted);
  ASSERT_EQ(unaligned.raw(), static_cast<void*>(shifted));

  int levels_run = 0;
  for (Isa isa : {Isa::sse2, Isa::sse41, Isa::avx2, Isa::avx512}) {
    if (!cpu_info().supports(isa)) continue;
    for (OptLevel level : {OptLevel::kNone, OptLevel::kAll}) {
      SessionOptions options;
      options.isa = isa_name(isa);
      options.opt_level = level;
      options.threads = 2;
      Session session = Session::from_bytes(model, options);
      const NamedTensors want = session.run({{"x", aligned}});
      const NamedTensors got = session.run({{"x", unaligned}});
      ASSERT_EQ(want.size(), 13u);
      for (const auto& [name, expected] : want) {
        const Tensor& actual = got.at(name);
        ASSERT_EQ(actual.shape(), expected.shape()) << name;
        EXPECT_EQ(std::memcmp(actual.raw(), expected.raw(), expected.nbytes()), 0)
            << name << " differs with the input 4 bytes off alignment at isa " << isa_name(isa) << ", opt level "
            << opt_level_name(level);
      }
    }
    ++levels_run;
  }
  EXPECT_GE(levels_run, 1);
  // The view was read where it points, not through a copy.
  EXPECT_EQ(std::memcmp(shifted, values.data(), values.size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace kiln
