#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "graph_builder.h"
#include "kiln/session.h"
#include "model_builder.h"
#include "runtime/memory_plan.h"

namespace kiln {
namespace {

// No two buffers alive at the same step may share a byte.
void expect_no_overlap(const std::vector<BufferRequest>& requests, const ArenaLayout& plan) {
  ASSERT_EQ(plan.offsets.size(), requests.size());
  for (size_t a = 0; a < requests.size(); ++a) {
    EXPECT_EQ(plan.offsets[a] % ArenaLayout::kAlignment, 0u);
    EXPECT_LE(plan.offsets[a] + requests[a].bytes, plan.arena_bytes);
    for (size_t b = a + 1; b < requests.size(); ++b) {
      bool same_time = requests[a].first_step <= requests[b].last_step && requests[b].first_step <= requests[a].last_step;
      bool same_bytes = plan.offsets[a] < plan.offsets[b] + requests[b].bytes &&
                        plan.offsets[b] < plan.offsets[a] + requests[a].bytes;
      EXPECT_FALSE(same_time && same_bytes && requests[a].bytes && requests[b].bytes)
          << "buffers " << a << " and " << b << " overlap";
    }
  }
}

TEST(MemoryPlan, ChainReusesTwoBuffers) {
  // A chain: each buffer is read only by the next step.
  std::vector<BufferRequest> chain;
  for (int i = 0; i < 10; ++i) chain.push_back({1024, i, i + 1});
  ArenaLayout plan = place_buffers(chain);
  expect_no_overlap(chain, plan);
  EXPECT_EQ(plan.arena_bytes, 2048u);
  EXPECT_EQ(plan.peak_live_bytes, 2048u);
  EXPECT_EQ(plan.total_bytes, 10240u);
}

TEST(MemoryPlan, LongLivedBufferKeepsItsPlace) {
  std::vector<BufferRequest> r = {{4096, 0, 9}, {1000, 1, 2}, {1000, 3, 4}, {5000, 5, 6}};
  ArenaLayout plan = place_buffers(r);
  expect_no_overlap(r, plan);
  EXPECT_EQ(plan.peak_live_bytes, 9096u);
  EXPECT_LE(plan.arena_bytes, 4096u + 5056u);
}

TEST(MemoryPlan, RandomLifetimesNeverOverlapAndStayNearTheBound) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferRequest> r;
    int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      int first = static_cast<int>(rng() % 40);
      r.push_back({static_cast<size_t>(rng() % 100000), first, first + static_cast<int>(rng() % 8)});
    }
    ArenaLayout plan = place_buffers(r);
    expect_no_overlap(r, plan);
    EXPECT_GE(plan.arena_bytes, plan.peak_live_bytes);
    EXPECT_LE(plan.arena_bytes, 2 * plan.peak_live_bytes + n * ArenaLayout::kAlignment) << "trial " << trial;
  }
}

// ------------------------------------------------------ planning a graph --
//
// plan_memory on graphs built here, with hand-given shapes and kernel facts
// (the planner never looks at op types, so the names are only for reading).

using testing::GraphBuilder;

graph::ValueInfo float_info(const std::string& name, const Shape& shape) {
  graph::ValueInfo v;
  v.name = name;
  v.dtype = DataType::kFloat32;
  v.has_shape = true;
  for (int64_t d : shape) v.dims.push_back(graph::Dim{d, ""});
  return v;
}

// A graph with the shapes and kernel facts the planner is given.
struct Planned {
  GraphBuilder b;
  graph::ValueInfoMap infos;
  std::vector<NodeMemoryFacts> facts;

  // Adds a node with one output of `shape` (no entry = size known only at run time).
  void add(const std::string& op, std::vector<std::string> inputs, const std::string& output,
           std::optional<Shape> shape, NodeMemoryFacts fact = {}) {
    b.node(op, std::move(inputs), {output});
    if (shape) infos[output] = float_info(output, *shape);
    facts.push_back(std::move(fact));
  }
  void input(const std::string& name, const Shape& shape) {
    b.input(name, shape);
    infos[name] = float_info(name, shape);
  }
  MemoryPlan plan() const { return plan_memory(b.g, &infos, facts); }
  const NodeMemory& node_of(const MemoryPlan& plan, const std::string& output) const {
    for (size_t n = 0; n < b.g.nodes.size(); ++n)
      if (b.g.nodes[n].outputs[0] == output) return plan.nodes[n];
    ADD_FAILURE() << "no node makes '" << output << "'";
    static const NodeMemory kNone;
    return kNone;
  }
};

