// com.kiln FusedElementwise: the block evaluator against its scalar reference
// twin over random programs and random broadcast shapes, and the node against
// its expansion into standard ONNX run through a session at level none.
//
// Tolerance: none. The evaluator applies, per instruction, the same float
// formula as the twin and as kiln's standalone kernel of that op (the same
// <cmath> call for the transcendental ones); blocks, scalar hoisting and
// buffer reuse do not change a single rounding. So results must be equal bit
// for bit, NaN matching NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

#include "graph/onnx_writer.h"
#include "graph/pass.h"
#include "graph/passes/expand_kiln_ops.h"
#include "graph_builder.h"
#include "kernels/f32_elementwise_program.h"
#include "kiln/session.h"
#include "op_test_util.h"
#include "runtime/op_registry.h"

namespace kiln {
namespace {

using kernels::F32ElementwiseInstruction;
using kernels::F32ElementwiseOp;

bool same_float(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, 4) == 0 || a == b; }

// A random problem: input shapes, which input is a bool condition, the program.
struct Problem {
  std::vector<Shape> shapes;
  std::vector<bool> is_bool;
  std::vector<F32ElementwiseInstruction> code;
  Shape out;
};

std::string describe(const Problem& p) {
  std::ostringstream s;
  s << "out " << shape_to_string(p.out) << "; inputs";
  for (size_t i = 0; i < p.shapes.size(); ++i) s << " " << shape_to_string(p.shapes[i]) << (p.is_bool[i] ? "(bool)" : "");
  s << "; program";
  for (size_t k = 0; k < p.code.size(); ++k) {
    const F32ElementwiseInstruction& in = p.code[k];
    s << " v" << k << "=" << kernels::f32_elementwise_op_name(in.op) << "(" << in.a << "," << in.b << "," << in.c
      << ";" << in.p0 << "," << in.p1 << ")";
  }
  return s.str();
}

Problem random_problem(std::mt19937& rng, bool big) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  Problem p;
  const int rank = 1 + pick(4);
  const int64_t sizes[] = {1, 2, 3, 5, 7, 16, 17};
  for (int d = 0; d < rank; ++d) p.out.push_back(sizes[pick(7)]);
  if (big) p.out.back() = 513 + pick(1100);  // crosses the 512-element blocks, odd tails
  const int inputs = 1 + pick(4);
  const bool with_where = pick(3) == 0;
  for (int i = 0; i < inputs + (with_where ? 1 : 0); ++i) {
    Shape s = p.out;
    const int drop = pick(static_cast<int>(s.size()) + 1);
    s.erase(s.begin(), s.begin() + drop);  // leading dims missing broadcast too
    for (int64_t& d : s)
      if (pick(3) == 0) d = 1;
    p.shapes.push_back(s);
    p.is_bool.push_back(with_where && i == inputs);
  }
  // The first input keeps the full shape so the broadcast is the output's.
  p.shapes[0] = p.out;
  for (int i = 0; i < inputs; ++i) p.code.push_back({F32ElementwiseOp::input, i, -1, -1, 0, 0});
  const int32_t condition = with_where ? static_cast<int32_t>(p.code.size()) : -1;
  if (with_where) p.code.push_back({F32ElementwiseOp::input, inputs, -1, -1, 0, 0});
  std::uniform_real_distribution<float> param(-2.0f, 2.0f);
  const int ops = 1 + pick(10);
  auto value = [&]() {
    int32_t v;
    do v = static_cast<int32_t>(pick(static_cast<int>(p.code.size())));
    while (v == condition);
    return v;
  };
  for (int k = 0; k < ops; ++k) {
    F32ElementwiseInstruction in;
    const int kind = pick(10);
    if (kind == 0) {
      in.op = F32ElementwiseOp::constant;
      in.p0 = param(rng);
    } else if (kind == 1 && with_where) {
      in = {F32ElementwiseOp::where, condition, value(), value(), 0, 0};
    } else if (kind < 6) {
      const F32ElementwiseOp unary[] = {
          F32ElementwiseOp::relu,     F32ElementwiseOp::leaky_relu, F32ElementwiseOp::sigmoid,
          F32ElementwiseOp::hard_sigmoid, F32ElementwiseOp::hard_swish, F32ElementwiseOp::tanh,
          F32ElementwiseOp::exp,      F32ElementwiseOp::log,        F32ElementwiseOp::sqrt,
          F32ElementwiseOp::reciprocal, F32ElementwiseOp::neg,      F32ElementwiseOp::abs,
          F32ElementwiseOp::erf,      F32ElementwiseOp::floor,      F32ElementwiseOp::ceil,
          F32ElementwiseOp::round,    F32ElementwiseOp::softplus,   F32ElementwiseOp::clip};
      in.op = unary[pick(std::size(unary))];
      in.a = value();
      in.p0 = param(rng);
      in.p1 = in.op == F32ElementwiseOp::clip ? in.p0 + std::fabs(param(rng)) : param(rng);
    } else {
      const F32ElementwiseOp binary[] = {F32ElementwiseOp::add, F32ElementwiseOp::sub, F32ElementwiseOp::mul,
                                         F32ElementwiseOp::div, F32ElementwiseOp::pow, F32ElementwiseOp::max,
                                         F32ElementwiseOp::min};
      in.op = binary[pick(std::size(binary))];
      in.a = value();
      in.b = value();
    }
    p.code.push_back(in);
  }
  bool has_where = false;
  for (const F32ElementwiseInstruction& in : p.code) has_where |= in.op == F32ElementwiseOp::where;
  if (with_where && !has_where) p.code.push_back({F32ElementwiseOp::where, condition, value(), value(), 0, 0});
  // Every input reaches the result (the node requires it): the others are added to it.
  std::vector<bool> live(p.code.size(), false);
  live.back() = true;
  for (size_t k = p.code.size(); k-- > 0;) {
    const F32ElementwiseInstruction& in = p.code[k];
    if (!live[k] || in.op == F32ElementwiseOp::input) continue;
    const int32_t operands[3] = {in.a, in.b, in.c};
    for (int i = 0; i < kernels::f32_elementwise_op_operands(in.op); ++i) live[static_cast<size_t>(operands[i])] = true;
  }
  for (int32_t v = 0; v < static_cast<int32_t>(p.shapes.size()); ++v)
    if (!live[static_cast<size_t>(v)]) {
      if (v == condition) p.code.push_back({F32ElementwiseOp::where, condition, static_cast<int32_t>(p.code.size()) - 1, 0, 0, 0});
      else p.code.push_back({F32ElementwiseOp::add, static_cast<int32_t>(p.code.size()) - 1, v, -1, 0, 0});
    }
  if (p.code.back().op == F32ElementwiseOp::constant) p.code.push_back({F32ElementwiseOp::neg, value(), -1, -1, 0, 0});
  return p;
}

