#include "graph/passes/fold_constants.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "runtime/kernel_evaluator.h"
#include "runtime/op_registry.h"

namespace kiln {
namespace {

using testing::attr_float;
using testing::attr_int;
using testing::attr_ints;
using testing::attr_string;
using testing::attr_tensor;
using testing::GraphBuilder;
using testing::initializer_floats;
using testing::op_sequence;

// Test-only kernels, so the pass is tested apart from kiln's real ops.
// AddF: elementwise float add of two same-shape inputs.
class AddF : public OpKernel {
 public:
  explicit AddF(const KernelInit&) {}
  void run(KernelContext& ctx) override {
    const Tensor& a = ctx.required_input(0);
    const Tensor& b = ctx.required_input(1);
    if (a.shape() != b.shape()) fail("AddF: shapes differ");
    Tensor& out = ctx.allocate_output(0, DataType::kFloat32, a.shape());
    for (int64_t i = 0; i < a.size(); ++i) out.data<float>()[i] = a.data<float>()[i] + b.data<float>()[i];
  }
};
// Grow: a float tensor of `count` elements (attribute), all 1.
class Grow : public OpKernel {
 public:
  explicit Grow(const KernelInit& init) : count_(init.node().attr_int("count", 1)) {}
  void run(KernelContext& ctx) override {
    Tensor& out = ctx.allocate_output(0, DataType::kFloat32, {count_});
    for (int64_t i = 0; i < count_; ++i) out.data<float>()[i] = 1;
  }
 private:
  int64_t count_;
};
// Picky: rejects its node when built, as a kernel does with bad attributes.
class Picky : public OpKernel {
 public:
  explicit Picky(const KernelInit& init) { fail(init.node().describe(), ": bad attribute"); }
  void run(KernelContext&) override {}
};
// Split2: two outputs, the input and its negation.
class Split2 : public OpKernel {
 public:
  explicit Split2(const KernelInit&) {}
  void run(KernelContext& ctx) override {
    const Tensor& a = ctx.required_input(0);
    ctx.set_output(0, a);
    if (ctx.num_outputs() > 1) {
      Tensor& neg = ctx.allocate_output(1, DataType::kFloat32, a.shape());
      for (int64_t i = 0; i < a.size(); ++i) neg.data<float>()[i] = -a.data<float>()[i];
    }
  }
};

OpRegistry test_registry() {
  OpRegistry r;
  r.add("Add", make_kernel<AddF>, shape_rules::broadcast, graph::kBroadcasting);
  r.add("Grow", make_kernel<Grow>, shape_rules::type_of_input, graph::kNoTraits);
  r.add("Picky", make_kernel<Picky>, shape_rules::same_as_input, graph::kNoTraits);
  r.add("Split2", make_kernel<Split2>, shape_rules::type_of_input, graph::kNoTraits);
  // Its record says it is random: that, not its name, keeps it from folding.
  r.add("RandomUniformLike", make_kernel<Grow>, shape_rules::same_as_input, graph::kNondeterministic);
  return r;
}

TEST(PassFoldConstants, FoldsAConstantChainInOneSweep) {
  GraphBuilder b;
  b.input("x", {2}).output("z").floats("a", {2}, {1, 2}).floats("b", {2}, {10, 20});
  b.node("Add", {"a", "b"}, {"ab"});
  b.node("Add", {"ab", "ab"}, {"abab"});
  b.node("Add", {"x", "abab"}, {"z"});  // reads a real input: stays
  OpRegistry registry = test_registry();
  EXPECT_EQ(graph::fold_constants(b.g, kernel_evaluator(registry), registry), 2u);
  EXPECT_EQ(op_sequence(b.g), "Add");
  EXPECT_EQ(initializer_floats(b.g, "abab"), (std::vector<float>{22, 44}));
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

// The pass knows kernels only through the evaluator it is given (graph/ cannot
// call runtime/): it asks only about nodes whose inputs are all constant, and
// folds exactly what the evaluator answers.
TEST(PassFoldConstants, FoldsWhatTheInjectedEvaluatorAnswers) {
  GraphBuilder b;
  b.input("x", {2}).output("r").output("w").output("z").floats("a", {2}, {1, 2});
  b.node("Seven", {"a"}, {"y"});
  b.node("Refused", {"a"}, {"r"});
  b.node("WrongCount", {"a"}, {"w"});
  b.node("Seven", {"x", "y"}, {"z"});  // reads a real input: never asked about
  std::vector<std::string> asked;
  graph::NodeEvaluator evaluate = [&](const graph::Node& node, const std::vector<const Tensor*>& inputs)
      -> std::optional<std::vector<Tensor>> {
    asked.push_back(node.op_type);
    EXPECT_EQ(inputs.size(), 1u);
    if (node.op_type == "Seven") return std::vector<Tensor>{Tensor::from_floats({2}, {7, 7})};
    if (node.op_type == "WrongCount") return std::vector<Tensor>(2, Tensor::from_floats({1}, {0}));
    return std::nullopt;
  };
  EXPECT_EQ(graph::fold_constants(b.g, evaluate, graph::empty_op_catalog()), 1u);
  EXPECT_EQ(asked, (std::vector<std::string>{"Seven", "Refused", "WrongCount"}));
  EXPECT_EQ(op_sequence(b.g), "Refused,WrongCount,Seven");
  EXPECT_EQ(initializer_floats(b.g, "y"), (std::vector<float>{7, 7}));

  // Without an evaluator only Constant nodes fold.
  GraphBuilder c;
  c.output("k").output("s").floats("a", {2}, {1, 2});
  c.node("Constant", {}, {"k"}).attrs["value_int"] = attr_int(3);
  c.node("Seven", {"a"}, {"s"});
  EXPECT_EQ(graph::fold_constants(c.g, graph::NodeEvaluator(), graph::empty_op_catalog()), 1u);
  EXPECT_EQ(op_sequence(c.g), "Seven");
}

TEST(PassFoldConstants, ConstantNodesBecomeInitializersInEveryForm) {
  GraphBuilder b;
  b.output("o1").output("o2").output("o3").output("o4").output("o5");
  b.node("Constant", {}, {"o1"}).attrs["value"] = attr_tensor(Tensor::from_floats({2, 1}, {3, 4}));
  b.node("Constant", {}, {"o2"}).attrs["value_float"] = attr_float(2.5f);
  b.node("Constant", {}, {"o3"}).attrs["value_floats"] = testing::attr_floats({1, 2, 3});
  b.node("Constant", {}, {"o4"}).attrs["value_int"] = attr_int(-7);
  b.node("Constant", {}, {"o5"}).attrs["value_ints"] = attr_ints({5, 6});
  b.node("Constant", {}, {"s"}).attrs["value_string"] = attr_string("text");  // not folded
  OpRegistry empty;
  EXPECT_EQ(graph::fold_constants(b.g, kernel_evaluator(empty), empty), 5u);
  EXPECT_EQ(op_sequence(b.g), "Constant");
  const auto& init = b.g.initializers;
  EXPECT_EQ(init.at("o1").shape(), (Shape{2, 1}));
  EXPECT_EQ(initializer_floats(b.g, "o1"), (std::vector<float>{3, 4}));
  EXPECT_EQ(init.at("o2").shape(), Shape{});
  EXPECT_EQ(initializer_floats(b.g, "o2"), (std::vector<float>{2.5f}));
  EXPECT_EQ(initializer_floats(b.g, "o3"), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(init.at("o4").dtype(), DataType::kInt64);
  EXPECT_EQ(init.at("o4").to_int64_vector(), (std::vector<int64_t>{-7}));
  EXPECT_EQ(init.at("o5").to_int64_vector(), (std::vector<int64_t>{5, 6}));
}

TEST(PassFoldConstants, SkipsOpsWithoutKernelsRejectedNodesAndRandomOps) {
  GraphBuilder b;
  b.input("x", {2}).output("z").floats("a", {2}, {1, 2});
  b.node("Unknown", {"a"}, {"u"});
  b.node("Picky", {"a"}, {"p"});
  b.node("RandomUniformLike", {"a"}, {"r"});
  b.node("Add", {"a", "a"}, {"z"});
  OpRegistry registry = test_registry();
  EXPECT_EQ(graph::fold_constants(b.g, kernel_evaluator(registry), registry), 1u);
  EXPECT_EQ(op_sequence(b.g), "Unknown,Picky,RandomUniformLike");
  EXPECT_EQ(initializer_floats(b.g, "z"), (std::vector<float>{2, 4}));
}

TEST(PassFoldConstants, NeverFoldsIntoATensorAboveTheLimit) {
  GraphBuilder b;
  b.output("small").output("big");
  b.g.initializers["seed"] = Tensor::from_floats({1}, {0});
  b.node("Grow", {"seed"}, {"small"}).attrs["count"] = attr_int(256);  // 1024 bytes
  b.node("Grow", {"seed"}, {"big"}).attrs["count"] = attr_int(257);
  OpRegistry registry = test_registry();
  EXPECT_EQ(graph::fold_constants(b.g, kernel_evaluator(registry), registry, 1024), 1u);
  EXPECT_EQ(op_sequence(b.g), "Grow");
  EXPECT_EQ(b.g.nodes[0].outputs[0], "big");
  EXPECT_EQ(b.g.initializers.at("small").size(), 256);
}

TEST(PassFoldConstants, MultipleOutputsAndOmittedOnes) {
  GraphBuilder b;
  b.output("p").output("n").output("q");
  b.floats("a", {2}, {1, -2});
  b.node("Split2", {"a"}, {"p", "n"});
  b.node("Split2", {"a"}, {"q", ""});
  OpRegistry registry = test_registry();
  EXPECT_EQ(graph::fold_constants(b.g, kernel_evaluator(registry), registry), 2u);
  EXPECT_TRUE(b.g.nodes.empty());
  EXPECT_EQ(initializer_floats(b.g, "n"), (std::vector<float>{-1, 2}));
  EXPECT_EQ(initializer_floats(b.g, "q"), (std::vector<float>{1, -2}));
  EXPECT_FALSE(b.g.initializers.count(""));
}

}  // namespace
}  // namespace kiln