NodeMemoryFacts elementwise() { return NodeMemoryFacts{false, false, {true, true}, std::nullopt}; }
NodeMemoryFacts view() { return NodeMemoryFacts{false, true, {}, std::nullopt}; }
NodeMemoryFacts folded() { return NodeMemoryFacts{true, false, {}, std::nullopt}; }
NodeMemoryFacts concat(int64_t axis) { return NodeMemoryFacts{false, false, {}, axis}; }

// x -> a (8 KiB) -> b (16 KiB) -> c (300 B) -> y: at most two neighbours are
// alive at once, so the arena is b + a = 24576 bytes, and c fits where a was.
TEST(MemoryPlanGraph, ChainNeedsItsLargestNeighbourPair) {
  Planned p;
  p.input("x", {1, 3, 16, 16});
  p.add("Conv", {"x"}, "a", Shape{1, 8, 16, 16});
  p.add("Conv", {"a"}, "b", Shape{1, 16, 16, 16});
  p.add("Conv", {"b"}, "c", Shape{1, 3, 5, 5});
  p.add("Conv", {"c"}, "y", Shape{1, 2});
  p.b.output("y");
  const MemoryPlan plan = p.plan();
  EXPECT_EQ(plan.arena_bytes, 8192u + 16384u);
  EXPECT_EQ(plan.peak_live_bytes, 8192u + 16384u);
  EXPECT_EQ(plan.unplanned_bytes, 8192u + 16384u + 300u);
  EXPECT_EQ(plan.planned_values, 3u);
  EXPECT_EQ(plan.in_place_values, 0u);
  EXPECT_EQ(plan.dynamic_values, 0u);
  EXPECT_EQ(p.node_of(plan, "b").arena_offset, (std::vector<int64_t>{0}));  // largest first
  EXPECT_EQ(p.node_of(plan, "a").arena_offset, (std::vector<int64_t>{16384}));
  EXPECT_EQ(p.node_of(plan, "c").arena_offset, (std::vector<int64_t>{16384}));
  EXPECT_EQ(p.node_of(plan, "c").arena_bytes, (std::vector<size_t>{300}));
  EXPECT_EQ(p.node_of(plan, "y").arena_offset, (std::vector<int64_t>{-1}));  // a graph output
  // Each value is freed by its only reader; the output is kept.
  EXPECT_EQ(p.node_of(plan, "a").release, (std::vector<std::string>{"x"}));
  EXPECT_EQ(p.node_of(plan, "b").release, (std::vector<std::string>{"a"}));
  EXPECT_EQ(p.node_of(plan, "y").release, (std::vector<std::string>{"c"}));
}

// 100 and 28 bytes take 128 and 64 in the arena (64-byte places), while the
// live bound counts the bytes themselves.
TEST(MemoryPlanGraph, ChainPlacesAreAligned) {
  Planned p;
  p.input("x", {4});
  p.add("Relu", {"x"}, "a", Shape{25});
  p.add("Conv", {"a"}, "b", Shape{7});
  p.add("Conv", {"b"}, "y", Shape{1});
  p.b.output("y");
  const MemoryPlan plan = p.plan();
  EXPECT_EQ(plan.arena_bytes, 128u + 64u);
  EXPECT_EQ(plan.peak_live_bytes, 100u + 28u);
}

// Relu may not write over a, which the Add reads later; the Add reads both of
// its inputs for the last time and writes over input 0.
TEST(MemoryPlanGraph, ElementwiseWritesOverAnInputOnlyWhenNothingReadsItLater) {
  Planned p;
  p.input("x", {2, 8});
  p.add("Conv", {"x"}, "a", Shape{2, 8});
  p.add("Relu", {"a"}, "b", Shape{2, 8}, elementwise());
  p.add("Add", {"b", "a"}, "e", Shape{2, 8}, elementwise());
  p.add("Transpose", {"e"}, "y", Shape{8, 2});
  p.b.output("y");
  const MemoryPlan plan = p.plan();
  const NodeMemory& relu = p.node_of(plan, "b");
  const NodeMemory& add = p.node_of(plan, "e");
  EXPECT_EQ(relu.in_place_input, -1);
  EXPECT_NE(relu.arena_offset[0], p.node_of(plan, "a").arena_offset[0]);
  EXPECT_EQ(add.in_place_input, 0);
  EXPECT_EQ(add.arena_offset[0], relu.arena_offset[0]);
  EXPECT_EQ(plan.in_place_values, 1u);
  EXPECT_EQ(plan.arena_bytes, 2u * 64u);
}