std::vector<Tensor> random_inputs(const Problem& p, std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-4.0f, 4.0f);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < p.shapes.size(); ++i) {
    Tensor t(p.is_bool[i] ? DataType::kBool : DataType::kFloat32, p.shapes[i]);
    for (int64_t e = 0; e < t.size(); ++e) {
      if (p.is_bool[i]) {
        t.data<bool>()[e] = (rng() & 1) != 0;
      } else {
        // Some exact integers and halves: Round's ties, Floor/Ceil at integers, Pow of negatives.
        const float v = value(rng);
        t.data<float>()[e] = rng() % 4 == 0 ? std::round(v * 2) / 2 : v;
      }
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

graph::Node fused_node(const std::vector<F32ElementwiseInstruction>& code, size_t inputs) {
  graph::Node node = testing::make_node("FusedElementwise", inputs, 1, 1);
  node.domain = graph::kKilnDomain;
  graph::Attribute ops;
  ops.kind = graph::Attribute::Kind::kStrings;
  std::vector<int64_t> args;
  std::vector<float> params;
  for (const F32ElementwiseInstruction& in : code) {
    ops.strings.push_back(kernels::f32_elementwise_op_name(in.op));
    args.insert(args.end(), {in.a, in.b, in.c});
    params.insert(params.end(), {in.p0, in.p1});
  }
  node.attrs["ops"] = ops;
  node.attrs["args"] = testing::ints_attr(args);
  node.attrs["params"] = testing::floats_attr(params);
  return node;
}

// The twin over the whole output: each element's input values found by
// numpy broadcasting from the output index.
std::vector<float> reference_output(const Problem& p, const std::vector<Tensor>& inputs) {
  const int64_t total = element_count(p.out);
  std::vector<float> out(static_cast<size_t>(total));
  std::vector<float> at(inputs.size());
  for (int64_t e = 0; e < total; ++e) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Shape& s = p.shapes[i];
      int64_t rest = e, offset = 0, stride = 1;
      for (size_t d = p.out.size(); d-- > 0;) {
        const int64_t index = rest % p.out[d];
        rest /= p.out[d];
        const size_t back = p.out.size() - 1 - d;
        if (back >= s.size()) continue;
        const int64_t dim = s[s.size() - 1 - back];
        offset += (dim == 1 ? 0 : index) * stride;
        stride *= dim;
      }
      at[i] = p.is_bool[i] ? (inputs[i].data<bool>()[offset] ? 1.0f : 0.0f) : inputs[i].data<float>()[offset];
    }
    out[static_cast<size_t>(e)] = kernels::f32_elementwise_program_reference(p.code, at.data());
  }
  return out;
}

