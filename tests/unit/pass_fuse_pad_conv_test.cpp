// Pass fuse_pad_conv, and FusedConv's pad_mode "reflect" (im2col panels that
// read the mirrored image) against Pad(reflect) followed by a plain Conv.
#include "graph/passes/fuse_pad_conv.h"

#include <gtest/gtest.h>

#include <random>

#include "graph/pass.h"
#include "graph/validate_graph.h"
#include "graph_builder.h"
#include "kernels/f32_im2col_panels.h"
#include "op_test_util.h"

namespace kiln {
namespace {

using testing::attr_ints;
using testing::attr_string;
using testing::GraphBuilder;
using testing::op_sequence;

// x [1, 2, 5, 6] -> Pad(mode, pads) -> Conv(w: `weight_shape`, group) -> y.
GraphBuilder pad_then_conv(const std::string& mode, std::vector<int64_t> pads, Shape weight_shape = {3, 2, 3, 3},
                           int64_t group = 1) {
  GraphBuilder b(13);
  b.input("x", {1, 2, 5, 6}).output("y");
  Tensor pads_tensor(DataType::kInt64, {static_cast<int64_t>(pads.size())});
  for (size_t i = 0; i < pads.size(); ++i) pads_tensor.data<int64_t>()[i] = pads[i];
  b.initializer("pads", pads_tensor);
  std::vector<float> w(static_cast<size_t>(element_count(weight_shape)), 0.5f);
  b.floats("w", weight_shape, w);
  b.node("Pad", {"x", "pads"}, {"p"}).attrs["mode"] = attr_string(mode);
  graph::Node& conv = b.node("Conv", {"p", "w"}, {"y"}, "conv");
  if (group != 1) conv.attrs["group"] = testing::attr_int(group);
  return b;
}

TEST(PassFusePadConv, ReflectBecomesFusedConvWithItsPads) {
  GraphBuilder b = pad_then_conv("reflect", {0, 0, 1, 2, 0, 0, 3, 1});
  EXPECT_EQ(graph::fuse_pad_conv(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "FusedConv");
  const graph::Node& conv = b.g.nodes[0];
  EXPECT_EQ(conv.inputs[0], "x");
  EXPECT_EQ(conv.attr_string("pad_mode", ""), "reflect");
  EXPECT_EQ(conv.attr_ints("pads"), (std::vector<int64_t>{1, 2, 3, 1}));
  EXPECT_NO_THROW(graph::validate_graph(b.g));
}

TEST(PassFusePadConv, ZeroPadAddsToConvPadsAndStaysStandard) {
  GraphBuilder b = pad_then_conv("constant", {0, 0, 1, 1, 0, 0, 2, 0});
  b.g.nodes[1].attrs["pads"] = attr_ints({1, 0, 0, 1});
  EXPECT_EQ(graph::fuse_pad_conv(b.g), 1u);
  ASSERT_EQ(op_sequence(b.g), "Conv");
  EXPECT_TRUE(b.g.nodes[0].domain.empty());
  EXPECT_EQ(b.g.nodes[0].attr_ints("pads"), (std::vector<int64_t>{2, 1, 2, 1}));
}

TEST(PassFusePadConv, LeavesNearMisses) {
  std::vector<std::pair<const char*, GraphBuilder>> cases;
  cases.emplace_back("pads the channel axis", pad_then_conv("reflect", {0, 1, 1, 1, 0, 0, 1, 1}));
  cases.emplace_back("edge mode", pad_then_conv("edge", {0, 0, 1, 1, 0, 0, 1, 1}));
  cases.emplace_back("negative pad (a crop)", pad_then_conv("constant", {0, 0, -1, 0, 0, 0, 0, 0}));
  cases.emplace_back("reflect before a depthwise conv", pad_then_conv("reflect", {0, 0, 1, 1, 0, 0, 1, 1}, {2, 1, 3, 3}, 2));
  {
    GraphBuilder b = pad_then_conv("reflect", {0, 0, 1, 1, 0, 0, 1, 1});
    b.g.nodes[1].attrs["pads"] = attr_ints({1, 1, 1, 1});  // zeros around the mirrored border
    cases.emplace_back("reflect into a conv that pads too", std::move(b));
  }
  {
    GraphBuilder b = pad_then_conv("reflect", {0, 0, 1, 1, 0, 0, 1, 1});
    b.g.outputs.push_back(b.g.outputs[0]);
    b.g.outputs.back().name = "p";
    cases.emplace_back("padded image is a graph output", std::move(b));
  }
  for (auto& [why, b] : cases) {
    SCOPED_TRACE(why);
    EXPECT_EQ(graph::fuse_pad_conv(b.g), 0u);
    EXPECT_EQ(op_sequence(b.g), "Pad,Conv");
  }
}

// FusedConv(pad_mode=reflect) == Conv(Pad(x, reflect)), for strides,
// dilations, uneven pads and several threads.
TEST(FusedConvReflectPad, MatchesPadThenConv) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  struct Case {
    int64_t h, w, k, stride, dilation;
    std::vector<int64_t> pads;  // top, left, bottom, right
  };
  const Case cases[] = {{9, 13, 3, 1, 1, {1, 1, 1, 1}}, {9, 13, 3, 2, 1, {1, 1, 1, 1}}, {12, 7, 7, 1, 1, {3, 3, 3, 3}},
                        {10, 11, 3, 1, 2, {2, 1, 0, 2}}, {6, 40, 5, 2, 1, {2, 2, 2, 2}}, {3, 3, 3, 1, 1, {2, 2, 2, 2}}};
  for (const Case& c : cases) {
    SCOPED_TRACE("k " + std::to_string(c.k) + " stride " + std::to_string(c.stride));
    const int64_t channels = 5, out_channels = 6;
    Tensor x(DataType::kFloat32, {2, channels, c.h, c.w}), w(DataType::kFloat32, {out_channels, channels, c.k, c.k});
    Tensor bias(DataType::kFloat32, {out_channels});
    for (Tensor* t : {&x, &w, &bias})
      for (int64_t i = 0; i < t->size(); ++i) t->data<float>()[i] = value(rng);

    graph::Node pad = testing::make_node("Pad", 2, 1, 13);
    pad.attrs["mode"] = attr_string("reflect");
    Tensor pads(DataType::kInt64, {8});
    const int64_t pad_values[8] = {0, 0, c.pads[0], c.pads[1], 0, 0, c.pads[2], c.pads[3]};
    for (int i = 0; i < 8; ++i) pads.data<int64_t>()[i] = pad_values[i];
    const Tensor padded = testing::run_op(pad, {x, pads})[0];
    graph::Node conv = testing::make_node("Conv", 3, 1, 13);
    conv.attrs["strides"] = attr_ints({c.stride, c.stride});
    conv.attrs["dilations"] = attr_ints({c.dilation, c.dilation});
    const Tensor want = testing::run_op(conv, {padded, w, bias}, true)[0];

    graph::Node fused = testing::make_node("FusedConv", 3, 1, 1);
    fused.domain = "com.kiln";
    fused.attrs = conv.attrs;
    fused.attrs["pads"] = attr_ints(c.pads);
    fused.attrs["pad_mode"] = attr_string("reflect");
    const Tensor got = testing::run_op(fused, {x, w, bias}, true, 2)[0];
    ASSERT_EQ(got.shape(), want.shape());
    for (int64_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-5) << "element " << i;
  }
}

TEST(FusedConvReflectPad, ReflectIndexFollowsOnnxPad) {
  // n = 4: ... 2 1 | 0 1 2 3 | 2 1 0 1 ...
  const int64_t expected[] = {2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1};
  for (int64_t i = -4; i < 8; ++i) EXPECT_EQ(kernels::reflect_index(i, 4), expected[i + 4]) << i;
  EXPECT_EQ(kernels::reflect_index(-3, 1), 0);
}

}  // namespace
}  // namespace kiln