// A chain of element-wise steps runs in one buffer; the kernel's facts decide
// which input it may be written over.
TEST(MemoryPlanGraph, ElementwiseChainSharesOneBuffer) {
  Planned p;
  p.input("x", {1, 2, 4, 4});
  p.add("Conv", {"x"}, "a", Shape{1, 2, 4, 4});
  p.add("Relu", {"a"}, "b", Shape{1, 2, 4, 4}, elementwise());
  p.add("Sigmoid", {"b"}, "c", Shape{1, 2, 4, 4}, elementwise());
  p.add("Conv", {"x"}, "k", Shape{1, 2, 4, 4});
  NodeMemoryFacts second_only{false, false, {false, true}, std::nullopt};
  p.add("Sub", {"k", "c"}, "d", Shape{1, 2, 4, 4}, second_only);  // over c, not k
  p.add("Conv", {"d"}, "y", Shape{1, 4});
  p.b.output("y");
  const MemoryPlan plan = p.plan();
  EXPECT_EQ(p.node_of(plan, "b").in_place_input, 0);
  EXPECT_EQ(p.node_of(plan, "c").in_place_input, 0);
  EXPECT_EQ(p.node_of(plan, "d").in_place_input, 1);
  for (const char* name : {"b", "c", "d"})
    EXPECT_EQ(p.node_of(plan, name).arena_offset[0], p.node_of(plan, "a").arena_offset[0]) << name;
  EXPECT_EQ(plan.in_place_values, 3u);
  EXPECT_EQ(plan.planned_values, 5u);  // a, b, c, k, d
  EXPECT_EQ(plan.arena_bytes, 2u * 128u);
}

// Graph inputs and outputs stay out of the arena: nothing is written over x
// (nor over a view of it), y stays out, and so does a, whose view y is.
TEST(MemoryPlanGraph, GraphInputsAndOutputsAreNeverWrittenOver) {
  Planned p;
  p.input("x", {4, 4});
  p.add("Relu", {"x"}, "a", Shape{4, 4}, elementwise());
  p.add("Reshape", {"x"}, "v", Shape{16}, view());
  p.add("Neg", {"v"}, "w", Shape{16}, elementwise());
  p.add("Reshape", {"a"}, "y", Shape{16}, view());
  p.add("Neg", {"w"}, "z", Shape{16}, elementwise());
  p.b.output("y");
  p.b.output("z");
  const MemoryPlan plan = p.plan();
  EXPECT_EQ(p.node_of(plan, "a").in_place_input, -1);
  EXPECT_EQ(p.node_of(plan, "a").arena_offset[0], -1);  // y is a view of it
  EXPECT_EQ(p.node_of(plan, "v").arena_offset[0], -1);  // a view of x
  EXPECT_EQ(p.node_of(plan, "w").in_place_input, -1);
  EXPECT_EQ(p.node_of(plan, "w").arena_offset[0], 0);   // its own place
  EXPECT_EQ(p.node_of(plan, "z").in_place_input, -1);
  EXPECT_EQ(p.node_of(plan, "z").arena_offset[0], -1);
  EXPECT_EQ(plan.planned_values, 1u);
  // x is freed after its last reader; outputs are never freed.
  EXPECT_EQ(p.node_of(plan, "v").release, (std::vector<std::string>{"x"}));
  for (const NodeMemory& node : plan.nodes)
    for (const std::string& name : node.release) EXPECT_TRUE(name != "y" && name != "z") << name;
}

// A view keeps its source's buffer: b's place is not reused while the view c
// is still read, even though b itself is not read again.
TEST(MemoryPlanGraph, ViewKeepsItsSourceAlive) {
  Planned p;
  p.input("x", {4, 8});
  p.add("Conv", {"x"}, "b", Shape{4, 8});
  p.add("Reshape", {"b"}, "c", Shape{32}, view());
  p.add("Neg", {"c"}, "d", Shape{32});
  p.add("Add", {"d", "c"}, "e", Shape{32}, elementwise());
  p.add("Neg", {"e"}, "y", Shape{32});
  p.b.output("y");
  const MemoryPlan plan = p.plan();
  EXPECT_EQ(p.node_of(plan, "c").arena_offset[0], -1);
  EXPECT_NE(p.node_of(plan, "d").arena_offset[0], p.node_of(plan, "b").arena_offset[0]);
  EXPECT_EQ(p.node_of(plan, "e").in_place_input, 0);  // over d, never over the view c
  EXPECT_EQ(plan.planned_values, 3u);
}