void expect_equal(const Tensor& y, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(static_cast<size_t>(y.size()), want.size()) << what;
  for (size_t e = 0; e < want.size(); ++e)
    ASSERT_TRUE(same_float(y.data<float>()[e], want[e]))
        << "element " << e << ": got " << y.data<float>()[e] << ", want " << want[e] << "\n" << what;
}

TEST(FusedElementwiseKernel, RandomProgramsMatchTheTwinOverBroadcastShapes) {
  std::mt19937 rng(2026);
  for (int trial = 0; trial < 400; ++trial) {
    const Problem p = random_problem(rng, trial % 8 == 0);
    const std::vector<Tensor> inputs = random_inputs(p, rng);
    const graph::Node node = fused_node(p.code, inputs.size());
    const Tensor y = testing::run_op(node, inputs, false, trial % 2 == 0 ? 1 : 2)[0];
    ASSERT_EQ(y.shape(), p.out) << describe(p);
    expect_equal(y, reference_output(p, inputs), describe(p));
  }
}

// The broadcast kinds the kernel has fast handling for, at sizes that cut
// blocks and threads unevenly, each against the twin.
TEST(FusedElementwiseKernel, BroadcastKinds) {
  std::mt19937 rng(7);
  // x * sigmoid(x * a + b) with a, b of the given shapes.
  const std::vector<F32ElementwiseInstruction> code = {
      {F32ElementwiseOp::input, 0, -1, -1, 0, 0}, {F32ElementwiseOp::input, 1, -1, -1, 0, 0},
      {F32ElementwiseOp::input, 2, -1, -1, 0, 0}, {F32ElementwiseOp::mul, 0, 1, -1, 0, 0},
      {F32ElementwiseOp::add, 3, 2, -1, 0, 0},    {F32ElementwiseOp::sigmoid, 4, -1, -1, 0, 0},
      {F32ElementwiseOp::mul, 0, 5, -1, 0, 0}};
  struct Case {
    const char* what;
    Shape x, a, b;
  };
  const Case cases[] = {
      {"same shape", {2, 3, 37, 41}, {2, 3, 37, 41}, {2, 3, 37, 41}},
      {"scalars", {1, 5, 33, 65}, {}, {1}},
      {"per channel", {2, 16, 31, 33}, {16, 1, 1}, {1, 16, 1, 1}},
      {"general", {4, 5, 1031}, {4, 1, 1031}, {5, 1}},
      // Short rows: several rows per block (the row-group path).
      {"NHWC per channel", {1, 45, 80, 32}, {32}, {1, 1, 1, 32}},
      {"NHWC per pixel", {1, 45, 80, 32}, {1, 45, 80, 1}, {45, 80, 1}},
      {"short odd rows", {3, 7, 11, 3}, {3}, {7, 1, 3}},
      {"rows end to end", {5, 300, 7}, {5, 300, 7}, {300, 1}},
  };
  for (const Case& c : cases) {
    for (int threads : {1, 2}) {
      Problem p{{c.x, c.a, c.b}, {false, false, false}, code, c.x};
      const std::vector<Tensor> inputs = random_inputs(p, rng);
      const Tensor y = testing::run_op(fused_node(code, 3), inputs, false, threads)[0];
      ASSERT_EQ(y.shape(), c.x) << c.what;
      expect_equal(y, reference_output(p, inputs), std::string(c.what) + ", threads " + std::to_string(threads));
    }
  }
}

