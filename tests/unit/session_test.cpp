#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kiln/session.h"
#include "model_builder.h"
#include "tests/unit/error_test_util.h"

namespace kiln {
namespace {

using testing::ModelBuilder;

using testing::error_of;

// y = Relu(x + b), x: [batch, 3] with a symbolic batch dim.
std::string add_relu_model() {
  ModelBuilder m;
  m.input("x", {-1, 3}, onnx::TensorProto::FLOAT, {"batch", ""});
  m.initializer("b", {3}, {1.0f, -1.0f, 0.5f});
  m.node("Add", {"x", "b"}, {"t"}, "add");
  m.node("Relu", {"t"}, {"y"}, "relu");
  m.output("y");
  return m.bytes();
}

TEST(Session, RunsAndReportsSignature) {
  Session s = Session::from_bytes(add_relu_model());
  ASSERT_EQ(s.inputs().size(), 1u);
  EXPECT_EQ(s.inputs()[0].shape_string(), "batchx3");
  EXPECT_GE(s.threads(), 1);
  NamedTensors out = s.run({{"x", Tensor::from_floats({2, 3}, {0, 0, 0, -2, 2, 1})}});
  const Tensor& y = out.at("y");
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  std::vector<float> want = {1, 0, 0.5f, 0, 1, 1.5f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y.data<float>()[i], want[i]) << i;
}

TEST(Session, RejectsWrongInputs) {
  Session s = Session::from_bytes(add_relu_model());
  EXPECT_NE(error_of([&] { s.run({{"x", Tensor::from_floats({2, 4}, std::vector<float>(8))}}); })
                .find("input 'x' has shape 2x4, the model expects batchx3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { s.run({{"x", Tensor::from_floats({6}, std::vector<float>(6))}}); }).find("expects batchx3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { s.run({{"x", Tensor::from_int64s({1, 3}, {1, 2, 3})}}); })
                .find("has type int64, the model expects float32"),
            std::string::npos);
  EXPECT_NE(error_of([&] { s.run({}); }).find("input 'x' was not given"), std::string::npos);
  EXPECT_NE(error_of([&] { s.run({{"z", Tensor::from_floats({1}, {0})}}); }).find("no input named 'z'"),
            std::string::npos);
}

TEST(Session, FixedShapesAreChecked) {
  SessionOptions options;
  options.input_shapes["x"] = {4, 3};
  Session s = Session::from_bytes(add_relu_model(), options);
  EXPECT_EQ(s.inputs()[0].shape_string(), "4x3");
  EXPECT_NE(error_of([&] { s.run({{"x", Tensor::from_floats({2, 3}, std::vector<float>(6))}}); }).find("expects 4x3"),
            std::string::npos);
  SessionOptions bad;
  bad.input_shapes["x"] = {4, 5};
  EXPECT_NE(error_of([&] { Session::from_bytes(add_relu_model(), bad); }).find("fixed dimension 1 = 3"),
            std::string::npos);
  SessionOptions unknown;
  unknown.input_shapes["nope"] = {1};
  EXPECT_NE(error_of([&] { Session::from_bytes(add_relu_model(), unknown); }).find("no such input"), std::string::npos);
  SessionOptions dims;
  dims.dim_values["batch"] = 2;
  EXPECT_EQ(Session::from_bytes(add_relu_model(), dims).inputs()[0].shape_string(), "2x3");
}

TEST(Session, ListsEveryUnsupportedOpAtOnce) {
  ModelBuilder m;
  m.input("x", {2});
  m.node("FancyOp", {"x"}, {"a"}, "fancy1");
  m.node("Relu", {"a"}, {"b"}, "relu");
  m.node("FancyOp", {"b"}, {"c"}, "fancy2");
  m.node("Mystery", {"c"}, {"d"}, "mystery");
  m.output("d");
  std::string msg;
  try {
    Session::from_bytes(m.bytes());
  } catch (const UnsupportedError& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("2 unsupported operators (3 nodes)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("FancyOp in 'fancy1', 'fancy2'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Mystery in 'mystery'"), std::string::npos) << msg;
}

TEST(Session, ObserverSeesEveryNode) {
  SessionOptions options;
  options.opt_level = OptLevel::kBasic;  // at extended, Add and Relu become one FusedElementwise
  std::vector<std::string> seen;
  options.node_observer = [&](const NodeRunInfo& info) {
    seen.push_back(info.node_name + ":" + info.op_type + ":" + shape_to_string(info.outputs[0].shape()));
  };
  Session s = Session::from_bytes(add_relu_model(), options);
  s.run({{"x", Tensor::from_floats({1, 3}, {0, 0, 0})}});
  EXPECT_EQ(seen, (std::vector<std::string>{"add:Add:1x3", "relu:Relu:1x3"}));
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// Regression: the executor once handed kernels pointers into its constant
// table while still growing it, so a kernel reading a constant at build time
// (Reshape's shape here) read freed memory in a graph with many values.
TEST(Session, KernelsSeeConstantsInLongGraphs) {
  ModelBuilder m;
  m.input("x", {2, 3});
  std::string prev = "x";
  for (int i = 0; i < 64; ++i) {
    std::string c = "c" + std::to_string(i), out = "v" + std::to_string(i);
    m.initializer(c, {1}, {1.0f});
    m.node("Add", {prev, c}, {out});
    prev = out;
  }
  auto* shape = m.graph().add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(1);
  shape->add_int64_data(6);
  m.node("Reshape", {prev, "shape"}, {"y"});
  m.output("y");
  Session s = Session::from_bytes(m.bytes());
  Tensor y = s.run({{"x", Tensor::from_floats({2, 3}, {0, 1, 2, 3, 4, 5})}}).at("y");
  ASSERT_EQ(y.shape(), (Shape{6}));
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y.data<float>()[i], i + 64.0f);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// With fixed shapes every intermediate is planned into the arena, and the
// Reshape view c keeps b's bytes alive until c's last reader: if b's buffer
// were reused after the Reshape, d would land on it and change c.
TEST(Session, MemoryPlanReusesBuffersAndKeepsViewsAlive) {
  ModelBuilder m;
  m.input("x", {4, 8});
  m.initializer("one", {1}, {1.0f});
  auto* shape = m.graph().add_initializer();
  shape->set_name("flat");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(1);
  shape->add_int64_data(32);
  m.node("Relu", {"x"}, {"b"});
  m.node("Reshape", {"b", "flat"}, {"c"});   // a view of b
  m.node("Neg", {"c"}, {"d"});               // must not land on b's bytes while reading c
  m.node("Add", {"d", "c"}, {"e"});          // reads the view after d was written
  m.node("Neg", {"e"}, {"f"});
  m.node("Add", {"f", "one"}, {"y"});
  m.output("y");
  SessionOptions options;
  options.opt_level = OptLevel::kNone;
  Session s = Session::from_bytes(m.bytes(), options);
  const MemorySummary& mem = s.memory_summary();
  EXPECT_EQ(mem.planned_values, 4u);  // b, d, e, f (c is a view, y is an output)
  EXPECT_EQ(mem.dynamic_values, 0u);
  EXPECT_LT(mem.arena_bytes, mem.unplanned_bytes);
  EXPECT_GE(mem.arena_bytes, mem.peak_live_bytes);
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i % 7) - 3.0f;
  for (int run = 0; run < 2; ++run) {
    Tensor y = s.run({{"x", Tensor::from_floats({4, 8}, x)}}).at("y");
    ASSERT_EQ(y.shape(), (Shape{32}));
    // d + c = 0 for every element, so y = -0 + 1; had d overwritten c, y = 2c + 1.
    for (int i = 0; i < 32; ++i) EXPECT_FLOAT_EQ(y.data<float>()[i], 1.0f) << i;
  }
}

// Element-wise steps write over an input that nothing reads later: a, b and
// d share one buffer, so the arena holds one tensor.
TEST(Session, MemoryPlanRunsElementwiseStepsInPlace) {
  ModelBuilder m;
  m.input("x", {1, 2, 4, 4});
  m.initializer("c", {2, 1, 1}, {0.5f, -2.0f});
  m.node("Mul", {"x", "c"}, {"a"});        // x is a graph input: never written over
  m.node("Relu", {"a"}, {"b"});            // over a
  m.node("Sigmoid", {"b"}, {"d"});         // over b (= a's place)
  auto* t = m.node("Transpose", {"d"}, {"y"});
  auto* perm = t->add_attribute();
  perm->set_name("perm");
  perm->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : {0, 2, 3, 1}) perm->add_ints(v);
  m.output("y");
  SessionOptions options;
  options.opt_level = OptLevel::kNone;
  Session s = Session::from_bytes(m.bytes(), options);
  const MemorySummary& mem = s.memory_summary();
  EXPECT_EQ(mem.planned_values, 3u);
  EXPECT_EQ(mem.in_place_values, 2u);
  EXPECT_EQ(mem.arena_bytes, 32u * sizeof(float));
  EXPECT_EQ(mem.peak_live_bytes, 32u * sizeof(float));
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i % 9) - 4.0f;
  for (int run = 0; run < 2; ++run) {
    Tensor y = s.run({{"x", Tensor::from_floats({1, 2, 4, 4}, x)}}).at("y");
    ASSERT_EQ(y.shape(), (Shape{1, 4, 4, 2}));
    for (int c = 0; c < 2; ++c)
      for (int p = 0; p < 16; ++p) {
        const float a = x[static_cast<size_t>(c * 16 + p)] * (c == 0 ? 0.5f : -2.0f);
        const float expected = 1.0f / (1.0f + std::exp(-std::max(a, 0.0f)));
        EXPECT_NEAR(y.data<float>()[p * 2 + c], expected, 1e-6f) << c << " " << p;
      }
  }
}

// A value read by a later step is never written over: Relu must leave a
// intact for the Add, which then writes over b (its input 0, last read there).
TEST(Session, MemoryPlanKeepsValuesThatAreReadLater) {
  ModelBuilder m;
  m.input("x", {2, 8});
  m.initializer("c", {1}, {3.0f});
  m.node("Mul", {"x", "c"}, {"a"});
  m.node("Relu", {"a"}, {"b"});
  m.node("Add", {"b", "a"}, {"e"});         // b + a: 2a for a > 0, a otherwise
  m.node("Transpose", {"e"}, {"y"});
  m.output("y");
  SessionOptions options;
  options.opt_level = OptLevel::kNone;
  Session s = Session::from_bytes(m.bytes(), options);
  EXPECT_EQ(s.memory_summary().in_place_values, 1u);
  EXPECT_EQ(s.memory_summary().arena_bytes, 2u * 16u * sizeof(float));
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i) - 7.5f;
  Tensor y = s.run({{"x", Tensor::from_floats({2, 8}, x)}}).at("y");
  ASSERT_EQ(y.shape(), (Shape{8, 2}));
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 8; ++c) {
      const float a = 3.0f * x[static_cast<size_t>(r * 8 + c)];
      EXPECT_FLOAT_EQ(y.data<float>()[c * 2 + r], a > 0 ? 2 * a : a) << r << " " << c;
    }
}