// A view's inputs that are constants or graph inputs (a Reshape's shape) do
// not join its buffer: a, seen through v and u, is still written over once
// nothing reads a, v or u any more.
TEST(MemoryPlanGraph, ViewsJoinOnlyBuffersThatStepsProduce) {
  Planned p;
  p.input("x", {4, 8});
  p.input("s", {1});
  p.b.floats("flat", {1}, {32});
  p.add("Conv", {"x"}, "a", Shape{4, 8});
  p.add("Reshape", {"a", "flat"}, "v", Shape{32}, view());
  p.add("Reshape", {"a", "s"}, "u", Shape{32}, view());
  p.add("Conv", {"v", "u"}, "c", Shape{4, 8});
  p.add("Relu", {"a"}, "d", Shape{4, 8}, elementwise());
  p.add("Conv", {"c", "d"}, "y", Shape{1});
  p.b.output("y");
  const MemoryPlan plan = p.plan();
  EXPECT_EQ(p.node_of(plan, "d").in_place_input, 0);
  EXPECT_EQ(p.node_of(plan, "d").arena_offset[0], p.node_of(plan, "a").arena_offset[0]);
  EXPECT_NE(p.node_of(plan, "c").arena_offset[0], p.node_of(plan, "a").arena_offset[0]);
  EXPECT_EQ(plan.planned_values, 3u);  // a, c, d over a
}

// Folded nodes take no step and their outputs are constants: never freed,
// never planned; values of unknown size are counted, not planned.
TEST(MemoryPlanGraph, FoldedAndDynamicValuesStayOut) {
  Planned p;
  p.input("x", {8});
  p.b.floats("w", {8}, {1, 2, 3, 4, 5, 6, 7, 8});
  p.add("Neg", {"w"}, "k", Shape{8}, folded());
  p.add("Add", {"x", "k"}, "a", Shape{8}, elementwise());
  p.add("NonZero", {"a"}, "n", std::nullopt);
  p.add("Add", {"a", "k"}, "y", Shape{8}, elementwise());
  p.add("Shape", {"n"}, "z", Shape{1});
  p.b.output("y");
  p.b.output("z");
  const MemoryPlan plan = p.plan();
  EXPECT_TRUE(p.node_of(plan, "k").arena_offset.empty());
  EXPECT_EQ(p.node_of(plan, "n").arena_offset[0], -1);
  EXPECT_EQ(plan.dynamic_values, 1u);
  EXPECT_EQ(plan.planned_values, 1u);  // a
  for (const NodeMemory& node : plan.nodes)
    for (const std::string& name : node.release) EXPECT_TRUE(name != "k" && name != "w") << name;
}

// Without value infos (shape inference failed) the plan only frees values.
TEST(MemoryPlanGraph, WithoutInfosOnlyLifetimes) {
  Planned p;
  p.input("x", {8});
  p.add("Conv", {"x"}, "a", Shape{8});
  p.add("Conv", {"a"}, "y", Shape{8});
  p.b.output("y");
  const MemoryPlan plan = plan_memory(p.b.g, nullptr, p.facts);
  EXPECT_EQ(plan.arena_bytes, 0u);
  EXPECT_EQ(plan.planned_values + plan.dynamic_values, 0u);
  EXPECT_EQ(plan.nodes[0].arena_offset, (std::vector<int64_t>{-1}));
  EXPECT_EQ(plan.nodes[1].release, (std::vector<std::string>{"a"}));
}


// A channel concat at batch 1: both convs write straight into their slice of
// c (256 bytes each), which lives from the first of them on; nothing is copied.
TEST(MemoryPlanGraph, ConcatInputsAreWrittenIntoTheirSlice) {
  Planned p;
  p.input("x", {1, 4, 4});
  p.add("Conv", {"x"}, "a", Shape{1, 16, 4});
  p.add("Conv", {"x"}, "b", Shape{1, 16, 4});
  p.add("Concat", {"a", "b"}, "c", Shape{1, 32, 4}, concat(1));
  p.add("Conv", {"c"}, "y", Shape{1, 2});
  p.b.output("y");
  const MemoryPlan plan = p.plan();
  EXPECT_EQ(plan.concat_slice_values, 2u);
  EXPECT_EQ(plan.planned_values, 3u);
  const int64_t c = p.node_of(plan, "c").arena_offset[0];
  ASSERT_GE(c, 0);
  EXPECT_EQ(p.node_of(plan, "a").arena_offset[0], c);
  EXPECT_EQ(p.node_of(plan, "b").arena_offset[0], c + 256);
  EXPECT_EQ(p.node_of(plan, "a").arena_bytes[0], 256u);
  EXPECT_EQ(plan.arena_bytes, 512u);  // a and b take no room of their own
  // The axis counted from the end means the same.
  Planned q = p;
  q.facts[2] = concat(-2);
  EXPECT_EQ(q.plan().concat_slice_values, 2u);
}