TEST(FusedElementwiseKernel, MalformedProgramsFailWhenTheSessionIsBuilt) {
  auto build = [](const graph::Node& node) {
    Tensor x = Tensor::from_floats({2}, {1, 2});
    testing::run_op(node, {x});
  };
  graph::Node forward = fused_node({{F32ElementwiseOp::neg, 1, -1, -1, 0, 0}, {F32ElementwiseOp::input, 0, -1, -1, 0, 0}}, 1);
  EXPECT_THROW(build(forward), Error);
  graph::Node bad_input = fused_node({{F32ElementwiseOp::input, 3, -1, -1, 0, 0}, {F32ElementwiseOp::neg, 0, -1, -1, 0, 0}}, 1);
  EXPECT_THROW(build(bad_input), Error);
  graph::Node unknown = fused_node({{F32ElementwiseOp::input, 0, -1, -1, 0, 0}, {F32ElementwiseOp::neg, 0, -1, -1, 0, 0}}, 1);
  unknown.attrs["ops"].strings[1] = "Gelu";
  EXPECT_THROW(build(unknown), Error);
  graph::Node short_args = fused_node({{F32ElementwiseOp::input, 0, -1, -1, 0, 0}, {F32ElementwiseOp::neg, 0, -1, -1, 0, 0}}, 1);
  short_args.attrs["args"].ints.pop_back();
  EXPECT_THROW(build(short_args), Error);
  // Where's condition must be an input, read only as a condition.
  graph::Node unread = fused_node({{F32ElementwiseOp::input, 0, -1, -1, 0, 0}, {F32ElementwiseOp::constant, -1, -1, -1, 1, 0},
                                   {F32ElementwiseOp::neg, 1, -1, -1, 0, 0}}, 1);
  EXPECT_THROW(build(unread), Error);
  graph::Node where = fused_node({{F32ElementwiseOp::input, 0, -1, -1, 0, 0},
                                  {F32ElementwiseOp::neg, 0, -1, -1, 0, 0},
                                  {F32ElementwiseOp::where, 1, 0, 0, 0, 0}}, 1);
  EXPECT_THROW(build(where), Error);
  // A float input given a bool tensor is refused when the node runs.
  graph::Node ok = fused_node({{F32ElementwiseOp::input, 0, -1, -1, 0, 0}, {F32ElementwiseOp::neg, 0, -1, -1, 0, 0}}, 1);
  EXPECT_THROW(testing::run_op(ok, {Tensor(DataType::kBool, {2})}), Error);
}

// The expansion into standard ops, run by a session at level none, gives the
// fused node's numbers exactly (same per-op formulas; see the file comment).
TEST(FusedElementwiseKernel, ExpansionRunsTheSameNumbersAtLevelNone) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 40; ++trial) {
    const Problem p = random_problem(rng, false);
    const std::vector<Tensor> inputs = random_inputs(p, rng);
    testing::GraphBuilder b(17);
    b.g.opsets[graph::kKilnDomain] = graph::kKilnOpset;
    NamedTensors feeds;
    for (size_t i = 0; i < inputs.size(); ++i) {
      b.input("in" + std::to_string(i), p.shapes[i], inputs[i].dtype());
      feeds.emplace("in" + std::to_string(i), inputs[i]);
    }
    b.output("out0");
    graph::Node node = fused_node(p.code, inputs.size());
    b.g.nodes.push_back(node);
    const Tensor fused = testing::run_op(node, inputs)[0];
    ASSERT_EQ(graph::expand_kiln_ops(b.g, OpRegistry::global()), 1u) << describe(p);
    for (const graph::Node& n : b.g.nodes) ASSERT_TRUE(n.domain.empty()) << describe(p);
    SessionOptions none;
    none.opt_level = OptLevel::kNone;
    Session session = Session::from_bytes(graph::write_onnx_bytes(b.g), none);
    const Tensor standard = session.run(feeds).at("out0");
    ASSERT_EQ(standard.shape(), fused.shape()) << describe(p);
    expect_equal(standard, testing::to_floats(fused), describe(p));
  }
}

}  // namespace
}  // namespace kiln
