#include "platform/memory_budget.h"

#include <gtest/gtest.h>

#include "kiln/session.h"
#include "model_builder.h"
#include "tests/unit/error_test_util.h"

namespace kiln {
namespace {

using testing::ModelBuilder;

using testing::error_of;

TEST(MemoryBudget, CountsReservationsAndPeak) {
  MemoryBudget budget(1000);
  EXPECT_TRUE(budget.try_reserve(600));
  EXPECT_FALSE(budget.try_reserve(500));  // 1100 > 1000: refused, nothing counted
  EXPECT_EQ(budget.in_use(), 600u);
  EXPECT_TRUE(budget.try_reserve(400));
  budget.release(900);
  EXPECT_EQ(budget.in_use(), 100u);
  EXPECT_EQ(budget.peak(), 1000u);
  EXPECT_FALSE(budget.try_reserve(~uint64_t{0}));  // no wrap-around
}

TEST(MemoryBudget, ZeroMeansAvailableMemory) {
  EXPECT_GT(available_memory_bytes(), 0u);
  MemoryBudget budget(0);
  EXPECT_GT(budget.limit(), uint64_t{1} << 20);
}

TEST(MemoryBudget, TensorsCountWhileAlive) {
  auto budget = std::make_shared<MemoryBudget>(1 << 20);
  {
    MemoryBudgetScope scope(budget);
    Tensor a(DataType::kFloat32, {1000});  // 4000 bytes, rounded up to 64
    EXPECT_EQ(budget->in_use(), 4032u);
    Tensor copy = a;  // shallow: counted once
    EXPECT_EQ(budget->in_use(), 4032u);
    std::string message = error_of([] { Tensor(DataType::kFloat32, {1024, 1024}); });
    EXPECT_NE(message.find("a float32 tensor of shape 1024x1024 needs 4.0 MiB (4194304 bytes), over the session's "
                           "memory budget of 1.0 MiB (1048576 bytes) (3.9 KiB (4032 bytes) already in use"),
              std::string::npos)
        << message;
    EXPECT_NE(error_of([] { check_workspace_bytes(2 << 20, "a scratch buffer"); }).find("a scratch buffer needs 2.0 MiB"),
              std::string::npos);
  }
  EXPECT_EQ(budget->in_use(), 0u);
  EXPECT_EQ(current_memory_budget(), nullptr);
  Tensor unlimited(DataType::kFloat32, {1024, 1024});  // no scope, no budget
  EXPECT_EQ(budget->in_use(), 0u);
}

TEST(MemoryBudget, BytesToString) {
  EXPECT_EQ(bytes_to_string(12), "12 bytes");
  EXPECT_EQ(bytes_to_string(1536), "1.5 KiB (1536 bytes)");
  EXPECT_EQ(bytes_to_string(uint64_t{3} << 40), "3.0 TiB (3298534883328 bytes)");
}

// y = ConstantOfShape(shape): the output size comes from the input data.
std::string constant_of_shape_model() {
  ModelBuilder m;
  m.input("shape", {2}, onnx::TensorProto::INT64);
  m.node("ConstantOfShape", {"shape"}, {"y"}, "fill");
  m.output("y");
  return m.bytes();
}

TEST(MemoryBudget, SessionRunFailsCleanlyOverBudget) {
  SessionOptions options;
  options.max_memory_bytes = 1 << 20;
  Session session = Session::from_bytes(constant_of_shape_model(), options);
  EXPECT_EQ(session.memory_budget_bytes(), 1u << 20);
  NamedTensors out = session.run({{"shape", Tensor::from_int64s({2}, {16, 16})}});
  EXPECT_EQ(out.at("y").size(), 256);
  std::string message = error_of([&] { session.run({{"shape", Tensor::from_int64s({2}, {1000, 1000})}}); });
  EXPECT_NE(message.find("node 'fill' (ConstantOfShape): a float32 tensor of shape 1000x1000 needs 3.8 MiB (4000000 "
                         "bytes), over the session's memory budget of 1.0 MiB"),
            std::string::npos)
      << message;
  // An absurd request (4 TiB) fails the same way, it does not try to allocate.
  message = error_of([&] { session.run({{"shape", Tensor::from_int64s({2}, {int64_t{1} << 20, int64_t{1} << 20})}}); });
  EXPECT_NE(message.find("a float32 tensor of shape 1048576x1048576 needs 4.0 TiB"), std::string::npos) << message;
  // Past what 64-bit sizes can hold, the message says so.
  message = error_of([&] { session.run({{"shape", Tensor::from_int64s({2}, {int64_t{1} << 32, int64_t{1} << 30})}}); });
  EXPECT_NE(message.find("a float32 tensor of shape 4294967296x1073741824 needs more than 2^63 bytes"),
            std::string::npos)
      << message;
  // The failed runs gave their memory back: the small one still works.
  out = session.run({{"shape", Tensor::from_int64s({2}, {100, 100})}});
  EXPECT_EQ(out.at("y").size(), 10000);
  EXPECT_GE(session.peak_memory_bytes(), 40000u);
}

TEST(MemoryBudget, WeightsCountAgainstTheBudgetWhenLoading) {
  ModelBuilder m;
  m.input("x", {1000});
  m.initializer("w", {1000}, std::vector<float>(1000, 1.0f));
  m.node("Add", {"x", "w"}, {"y"}, "add");
  m.output("y");
  SessionOptions options;
  options.max_memory_bytes = 1024;
  std::string message = error_of([&] { Session::from_bytes(m.bytes(), options); });
  EXPECT_NE(message.find("a float32 tensor of shape 1000 needs 3.9 KiB (4032 bytes), over the session's memory "
                         "budget of 1.0 KiB (1024 bytes)"),
            std::string::npos)
      << message;
}

// x -> Relu -> a -> Softmax -> y with x of shape dims: `a` is the one value
// in the arena (two Relus would become one FusedElementwise, without `a`).
std::string relu_softmax_model(std::vector<int64_t> dims) {
  ModelBuilder m;
  m.input("x", dims);
  m.node("Relu", {"x"}, {"a"}, "relu1");
  m.node("Softmax", {"a"}, {"y"}, "softmax");
  m.output("y");
  return m.bytes();
}

TEST(MemoryBudget, ArenaOverBudgetFailsWhenTheSessionIsBuilt) {
  SessionOptions options;
  options.max_memory_bytes = 2 << 20;
  // 1000x1000 floats: the arena needs 4000000 bytes, the budget allows 2 MiB.
  std::string message = error_of([&] { Session::from_bytes(relu_softmax_model({1000, 1000}), options); });
  EXPECT_NE(message.find("the memory arena of the model's 1 planned intermediate values (largest 'a' float32 "
                         "1000x1000 3.8 MiB) needs 3.8 MiB (4000000 bytes), over the session's memory budget of "
                         "2.0 MiB (2097152 bytes)"),
            std::string::npos)
      << message;
  // A plan of 40 GB fails as fast, without allocating it.
  message = error_of([&] { Session::from_bytes(relu_softmax_model({100000, 100000}), options); });
  EXPECT_NE(message.find("(largest 'a' float32 100000x100000 37.3 GiB) needs 37.3 GiB"), std::string::npos) << message;
  options.max_memory_bytes = 5 << 20;
  Session session = Session::from_bytes(relu_softmax_model({1000, 1000}), options);
  EXPECT_EQ(session.memory_summary().arena_bytes, 4000000u);
  EXPECT_TRUE(session.memory_summary().warning.empty());
}

TEST(MemoryBudget, LargePlansWarnWithoutAnExplicitBudget) {
  const uint64_t available = available_memory_bytes();
  ASSERT_GT(available, 0u);
  // An arena of about three quarters of the available memory: within the
  // default budget, over half of it. Nothing is run, so nothing is allocated.
  const int64_t floats = static_cast<int64_t>(available / 4 * 3 / 4);
  Session session = Session::from_bytes(relu_softmax_model({1, floats}));
  const std::string& warning = session.memory_summary().warning;
  EXPECT_NE(warning.find("more than half of the"), std::string::npos) << warning;
  EXPECT_NE(warning.find("largest planned values 'a' float32 1x" + std::to_string(floats)), std::string::npos)
      << warning;
  EXPECT_NE(warning.find("SessionOptions::max_memory_bytes"), std::string::npos) << warning;
  // The same plan with an explicit budget is the caller's choice: no warning.
  SessionOptions options;
  options.max_memory_bytes = available;
  EXPECT_TRUE(Session::from_bytes(relu_softmax_model({1, floats}), options).memory_summary().warning.empty());
  // A small plan never warns.
  EXPECT_TRUE(Session::from_bytes(relu_softmax_model({4, 4})).memory_summary().warning.empty());
}

TEST(MemoryBudget, ReservedBytesCountUntilTheSessionEnds) {
  SessionOptions options;
  options.max_memory_bytes = 1 << 20;
  Session session = Session::from_bytes(relu_softmax_model({16, 16}), options);
  const uint64_t before = session.memory_in_use_bytes();
  session.reserve_memory(512 << 10, "input 'x'");
  EXPECT_EQ(session.memory_in_use_bytes(), before + (512u << 10));
  std::string message = error_of([&] { session.reserve_memory(600 << 10, "input 'z' (float32 600x256)"); });
  EXPECT_NE(message.find("input 'z' (float32 600x256) needs 600.0 KiB (614400 bytes), over the session's memory "
                         "budget of 1.0 MiB (1048576 bytes) (512.0 KiB (524288 bytes) already in use"),
            std::string::npos)
      << message;
  // A refused reservation counts nothing; the reserved bytes limit what runs may allocate.
  EXPECT_EQ(session.memory_in_use_bytes(), before + (512u << 10));
  session.reserve_memory(session.memory_budget_bytes() - session.memory_in_use_bytes() - 100, "input 'w'");
  Tensor x(DataType::kFloat32, {16, 16});
  message = error_of([&] { session.run({{"x", x}}); });
  EXPECT_NE(message.find("over the session's memory budget of 1.0 MiB"), std::string::npos) << message;
}

}  // namespace
}  // namespace kiln