// Each rule that keeps an input out of its slice, one at a time.
TEST(MemoryPlanGraph, ConcatInputsStayOutOfTheirSliceWhenTheyMust) {
  auto build = [](const Shape& a_shape, const Shape& b_shape, const Shape& c_shape, int64_t axis) {
    Planned p;
    p.input("x", {1, 4, 4});
    p.add("Conv", {"x"}, "a", a_shape);
    p.add("Conv", {"x"}, "b", b_shape);
    p.add("Concat", {"a", "b"}, "c", c_shape, concat(axis));
    p.add("Conv", {"c"}, "y", Shape{1, 2});
    return p;
  };
  {  // a is also read by another step: only b goes in place
    Planned p = build({1, 16, 4}, {1, 16, 4}, {1, 32, 4}, 1);
    p.add("Conv", {"a"}, "z", Shape{1, 2});
    p.b.output("y");
    p.b.output("z");
    const MemoryPlan plan = p.plan();
    EXPECT_EQ(plan.concat_slice_values, 1u);
    EXPECT_NE(p.node_of(plan, "a").arena_offset[0], p.node_of(plan, "c").arena_offset[0]);
    EXPECT_EQ(p.node_of(plan, "b").arena_offset[0], p.node_of(plan, "c").arena_offset[0] + 256);
  }
  {  // a is a graph output (the caller keeps it): only b
    Planned p = build({1, 16, 4}, {1, 16, 4}, {1, 32, 4}, 1);
    p.b.output("y");
    p.b.output("a");
    EXPECT_EQ(p.plan().concat_slice_values, 1u);
  }
  {  // batch 2: each input is two blocks, nothing goes in place
    Planned p = build({2, 16, 4}, {2, 16, 4}, {2, 32, 4}, 1);
    p.b.output("y");
    EXPECT_EQ(p.plan().concat_slice_values, 0u);
  }
  {  // a is 12 bytes: b's slice is not aligned, only a goes in place
    Planned p = build({1, 3, 1}, {1, 16, 1}, {1, 19, 1}, 1);
    p.b.output("y");
    const MemoryPlan plan = p.plan();
    EXPECT_EQ(plan.concat_slice_values, 1u);
    EXPECT_EQ(p.node_of(plan, "a").arena_offset[0], p.node_of(plan, "c").arena_offset[0]);
  }
  {  // the concat's output is a graph output: not in the arena, so nothing
    Planned p = build({1, 16, 4}, {1, 16, 4}, {1, 32, 4}, 1);
    p.b.output("c");
    EXPECT_EQ(p.plan().concat_slice_values, 0u);
  }
  {  // a size known only at run time: the offsets are unknown, nothing
    Planned p = build({1, 16, 4}, {1, 16, 4}, {1, 32, 4}, 1);
    p.infos.erase("a");
    p.b.output("y");
    EXPECT_EQ(p.plan().concat_slice_values, 0u);
  }
}

// ---- random graphs: chains, diamonds, views, in-place steps, folded nodes.

struct RandomModel {
  Planned p;
  std::string text;  // the whole graph, for failure messages
};