// A Concat of several inputs makes a new buffer, which the plan places in the
// arena; a one-input Concat hands its input out and makes none.
TEST(Session, MemoryPlanPlacesMultiInputConcat) {
  ModelBuilder m;
  m.input("x", {1, 2, 3});
  m.node("Relu", {"x"}, {"a"});
  m.node("Neg", {"x"}, {"b"});
  auto* concat = m.node("Concat", {"a", "b"}, {"c"});
  auto* axis = concat->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(1);
  auto* alone = m.node("Concat", {"c"}, {"d"});  // a view of c
  alone->add_attribute()->CopyFrom(*axis);
  m.node("Neg", {"d"}, {"y"});
  m.output("y");
  SessionOptions options;
  options.opt_level = OptLevel::kNone;
  Session s = Session::from_bytes(m.bytes(), options);
  EXPECT_EQ(s.memory_summary().planned_values, 3u);  // a, b, c (d is c's view, y an output)
  EXPECT_EQ(s.memory_summary().dynamic_values, 0u);
  std::vector<float> x = {-3, -2, -1, 1, 2, 3};
  for (int run = 0; run < 2; ++run) {
    Tensor y = s.run({{"x", Tensor::from_floats({1, 2, 3}, x)}}).at("y");
    ASSERT_EQ(y.shape(), (Shape{1, 4, 3}));
    for (int i = 0; i < 6; ++i) {
      EXPECT_FLOAT_EQ(y.data<float>()[i], -std::max(x[static_cast<size_t>(i)], 0.0f)) << i;
      EXPECT_FLOAT_EQ(y.data<float>()[6 + i], x[static_cast<size_t>(i)]) << i;
    }
  }
}

