// The operator records (runtime/op_registry.h) checked as a whole: every op
// kiln registers carries what shape inference, validation, the passes and the
// executor read from it, and the traits the passes trust hold for its shape
// rule. A new op that forgets one of these fails here, naming itself.
#include "runtime/op_registry.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "graph/pass.h"
#include "graph/shape_inference.h"
#include "runtime/node_arity.h"
#include "runtime/ops/window_attrs.h"

namespace kiln {
namespace {

std::string label(const OpRecord& r) {
  return (r.schema.domain.empty() ? std::string() : r.schema.domain + ".") + r.schema.op_type + " [" +
         std::to_string(r.schema.since) + ", " + std::to_string(r.schema.until) + "]";
}

graph::ValueInfo info(std::vector<int64_t> dims, DataType type = DataType::kFloat32) {
  graph::ValueInfo v;
  v.dtype = type;
  v.has_shape = true;
  for (int64_t d : dims) v.dims.push_back(graph::Dim{d, ""});
  return v;
}

std::vector<int64_t> dims_of(const graph::ValueInfo& v) {
  std::vector<int64_t> out;
  for (const graph::Dim& d : v.dims) out.push_back(d.is_fixed() ? d.value : -1);
  return out;
}

TEST(OpRegistry, EveryRecordHasAKernelAShapeRuleAndAnArity) {
  const std::vector<const OpRecord*> records = OpRegistry::global().records();
  ASSERT_GT(records.size(), 100u);
  for (const OpRecord* r : records) {
    SCOPED_TRACE(label(*r));
    EXPECT_NE(r->kernel, nullptr);
    EXPECT_NE(r->schema.shape, nullptr);
    EXPECT_LE(r->schema.since, r->schema.until);
    // Standard ops take their arity from ONNX's schema at both ends of the
    // range; kiln's own ops must state it.
    for (int opset : {r->schema.since, r->schema.until}) {
      const std::optional<graph::Arity> arity = op_arity(r->schema.domain, r->schema.op_type, opset);
      ASSERT_TRUE(arity.has_value()) << "opset " << opset;
      EXPECT_LE(arity->min_inputs, arity->max_inputs);
      EXPECT_LE(arity->min_outputs, arity->max_outputs);
    }
  }
}

TEST(OpRegistry, EveryKilnOpHasAnExpansionAndItsOwnArity) {
  size_t kiln_ops = 0;
  for (const OpRecord* r : OpRegistry::global().records()) {
    if (r->schema.domain != graph::kKilnDomain) {
      EXPECT_EQ(r->schema.expand, nullptr) << label(*r) << ": only kiln-domain ops are expanded";
      continue;
    }
    SCOPED_TRACE(label(*r));
    ++kiln_ops;
    EXPECT_NE(r->schema.expand, nullptr);
    EXPECT_TRUE(r->schema.arity.has_value());
  }
  EXPECT_GE(kiln_ops, 2u);  // FusedConv, FusedLayerNorm
}

TEST(OpRegistry, OpsetRangesOfOneOpDoNotOverlap) {
  std::map<std::pair<std::string, std::string>, std::vector<const OpRecord*>> by_op;
  for (const OpRecord* r : OpRegistry::global().records()) by_op[{r->schema.domain, r->schema.op_type}].push_back(r);
  for (const auto& [key, list] : by_op)
    for (size_t i = 0; i < list.size(); ++i)
      for (size_t j = i + 1; j < list.size(); ++j)
        EXPECT_TRUE(list[i]->schema.until < list[j]->schema.since || list[j]->schema.until < list[i]->schema.since)
            << label(*list[i]) << " overlaps " << label(*list[j]);
}

TEST(OpRegistry, LookupHonoursOpsetRangesAndTheOnnxDomainAlias) {
  const OpRegistry& registry = OpRegistry::global();
  const graph::OpSchema* old_add = registry.find("", "Add", 6);
  const graph::OpSchema* new_add = registry.find("ai.onnx", "Add", 13);
  ASSERT_NE(old_add, nullptr);
  ASSERT_NE(new_add, nullptr);
  EXPECT_FALSE(old_add->has(graph::kBroadcasting));  // legacy `broadcast` attribute, not numpy
  EXPECT_TRUE(new_add->has(graph::kBroadcasting));
  EXPECT_EQ(registry.find("", "Conv", 18), nullptr);  // registered up to 17
  EXPECT_EQ(registry.kernel("", "NoSuchOp", 13), nullptr);
  EXPECT_FALSE(registry.knows("", "NoSuchOp"));
  EXPECT_TRUE(registry.knows(graph::kKilnDomain, "FusedConv"));
}

// A trait is a promise the passes act on without looking at the op's name;
// each record's shape rule must agree with it.
TEST(OpRegistry, ElementwiseOpsKeepTheirInputShape) {
  size_t checked = 0;
  for (const OpRecord* r : OpRegistry::global().records()) {
    if (!r->schema.has(graph::kElementwise)) continue;
    SCOPED_TRACE(label(*r));
    graph::Node node;
    node.op_type = r->schema.op_type;
    node.domain = r->schema.domain;
    node.opset = r->schema.until > 100 ? r->schema.since : r->schema.until;
    node.name = "n";
    node.inputs = {"x"};
    node.outputs = {"y"};
    const graph::ValueInfo x = info({2, 3, 5});
    std::vector<graph::ValueInfo> out = r->schema.shape(graph::ShapeContext{node, {&x}, {nullptr}});
    ASSERT_EQ(out.size(), 1u);
    ASSERT_TRUE(out[0].has_shape);
    EXPECT_EQ(dims_of(out[0]), (std::vector<int64_t>{2, 3, 5}));
    ++checked;
  }
  EXPECT_GE(checked, 30u);
}

TEST(OpRegistry, BroadcastingOpsGiveTheBroadcastShape) {
  size_t checked = 0;
  for (const OpRecord* r : OpRegistry::global().records()) {
    if (!r->schema.has(graph::kBroadcasting)) continue;
    SCOPED_TRACE(label(*r));
    const std::optional<graph::Arity> arity = op_arity(r->schema.domain, r->schema.op_type, r->schema.since);
    ASSERT_TRUE(arity.has_value());
    graph::Node node;
    node.op_type = r->schema.op_type;
    node.opset = r->schema.since;
    node.name = "n";
    node.outputs = {"y"};
    // PRelu broadcasts its slope to X, so X carries the full shape; the
    // others broadcast every input with every other.
    const bool unidirectional = r->schema.op_type == "PRelu";
    const graph::ValueInfo a = info(unidirectional ? std::vector<int64_t>{2, 4, 3} : std::vector<int64_t>{2, 1, 3});
    const graph::ValueInfo b = info({4, 1});
    const graph::ValueInfo cond = info({3}, DataType::kBool);
    std::vector<const graph::ValueInfo*> in;
    const int inputs = std::max(2, arity->min_inputs);
    for (int i = 0; i < inputs; ++i) {
      node.inputs.push_back("in" + std::to_string(i));
      in.push_back(r->schema.op_type == "Where" && i == 0 ? &cond : (i % 2 == 0 ? &a : &b));
    }
    const std::vector<const Tensor*> constants(in.size(), nullptr);
    std::vector<graph::ValueInfo> out = r->schema.shape(graph::ShapeContext{node, in, constants});
    ASSERT_EQ(out.size(), 1u);
    ASSERT_TRUE(out[0].has_shape);
    EXPECT_EQ(dims_of(out[0]), (std::vector<int64_t>{2, 4, 3}));
    ++checked;
  }
  EXPECT_GE(checked, 15u);
}

// Every opset of every op: for each standard op kiln registers, every opset
// from the op's first ONNX version up to the latest opset the linked ONNX
// library defines must have a record, unless listed here with its reason.
// The list only shrinks: a hole that gets filled must leave it (the test
// fails on a listed op that has no hole any more).
TEST(OpRegistry, EveryOpsetOfEveryRegisteredOpHasARecord) {
  const std::map<std::string, std::string> known_holes = {
      {"Tile", "versions 1-5 take scalar 'tiles' and 'axis' inputs, a different operation from Tile-6"},
      {"Upsample", "versions 1-6 were experimental ('height_scale'/'width_scale' attributes); kiln runs 7 on"},
  };
  const OpRegistry& registry = OpRegistry::global();
  const int latest = onnx_latest_opset();
  ASSERT_GE(latest, 17);
  std::set<std::string> ops;
  for (const OpRecord* r : registry.records())
    if (r->schema.domain.empty()) ops.insert(r->schema.op_type);
  std::set<std::string> with_holes;
  for (const std::string& op : ops) {
    const std::vector<int> versions = onnx_op_versions(op);
    ASSERT_FALSE(versions.empty()) << op << " is not an ONNX op";
    std::string missing;
    for (int opset = versions.front(); opset <= latest; ++opset)
      if (!registry.find("", op, opset)) missing += " " + std::to_string(opset);
    if (missing.empty()) continue;
    with_holes.insert(op);
    EXPECT_TRUE(known_holes.count(op)) << op << " has no record at opset(s)" << missing;
  }
  for (const auto& [op, reason] : known_holes)
    EXPECT_TRUE(with_holes.count(op)) << op << " has no hole any more: remove it from known_holes";
}

// Shape inference and the kernels size a window with the same function; a
// randomized sweep of Conv / MaxPool attributes checks they never disagree.
TEST(OpRegistry, ShapeInferenceAndKernelsAgreeOnWindowGeometry) {
  std::mt19937 rng(1234);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::vector<std::string> auto_pads = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
  int compared = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const size_t rank = static_cast<size_t>(pick(1, 3));
    const bool pool = pick(0, 1) == 1;
    graph::Node node;
    node.op_type = pool ? "MaxPool" : "Conv";
    node.opset = 13;
    node.name = "n";
    node.outputs = {"y"};
    std::vector<int64_t> kernel, strides, dilations, pads(2 * rank), in_dims;
    for (size_t i = 0; i < rank; ++i) {
      kernel.push_back(pick(1, 5));
      strides.push_back(pick(1, 3));
      dilations.push_back(pool ? 1 : pick(1, 2));
      pads[i] = pick(0, 2);
      pads[i + rank] = pick(0, 2);
      in_dims.push_back(pick(1, 12));
    }
    auto ints = [](std::vector<int64_t> v) {
      graph::Attribute a;
      a.kind = graph::Attribute::Kind::kInts;
      a.ints = std::move(v);
      return a;
    };
    node.attrs["kernel_shape"] = ints(kernel);
    node.attrs["strides"] = ints(strides);
    node.attrs["dilations"] = ints(dilations);
    const std::string auto_pad = auto_pads[static_cast<size_t>(pick(0, 3))];
    if (auto_pad == "NOTSET") node.attrs["pads"] = ints(pads);
    graph::Attribute ap;
    ap.kind = graph::Attribute::Kind::kString;
    ap.s = auto_pad;
    node.attrs["auto_pad"] = ap;
    if (pool && pick(0, 1) == 1) {
      graph::Attribute ceil;
      ceil.kind = graph::Attribute::Kind::kInt;
      ceil.i = 1;
      node.attrs["ceil_mode"] = ceil;
    }
    std::vector<int64_t> x_dims = {1, 2};
    x_dims.insert(x_dims.end(), in_dims.begin(), in_dims.end());
    std::vector<int64_t> w_dims = {4, 2};
    w_dims.insert(w_dims.end(), kernel.begin(), kernel.end());
    const graph::ValueInfo x = info(x_dims), w = info(w_dims);
    node.inputs = pool ? std::vector<std::string>{"x"} : std::vector<std::string>{"x", "w"};
    std::vector<const graph::ValueInfo*> in = {&x};
    if (!pool) in.push_back(&w);
    const std::vector<const Tensor*> constants(in.size(), nullptr);
    SCOPED_TRACE(node.op_type + " rank " + std::to_string(rank) + " trial " + std::to_string(trial));

    std::optional<kernels::WindowGeometry> geometry;
    std::string kernel_error;
    try {
      geometry = resolve_window(node, read_window_attrs(node), in_dims, kernel);
    } catch (const Error& e) {
      kernel_error = e.what();
    }
    std::vector<graph::ValueInfo> out;
    std::string inference_error;
    try {
      out = graph::infer_node(node, in, constants, OpRegistry::global());
    } catch (const Error& e) {
      inference_error = e.what();
    }
    EXPECT_EQ(inference_error, kernel_error);  // both refuse a window that does not fit, in the same words
    if (!geometry) continue;
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].dims.size(), rank + 2);
    for (size_t i = 0; i < rank; ++i)
      EXPECT_EQ(out[0].dims[2 + i].value, geometry->out[kernels::WindowGeometry::kDims - rank + i]) << "axis " << i;
    ++compared;
  }
  EXPECT_GT(compared, 200);
}

}  // namespace
}  // namespace kiln