RandomModel random_model(std::mt19937& rng) {
  RandomModel m;
  Planned& p = m.p;
  const std::vector<Shape> shapes = {{16}, {2, 8}, {4, 4}, {3, 5}, {64}, {1, 7}};
  p.input("x", {2, 8});
  p.b.floats("w", {4, 4}, std::vector<float>(16, 1.0f));
  std::vector<std::string> values = {"x", "w"};
  std::map<std::string, Shape> shape_of = {{"x", {2, 8}}, {"w", {4, 4}}};
  std::set<std::string> constants = {"w"};
  const int nodes = 2 + static_cast<int>(rng() % 14);
  for (int n = 0; n < nodes; ++n) {
    // Mostly the latest values (chains), sometimes older ones (diamonds).
    auto pick = [&] { return values[values.size() - 1 - rng() % std::min<size_t>(values.size(), 4)]; };
    std::vector<std::string> inputs = {pick()};
    if (rng() % 3 == 0) inputs.push_back(pick());
    const std::string out = "v" + std::to_string(n);
    const int kind = static_cast<int>(rng() % 8);
    if (kind >= 5 && kind < 7 && inputs.size() == 1 && values.size() > 3 && inputs[0] == values.back())
      inputs.insert(inputs.begin(), values[values.size() - 2]);  // a Concat of the last two values
    NodeMemoryFacts fact;
    std::optional<Shape> shape = shapes[rng() % shapes.size()];
    std::string op = "Conv";
    bool all_constant = true;
    for (const std::string& in : inputs) all_constant = all_constant && constants.count(in);
    if (all_constant && rng() % 2) {
      op = "Folded";
      fact = folded();
      constants.insert(out);
    } else if (kind < 3) {
      op = "Elementwise";
      fact = NodeMemoryFacts{false, false, {rng() % 4 != 0, rng() % 2 != 0}, std::nullopt};
      shape = shape_of[inputs[0]];
    } else if (kind < 5) {
      op = "View";
      fact = view();
    } else if (kind < 7 && inputs.size() == 2 && inputs[0] != inputs[1]) {
      // Sizes that add up: [1, n0 + n1], n = each input's element count.
      op = "Concat";
      fact = concat(rng() % 2 ? 1 : -1);
      int64_t total = 0;
      for (const std::string& in : inputs) total += element_count(shape_of[in]);
      shape = Shape{1, total};
    }
    if (rng() % 10 == 0) shape.reset();  // sized at run time
    p.add(op, inputs, out, shape, fact);
    if (shape) shape_of[out] = *shape;
    values.push_back(out);
    m.text += op + "(";
    for (const std::string& in : inputs) m.text += in + (in == inputs.back() ? "" : ",");
    m.text += ")->" + out + (shape ? " " + shape_to_string(*shape) : " ?") + "; ";
  }
  p.b.output(values.back());
  for (size_t v = 2; v + 1 < values.size(); ++v)
    if (rng() % 6 == 0) p.b.output(values[v]);
  m.text += "outputs:";
  for (const auto& o : p.b.g.outputs) m.text += " " + o.name;
  return m;
}