// A run writes a graph output into the last run's buffer for it once the
// caller has let go of that result, and never while the caller holds it.
TEST(Session, OutputBufferIsReusedOnlyWhenTheCallerLetGo) {
  // 4 MB: large enough that malloc takes it from mmap, so a fresh buffer
  // does not land on the freed one's address by chance.
  constexpr int64_t kRows = 1024, kColumns = 1024;
  ModelBuilder m;
  m.input("x", {kRows, kColumns});
  m.node("Neg", {"x"}, {"y"});
  m.output("y");
  Session s = Session::from_bytes(m.bytes(), SessionOptions{});
  auto run = [&](float base) {
    std::vector<float> x(kRows * kColumns);
    for (int i = 0; i < 6; ++i) x[static_cast<size_t>(i)] = base + static_cast<float>(i);
    return s.run({{"x", Tensor::from_floats({kRows, kColumns}, x)}}).at("y");
  };
  const void* first_buffer = nullptr;
  {
    Tensor first = run(1.0f);
    first_buffer = first.raw();
  }
  Tensor second = run(10.0f);
  EXPECT_EQ(second.raw(), first_buffer) << "the dropped result's buffer was not reused";
  Tensor third = run(20.0f);  // `second` is still held: a new buffer
  EXPECT_NE(third.raw(), second.raw());
  for (int i = 0; i < 6; ++i) {
    EXPECT_FLOAT_EQ(second.data<float>()[i], -(10.0f + static_cast<float>(i))) << i;
    EXPECT_FLOAT_EQ(third.data<float>()[i], -(20.0f + static_cast<float>(i))) << i;
  }
}

