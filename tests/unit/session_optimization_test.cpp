// The session runs the graph optimizer at build time and reports what it did.
#include <gtest/gtest.h>

#include "kiln/session.h"
#include "model_builder.h"

namespace kiln {
namespace {

using testing::ModelBuilder;

// x (unused) and a Constant graph output; an Identity feeding nothing.
std::string constant_model() {
  ModelBuilder m;
  m.input("x", {2});
  m.output("c", {2});
  auto* constant = m.node("Constant", {}, {"c"}, "const");
  auto* attr = constant->add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  attr->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  attr->mutable_t()->add_dims(2);
  attr->mutable_t()->add_float_data(1.5f);
  attr->mutable_t()->add_float_data(-2.0f);
  m.node("Identity", {"x"}, {"unused"}, "identity");
  return m.bytes();
}

TEST(SessionOptimization, SummaryReportsWhatTheOptimizerDid) {
  SessionOptions options;
  options.threads = 1;
  options.opt_level = OptLevel::kBasic;
  Session session = Session::from_bytes(constant_model(), options);
  const OptimizeReport& summary = session.optimization_summary();
  EXPECT_EQ(summary.level, OptLevel::kBasic);
  EXPECT_EQ(summary.nodes_before, 2u);
  EXPECT_EQ(summary.nodes_after, 0u);
  EXPECT_TRUE(summary.converged);
  EXPECT_NE(summary.to_string().find("2 -> 0 nodes"), std::string::npos) << summary.to_string();

  NamedTensors out = session.run({{"x", Tensor::from_floats({2}, {0, 0})}});
  ASSERT_TRUE(out.count("c"));
  EXPECT_EQ(out["c"].data<float>()[0], 1.5f);
  EXPECT_EQ(out["c"].data<float>()[1], -2.0f);
}

TEST(SessionOptimization, DefaultLevelIsAll) {
  SessionOptions options;
  options.threads = 1;
  Session session = Session::from_bytes(constant_model(), options);
  EXPECT_EQ(session.optimization_summary().level, OptLevel::kAll);
  EXPECT_EQ(session.optimization_summary().nodes_after, 0u);
}

}  // namespace
}  // namespace kiln