// Checks a plan against the rules, each derived here from the graph alone.
void check_plan(const RandomModel& m, const MemoryPlan& plan) {
  const graph::Graph& g = m.p.b.g;
  const auto& facts = m.p.facts;
  SCOPED_TRACE(m.text);
  ASSERT_EQ(plan.nodes.size(), g.nodes.size());
  std::set<std::string> constants, graph_inputs, graph_outputs;
  for (const auto& [name, t] : g.initializers) constants.insert(name);
  for (const auto& in : g.inputs) graph_inputs.insert(in.name);
  for (const auto& out : g.outputs) graph_outputs.insert(out.name);
  std::map<std::string, size_t> producer;  // value -> node
  std::map<size_t, int> step_of;           // node -> step
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    producer[g.nodes[n].outputs[0]] = n;
    if (facts[n].folded) constants.insert(g.nodes[n].outputs[0]);
    else step_of[n] = static_cast<int>(step_of.size());
  }
  // The buffers a value may live in: its own, and through views those of the
  // aliasing node's inputs (constants and graph inputs are never in the arena).
  std::function<void(const std::string&, std::set<std::string>&)> buffers = [&](const std::string& v,
                                                                                 std::set<std::string>& out) {
    out.insert(v);
    auto it = producer.find(v);
    if (it == producer.end() || !facts[it->second].may_alias_inputs) return;
    for (const std::string& in : g.nodes[it->second].inputs) buffers(in, out);
  };
  // last_read[v]: the last step reading v or a view of it; v's bytes must stay intact until then.
  std::map<std::string, int> last_read, last_direct_read;
  for (const auto& [n, s] : step_of)
    for (const std::string& in : g.nodes[n].inputs) {
      std::set<std::string> bs;
      buffers(in, bs);
      for (const std::string& b : bs) last_read[b] = std::max(last_read.count(b) ? last_read[b] : -1, s);
      last_direct_read[in] = s;
    }
  std::set<std::string> held_by_caller;  // buffers a graph output may be
  for (const std::string& o : graph_outputs) buffers(o, held_by_caller);

  struct Placed {
    std::string value;
    int first, last;
    int64_t offset;
    size_t bytes;
  };
  std::vector<Placed> placed;
  for (const auto& [n, s] : step_of) {
    const NodeMemory& node = plan.nodes[n];
    const std::string& v = g.nodes[n].outputs[0];
    ASSERT_EQ(node.arena_offset.size(), 1u) << v;
    ASSERT_EQ(node.arena_bytes.size(), 1u) << v;
    if (node.arena_offset[0] < 0) continue;
    EXPECT_FALSE(held_by_caller.count(v)) << v << " is (or is viewed by) a graph output but lies in the arena";
    EXPECT_FALSE(facts[n].may_alias_inputs) << v << " is a view but has an arena place";
    auto info = m.p.infos.find(v);
    ASSERT_NE(info, m.p.infos.end()) << v << " has no static size but an arena place";
    EXPECT_EQ(node.arena_bytes[0], static_cast<size_t>(element_count(*info->second.static_shape())) * 4) << v;
    EXPECT_EQ(node.arena_offset[0] % 64, 0) << v;
    EXPECT_LE(static_cast<size_t>(node.arena_offset[0]) + node.arena_bytes[0], plan.arena_bytes) << v;
    const int last = std::max(s, last_read.count(v) ? last_read[v] : s);
    placed.push_back({v, s, last, node.arena_offset[0], node.arena_bytes[0]});
  }
  EXPECT_GE(plan.arena_bytes, plan.peak_live_bytes);

  // In place only over an input in the arena that nothing reads later, with the kernel's consent.
  std::map<std::string, std::string> in_place_over;  // output -> the input it writes over
  for (const auto& [n, s] : step_of) {
    const NodeMemory& node = plan.nodes[n];
    if (node.in_place_input < 0) continue;
    const size_t i = static_cast<size_t>(node.in_place_input);
    ASSERT_LT(i, g.nodes[n].inputs.size());
    const std::string& in = g.nodes[n].inputs[i];
    const std::string& out = g.nodes[n].outputs[0];
    EXPECT_TRUE(i < facts[n].may_write_over_input.size() && facts[n].may_write_over_input[i]) << out << " over " << in;
    EXPECT_FALSE(graph_inputs.count(in) || constants.count(in) || held_by_caller.count(in)) << out << " over " << in;
    EXPECT_EQ(last_read[in], s) << out << " is written over " << in << ", which is read later";
    ASSERT_TRUE(producer.count(in) && !facts[producer[in]].may_alias_inputs) << out << " over " << in;
    EXPECT_EQ(plan.nodes[producer[in]].arena_offset[0], node.arena_offset[0]) << out << " over " << in;
    EXPECT_EQ(m.p.infos.at(in).static_shape(), m.p.infos.at(out).static_shape()) << out << " over " << in;
    in_place_over[out] = in;
  }

  // `part` is an input of the Concat that makes `whole`, sits exactly at its
  // slice of `whole` and is read by nothing after that Concat.
  auto is_concat_slice = [&](const Placed& part, const Placed& whole) {
    const graph::Node& node = g.nodes[producer[whole.value]];
    if (node.op_type != "Concat" || part.last != whole.first) return false;
    int64_t offset = whole.offset;
    for (const std::string& in : node.inputs) {
      if (in == part.value) return part.offset == offset;
      auto info = m.p.infos.find(in);
      if (info == m.p.infos.end()) return false;
      offset += element_count(*info->second.static_shape()) * 4;
    }
    return false;
  };

  // Values alive at the same step never share a byte, except an in-place
  // output and the input it writes over, at the step that does it, and a
  // Concat's output and an input written straight into it.
  for (size_t a = 0; a < placed.size(); ++a)
    for (size_t b = a + 1; b < placed.size(); ++b) {
      const Placed& p = placed[a];
      const Placed& q = placed[b];  // written later
      const bool same_time = p.first <= q.last && q.first <= p.last;
      const bool same_bytes = p.offset < q.offset + static_cast<int64_t>(q.bytes) &&
                              q.offset < p.offset + static_cast<int64_t>(p.bytes);
      if (!same_time || !same_bytes) continue;
      const bool in_place = in_place_over.count(q.value) && in_place_over[q.value] == p.value && p.last == q.first;
      EXPECT_TRUE(in_place || is_concat_slice(p, q) || is_concat_slice(q, p)) << q.value << " [" << q.first << "," << q.last << "] at " << q.offset << "+" << q.bytes
                            << " overlaps " << p.value << " [" << p.first << "," << p.last << "] at " << p.offset
                            << "+" << p.bytes;
    }

  // Every value read is freed once, by its last reader, unless it is kept.
  std::map<std::string, int> freed_at;
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (const std::string& v : plan.nodes[n].release) {
      EXPECT_FALSE(freed_at.count(v)) << v << " freed twice";
      ASSERT_TRUE(step_of.count(n)) << v << " freed by a folded node";
      freed_at[v] = step_of[n];
    }
  for (const auto& [v, s] : last_direct_read) {
    const bool kept = constants.count(v) || graph_outputs.count(v);
    if (kept) EXPECT_FALSE(freed_at.count(v)) << v << " is kept but freed";
    else EXPECT_EQ(freed_at.count(v) ? freed_at[v] : -1, s) << v << " not freed by its last reader";
  }
}