// A graph output is never the place of an in-place step, and a step whose
// output has another shape than its input (broadcast) does not run in place.
TEST(Session, MemoryPlanInPlaceNeedsSameShapeAndNoGraphOutput) {
  ModelBuilder m;
  m.input("x", {1, 4});
  m.initializer("col", {3, 1}, {1.0f, 2.0f, 3.0f});
  m.node("Relu", {"x"}, {"a"});
  m.node("Add", {"a", "col"}, {"b"});      // 1x4 + 3x1 -> 3x4: not over a
  m.node("Neg", {"b"}, {"y"});             // y is an output: not over b
  m.output("y");
  SessionOptions options;
  options.opt_level = OptLevel::kNone;
  Session s = Session::from_bytes(m.bytes(), options);
  EXPECT_EQ(s.memory_summary().in_place_values, 0u);
  EXPECT_EQ(s.memory_summary().planned_values, 2u);
  Tensor y = s.run({{"x", Tensor::from_floats({1, 4}, {-1, 0, 1, 2})}}).at("y");
  ASSERT_EQ(y.shape(), (Shape{3, 4}));
  const float relu[4] = {0, 0, 1, 2};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_FLOAT_EQ(y.data<float>()[r * 4 + c], -(relu[c] + static_cast<float>(r + 1)));
}

}  // namespace
}  // namespace kiln