TEST(MemoryPlanGraph, RandomGraphsNeverOverwriteAValueStillToBeRead) {
  std::mt19937 rng(16);
  size_t in_place = 0, planned = 0, views = 0, slices = 0;
  for (int trial = 0; trial < 800; ++trial) {
    RandomModel m = random_model(rng);
    const MemoryPlan plan = m.p.plan();
    SCOPED_TRACE("trial " + std::to_string(trial));
    check_plan(m, plan);
    in_place += plan.in_place_values;
    planned += plan.planned_values;
    slices += plan.concat_slice_values;
    for (const NodeMemoryFacts& f : m.p.facts) views += f.may_alias_inputs;
    if (::testing::Test::HasFailure()) break;
  }
  // The generator must reach the cases the checks are about.
  EXPECT_GT(in_place, 100u);
  EXPECT_GT(planned, 1000u);
  EXPECT_GT(views, 100u);
  EXPECT_GT(slices, 30u);
}

// ---- through a Session: Concat inputs written in place give the same outputs.

// x [1,3,8,8] -> conv a [1,4,8,8], conv b [1,4,8,8], relu r [1,3,8,8] ->
// Concat c [1,11,8,8] -> conv y. With `keep_c`, c is also a graph output, so
// the caller keeps it and nothing is written into it in place: the copy path.
std::string concat_model(bool keep_c) {
  testing::ModelBuilder m;
  m.input("x", {1, 3, 8, 8});
  std::vector<float> w1(4 * 3 * 9), w2(4 * 3), w3(2 * 11);
  for (size_t i = 0; i < w1.size(); ++i) w1[i] = static_cast<float>(static_cast<int>(i % 5) - 2);
  for (size_t i = 0; i < w2.size(); ++i) w2[i] = static_cast<float>(static_cast<int>(i % 3) - 1);
  for (size_t i = 0; i < w3.size(); ++i) w3[i] = static_cast<float>(static_cast<int>(i % 4) - 1);
  m.initializer("w1", {4, 3, 3, 3}, w1);
  m.initializer("w2", {4, 3, 1, 1}, w2);
  m.initializer("w3", {2, 11, 1, 1}, w3);
  onnx::NodeProto* conv_a = m.node("Conv", {"x", "w1"}, {"a"}, "conv_a");
  auto* pads = conv_a->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  m.node("Conv", {"x", "w2"}, {"b"}, "conv_b");
  m.node("Relu", {"x"}, {"r"}, "relu");
  onnx::NodeProto* cat = m.node("Concat", {"a", "b", "r"}, {"c"}, "concat");
  auto* axis = cat->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(1);
  m.node("Conv", {"c", "w3"}, {"y"}, "conv_y");
  m.output("y");
  if (keep_c) m.output("c");
  return m.bytes();
}

TEST(MemoryPlanSession, ConcatWrittenInPlaceMatchesTheCopy) {
  std::vector<float> xs(3 * 64);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(static_cast<int>(i * 7 % 11) - 5) / 4.0f;
  const Tensor x = Tensor::from_floats({1, 3, 8, 8}, xs);
  for (OptLevel level : {OptLevel::kNone, OptLevel::kAll}) {
    SessionOptions options;
    options.threads = 2;
    options.opt_level = level;
    Session in_place = Session::from_bytes(concat_model(false), options);
    Session copied = Session::from_bytes(concat_model(true), options);
    EXPECT_EQ(in_place.memory_summary().concat_slice_values, 3u);
    EXPECT_EQ(copied.memory_summary().concat_slice_values, 0u);
    const Tensor want = copied.run({{"x", x}}).at("y");
    for (int run = 0; run < 3; ++run) {  // the arena is reused from run to run
      const Tensor got = in_place.run({{"x", x}}).at("y");
      ASSERT_EQ(got.shape(), want.shape());
      for (int64_t i = 0; i < want.size(); ++i)
        ASSERT_EQ(got.data<float>()[i], want.data<float>()[i]) << "run " << run << " element " << i;
    }
  }
}

}  // namespace
}  // namespace kiln
