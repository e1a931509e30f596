// Conv and ConvTranspose against direct-loop references written here.
//
// Inputs and weights are small integers, so every sum is exact in float32
// and the kernels (which only reorder the additions) must match exactly:
// the stated tolerance is 0.
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "nn_test_util.h"
#include "op_test_util.h"

namespace kiln::testing {
namespace {

// Row-major strides of a shape.
std::vector<int64_t> strides_of(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

// Flat index -> coordinates.
std::vector<int64_t> unflatten(int64_t index, const std::vector<int64_t>& dims) {
  std::vector<int64_t> c(dims.size());
  for (size_t i = dims.size(); i-- > 0;) {
    c[i] = index % dims[i];
    index /= dims[i];
  }
  return c;
}

int64_t product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (int64_t d : dims) p *= d;
  return p;
}

std::string list(const std::vector<int64_t>& v) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
  return out.str() + "]";
}

// A convolution problem with explicit begin pads and output dims (the test
// derives them itself from the attributes).
struct ConvCase {
  int64_t batch = 1, in_channels = 1, out_channels = 1, group = 1;
  std::vector<int64_t> in, kernel, strides, dilations, pads;  // pads: begins then ends
  std::string auto_pad = "NOTSET";
  bool bias = false;
  bool kernel_shape_attr = true;
  bool constant_weights = false;
  int threads = 1;

  size_t rank() const { return in.size(); }
  std::string describe() const {
    std::ostringstream out;
    out << "N=" << batch << " C_in=" << in_channels << " C_out=" << out_channels << " group=" << group
        << " in=" << list(in) << " kernel=" << list(kernel) << " strides=" << list(strides)
        << " dilations=" << list(dilations) << " pads=" << list(pads) << " auto_pad=" << auto_pad
        << " bias=" << bias << " kernel_shape_attr=" << kernel_shape_attr << " constant=" << constant_weights
        << " threads=" << threads;
    return out.str();
  }
};

// Begin pads and output dims of a forward conv, computed from the ONNX spec.
void forward_geometry(const ConvCase& c, std::vector<int64_t>* pad_begin, std::vector<int64_t>* out) {
  pad_begin->clear();
  out->clear();
  for (size_t i = 0; i < c.rank(); ++i) {
    const int64_t extent = c.dilations[i] * (c.kernel[i] - 1) + 1;
    if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
      const int64_t o = (c.in[i] + c.strides[i] - 1) / c.strides[i];
      const int64_t total = std::max<int64_t>(0, (o - 1) * c.strides[i] + extent - c.in[i]);
      pad_begin->push_back(c.auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2);
      out->push_back(o);
    } else {
      const int64_t pb = c.auto_pad == "VALID" ? 0 : c.pads[i];
      const int64_t pe = c.auto_pad == "VALID" ? 0 : c.pads[i + c.rank()];
      pad_begin->push_back(pb);
      out->push_back((c.in[i] + pb + pe - extent) / c.strides[i] + 1);
    }
  }
}

Tensor reference_conv(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b) {
  std::vector<int64_t> pad_begin, out;
  forward_geometry(c, &pad_begin, &out);
  Shape y_shape = {c.batch, c.out_channels};
  y_shape.insert(y_shape.end(), out.begin(), out.end());
  Tensor y(DataType::kFloat32, y_shape);
  const int64_t in_group = c.in_channels / c.group, out_group = c.out_channels / c.group;
  const int64_t in_size = product(c.in), out_size = product(out), taps = product(c.kernel);
  const std::vector<int64_t> in_strides = strides_of(c.in);
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  float* yp = y.data<float>();
  for (int64_t n = 0; n < c.batch; ++n)
    for (int64_t oc = 0; oc < c.out_channels; ++oc)
      for (int64_t o = 0; o < out_size; ++o) {
        const std::vector<int64_t> oco = unflatten(o, out);
        double sum = b ? b->data<float>()[oc] : 0.0;
        const int64_t grp = oc / out_group;
        for (int64_t ci = 0; ci < in_group; ++ci)
          for (int64_t t = 0; t < taps; ++t) {
            const std::vector<int64_t> k = unflatten(t, c.kernel);
            int64_t at = 0;
            bool inside = true;
            for (size_t i = 0; i < c.rank(); ++i) {
              const int64_t pos = oco[i] * c.strides[i] - pad_begin[i] + k[i] * c.dilations[i];
              inside = inside && pos >= 0 && pos < c.in[i];
              at += pos * in_strides[i];
            }
            if (!inside) continue;
            sum += static_cast<double>(xp[(n * c.in_channels + grp * in_group + ci) * in_size + at]) *
                   wp[(oc * in_group + ci) * taps + t];
          }
        yp[(n * c.out_channels + oc) * out_size + o] = static_cast<float>(sum);
      }
  return y;
}

graph::Node conv_node(const ConvCase& c) {
  graph::Node node = make_node("Conv", c.bias ? 3 : 2);
  if (c.kernel_shape_attr) node.attrs["kernel_shape"] = ints_attr(c.kernel);
  node.attrs["strides"] = ints_attr(c.strides);
  node.attrs["dilations"] = ints_attr(c.dilations);
  if (c.auto_pad == "NOTSET") node.attrs["pads"] = ints_attr(c.pads);
  else node.attrs["auto_pad"] = string_attr(c.auto_pad);
  if (c.group != 1) node.attrs["group"] = int_attr(c.group);
  return node;
}

void check_conv(const ConvCase& c, std::mt19937& rng) {
  Shape x_shape = {c.batch, c.in_channels}, w_shape = {c.out_channels, c.in_channels / c.group};
  x_shape.insert(x_shape.end(), c.in.begin(), c.in.end());
  w_shape.insert(w_shape.end(), c.kernel.begin(), c.kernel.end());
  const Tensor x = random_integer_floats(x_shape, -3, 3, rng);
  const Tensor w = random_integer_floats(w_shape, -2, 2, rng);
  const Tensor b = random_integer_floats({c.out_channels}, -5, 5, rng);
  std::vector<Tensor> inputs = {x, w};
  if (c.bias) inputs.push_back(b);
  const std::vector<Tensor> got = run_op(conv_node(c), inputs, c.constant_weights, c.threads);
  expect_equal(got[0], reference_conv(c, x, w, c.bias ? &b : nullptr), c.describe());
}

TEST(ConvOp, HandCheckedTwoByTwoKernel) {
  // 3x3 image 1..9, 2x2 kernel [[1,0],[0,-1]], bias 10: y = x[i][j] - x[i+1][j+1] + 10 = 6 everywhere.
  graph::Node node = make_node("Conv", 3);
  const Tensor x = Tensor::from_floats({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor w = Tensor::from_floats({1, 1, 2, 2}, {1, 0, 0, -1});
  const Tensor b = Tensor::from_floats({1}, {10});
  expect_equal(run_op(node, {x, w, b})[0], Tensor::from_floats({1, 1, 2, 2}, {6, 6, 6, 6}), "2x2");
}

TEST(ConvOp, HandCheckedPaddedStridedAndGrouped) {
  // Two groups, one channel each, 3x3 ones kernel, pad 1, stride 2 on a 3x3 image:
  // the outputs are sums of the 2x2 corner blocks of each channel.
  graph::Node node = make_node("Conv", 2);
  node.attrs["pads"] = ints_attr({1, 1, 1, 1});
  node.attrs["strides"] = ints_attr({2, 2});
  node.attrs["group"] = int_attr(2);
  const Tensor x = Tensor::from_floats({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9,  //
                                                      0, 0, 1, 0, 0, 0, 2, 0, 0});
  Tensor w = Tensor::from_floats({2, 1, 3, 3}, std::vector<float>(18, 1.0f));
  const Tensor want = Tensor::from_floats({1, 2, 2, 2}, {12, 16, 24, 28,  //
                                                         0, 1, 2, 0});
  expect_equal(run_op(node, {x, w})[0], want, "grouped");
}

TEST(ConvOp, RandomizedAgainstDirectLoops) {
  std::mt19937 rng(20240601);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int checked = 0;
  while (checked < 1000) {
    ConvCase c;
    const int rank = std::vector<int>{1, 2, 2, 2, 3}[pick(0, 4)];
    for (int i = 0; i < rank; ++i) {
      c.in.push_back(pick(1, rank == 3 ? 6 : 13));
      c.kernel.push_back(pick(1, rank == 3 ? 3 : 4));
      c.strides.push_back(pick(1, 3));
      c.dilations.push_back(pick(1, 2));
    }
    for (int i = 0; i < 2 * rank; ++i) c.pads.push_back(pick(0, 2));
    const int mode = pick(0, 9);
    c.auto_pad = mode < 6 ? "NOTSET" : mode == 6 ? "SAME_UPPER" : mode == 7 ? "SAME_LOWER" : "VALID";
    switch (pick(0, 3)) {
      case 0: c.group = 1; break;
      case 1: c.group = pick(2, 3); break;
      default: c.group = pick(2, 6); break;  // depthwise below
    }
    const bool depthwise = pick(0, 3) == 0;
    const int64_t in_group = depthwise ? 1 : pick(1, 4);
    const int64_t out_group = depthwise ? pick(1, 2) : pick(1, 4);
    c.in_channels = in_group * c.group;
    c.out_channels = out_group * c.group;
    c.batch = pick(1, 2);
    c.bias = pick(0, 1) == 1;
    c.kernel_shape_attr = pick(0, 2) != 0;
    c.constant_weights = pick(0, 1) == 1;
    c.threads = pick(1, 2);
    // Skip windows that do not fit the padded input (an error case, tested below).
    std::vector<int64_t> pad_begin, out;
    forward_geometry(c, &pad_begin, &out);
    bool fits = true;
    for (int i = 0; i < rank; ++i) {
      const int64_t extent = c.dilations[i] * (c.kernel[i] - 1) + 1;
      const int64_t padded = c.auto_pad == "NOTSET" ? c.in[i] + c.pads[i] + c.pads[i + rank] : c.in[i];
      if (c.auto_pad != "SAME_UPPER" && c.auto_pad != "SAME_LOWER" && padded < extent) fits = false;
    }
    if (!fits) continue;
    check_conv(c, rng);
    if (::testing::Test::HasFailure()) return;  // one loud failure is enough
    ++checked;
  }
}

// Enough positions that the im2col tile (1 MiB of columns) splits mid-row,
// with tiles run serially (threaded GEMM) and in parallel.
TEST(ConvOp, ColumnTilesSplitMidRow) {
  std::mt19937 rng(7);
  for (int64_t batch : {1, 3}) {
    for (int threads : {1, 2}) {
      ConvCase c;
      c.batch = batch;
      c.in_channels = 16;
      c.out_channels = 5;
      c.in = {37, 61};  // K = 144, tile = 1820 positions, 2257 positions
      c.kernel = {3, 3};
      c.strides = {1, 1};
      c.dilations = {1, 1};
      c.pads = {1, 1, 1, 1};
      c.bias = true;
      c.threads = threads;
      check_conv(c, rng);
    }
  }
}

TEST(ConvOp, PointwiseRunsAsGemm) {
  std::mt19937 rng(11);
  for (int64_t group : {1, 2}) {
    for (int threads : {1, 2}) {
      ConvCase c;
      c.batch = 2;
      c.group = group;
      c.in_channels = 6;
      c.out_channels = 4;
      c.in = {33, 35};
      c.kernel = {1, 1};
      c.strides = {1, 1};
      c.dilations = {1, 1};
      c.pads = {0, 0, 0, 0};
      c.bias = group == 2;
      c.threads = threads;
      check_conv(c, rng);
    }
  }
}

TEST(ConvOp, DepthwiseWithChannelMultiplier) {
  std::mt19937 rng(13);
  ConvCase c;
  c.batch = 2;
  c.group = 5;
  c.in_channels = 5;
  c.out_channels = 10;
  c.in = {17, 23};
  c.kernel = {3, 5};
  c.strides = {2, 1};
  c.dilations = {1, 2};
  c.pads = {1, 2, 0, 3};
  c.bias = true;
  c.threads = 2;
  check_conv(c, rng);
}

// Builds the kernel only (session build time), with every input constant.
void build(const graph::Node& node, const std::vector<Tensor>& constants) {
  KernelFactory factory = OpRegistry::global().kernel(node.domain, node.op_type, node.opset);
  ASSERT_NE(factory, nullptr);
  std::vector<const Tensor*> pointers;
  for (const Tensor& t : constants) pointers.push_back(&t);
  factory(KernelInit(node, pointers, 1, default_kernels()));
}

void expect_error(const std::function<void()>& action, const std::string& fragment) {
  try {
    action();
    ADD_FAILURE() << "expected kiln::Error containing '" << fragment << "'";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Conv"), std::string::npos) << message;
    EXPECT_NE(message.find("_under_test'"), std::string::npos) << "does not name the node: " << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(ConvOp, BuildTimeErrorsNameTheNode) {
  const Tensor w = Tensor::zeros(DataType::kFloat32, {4, 2, 3, 3});
  const Tensor x = Tensor::zeros(DataType::kFloat32, {1, 2, 8, 8});
  {
    graph::Node node = make_node("Conv", 2);
    node.attrs["kernel_shape"] = ints_attr({5, 5});
    expect_error([&] { build(node, {x, w}); }, "kernel_shape");
  }
  {
    graph::Node node = make_node("Conv", 2);
    node.attrs["group"] = int_attr(3);
    expect_error([&] { build(node, {x, w}); }, "group 3 does not divide");
  }
  {
    graph::Node node = make_node("Conv", 2);
    node.attrs["strides"] = ints_attr({0, 1});
    expect_error([&] { build(node, {x, w}); }, "strides");
  }
  {
    graph::Node node = make_node("Conv", 2);
    node.attrs["pads"] = ints_attr({1, 1, 1});
    expect_error([&] { build(node, {x, w}); }, "pads");
  }
  {
    graph::Node node = make_node("Conv", 2);
    node.attrs["auto_pad"] = string_attr("SAME");
    expect_error([&] { build(node, {x, w}); }, "auto_pad");
  }
  {
    graph::Node node = make_node("Conv", 3);
    expect_error([&] { build(node, {x, w, Tensor::zeros(DataType::kFloat32, {3})}); }, "bias");
  }
  {
    graph::Node node = make_node("ConvTranspose", 2);
    node.attrs["group"] = int_attr(3);
    expect_error([&] { build(node, {x, w}); }, "group 3 does not divide");
  }
}

TEST(ConvOp, RunTimeErrorsNameTheNode) {
  const Tensor w = Tensor::zeros(DataType::kFloat32, {4, 2, 3, 3});
  graph::Node node = make_node("Conv", 2);
  // Weights not constant: the checks happen on run.
  expect_error([&] { run_op(node, {Tensor::zeros(DataType::kFloat32, {1, 3, 8, 8}), w}); }, "channels");
  expect_error([&] { run_op(node, {Tensor::zeros(DataType::kFloat32, {1, 2, 8}), w}); }, "rank");
  expect_error([&] { run_op(node, {Tensor::zeros(DataType::kFloat32, {1, 2, 2, 8}), w}); }, "window");
  node.attrs["group"] = int_attr(3);
  expect_error([&] { run_op(node, {Tensor::zeros(DataType::kFloat32, {1, 6, 8, 8}), w}); }, "group 3");
}

// ---------------------------------------------------------------- ConvTranspose

struct ConvTransposeCase {
  ConvCase conv;                        // in = ConvTranspose input dims; pads used when mode is "pads"
  std::vector<int64_t> output_padding;  // empty = absent
  std::vector<int64_t> output_shape;    // empty = absent
  std::string describe() const {
    return conv.describe() + " output_padding=" + list(output_padding) + " output_shape=" + list(output_shape);
  }
};

// Begin pads and output dims per the ONNX ConvTranspose spec.
void transpose_geometry(const ConvTransposeCase& t, std::vector<int64_t>* pad_begin, std::vector<int64_t>* out) {
  const ConvCase& c = t.conv;
  pad_begin->clear();
  out->clear();
  for (size_t i = 0; i < c.rank(); ++i) {
    const int64_t extra = t.output_padding.empty() ? 0 : t.output_padding[i];
    const int64_t full = c.strides[i] * (c.in[i] - 1) + extra + c.dilations[i] * (c.kernel[i] - 1) + 1;
    const bool same = c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER";
    if (!t.output_shape.empty() || same) {
      const int64_t o = t.output_shape.empty() ? c.in[i] * c.strides[i] : t.output_shape[i];
      const int64_t total = std::max<int64_t>(0, full - o);
      pad_begin->push_back(c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2);
      out->push_back(o);
    } else {
      pad_begin->push_back(c.pads[i]);
      out->push_back(full - c.pads[i] - c.pads[i + c.rank()]);
    }
  }
}

// Scatter form: every input element adds its weighted kernel into the output.
Tensor reference_conv_transpose(const ConvTransposeCase& t, const Tensor& x, const Tensor& w, const Tensor* b) {
  const ConvCase& c = t.conv;
  std::vector<int64_t> pad_begin, out;
  transpose_geometry(t, &pad_begin, &out);
  Shape y_shape = {c.batch, c.out_channels};
  y_shape.insert(y_shape.end(), out.begin(), out.end());
  Tensor y = Tensor::zeros(DataType::kFloat32, y_shape);
  const int64_t in_group = c.in_channels / c.group, out_group = c.out_channels / c.group;
  const int64_t in_size = product(c.in), out_size = product(out), taps = product(c.kernel);
  const std::vector<int64_t> out_strides = strides_of(out);
  float* yp = y.data<float>();
  for (int64_t n = 0; n < c.batch; ++n)
    for (int64_t oc = 0; oc < c.out_channels; ++oc)
      for (int64_t o = 0; o < out_size; ++o) yp[(n * c.out_channels + oc) * out_size + o] = b ? b->data<float>()[oc] : 0;
  for (int64_t n = 0; n < c.batch; ++n)
    for (int64_t ci = 0; ci < c.in_channels; ++ci) {
      const int64_t grp = ci / in_group;
      for (int64_t i = 0; i < in_size; ++i) {
        const std::vector<int64_t> ico = unflatten(i, c.in);
        const float xv = x.data<float>()[(n * c.in_channels + ci) * in_size + i];
        for (int64_t og = 0; og < out_group; ++og)
          for (int64_t tap = 0; tap < taps; ++tap) {
            const std::vector<int64_t> k = unflatten(tap, c.kernel);
            int64_t at = 0;
            bool inside = true;
            for (size_t d = 0; d < c.rank(); ++d) {
              const int64_t pos = ico[d] * c.strides[d] - pad_begin[d] + k[d] * c.dilations[d];
              inside = inside && pos >= 0 && pos < out[d];
              at += pos * out_strides[d];
            }
            if (!inside) continue;
            const int64_t oc = grp * out_group + og;
            yp[(n * c.out_channels + oc) * out_size + at] += xv * w.data<float>()[(ci * out_group + og) * taps + tap];
          }
      }
    }
  return y;
}

void check_conv_transpose(const ConvTransposeCase& t, std::mt19937& rng) {
  const ConvCase& c = t.conv;
  Shape x_shape = {c.batch, c.in_channels}, w_shape = {c.in_channels, c.out_channels / c.group};
  x_shape.insert(x_shape.end(), c.in.begin(), c.in.end());
  w_shape.insert(w_shape.end(), c.kernel.begin(), c.kernel.end());
  const Tensor x = random_integer_floats(x_shape, -3, 3, rng);
  const Tensor w = random_integer_floats(w_shape, -2, 2, rng);
  const Tensor b = random_integer_floats({c.out_channels}, -5, 5, rng);
  graph::Node node = conv_node(c);
  node.op_type = "ConvTranspose";
  if (!t.output_padding.empty()) node.attrs["output_padding"] = ints_attr(t.output_padding);
  if (!t.output_shape.empty()) {
    node.attrs["output_shape"] = ints_attr(t.output_shape);
    node.attrs.erase("pads");
  }
  std::vector<Tensor> inputs = {x, w};
  if (c.bias) inputs.push_back(b);
  const std::vector<Tensor> got = run_op(node, inputs, c.constant_weights, c.threads);
  expect_equal(got[0], reference_conv_transpose(t, x, w, c.bias ? &b : nullptr), t.describe());
}

TEST(ConvTransposeOp, HandCheckedStrideTwo) {
  // 1-D: x = [1, 2], kernel [1, 10, 100], stride 2: x0*k at 0..2, x1*k at 2..4.
  graph::Node node = make_node("ConvTranspose", 2);
  node.attrs["strides"] = ints_attr({2});
  const Tensor x = Tensor::from_floats({1, 1, 2}, {1, 2});
  const Tensor w = Tensor::from_floats({1, 1, 3}, {1, 10, 100});
  expect_equal(run_op(node, {x, w})[0], Tensor::from_floats({1, 1, 5}, {1, 10, 102, 20, 200}), "1-D");
}

TEST(ConvTransposeOp, RandomizedAgainstScatterLoops) {
  std::mt19937 rng(424242);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int checked = 0;
  while (checked < 500) {
    ConvTransposeCase t;
    ConvCase& c = t.conv;
    const int rank = std::vector<int>{1, 2, 2, 3}[pick(0, 3)];
    for (int i = 0; i < rank; ++i) {
      c.in.push_back(pick(1, rank == 3 ? 5 : 9));
      c.kernel.push_back(pick(1, rank == 3 ? 3 : 4));
      c.strides.push_back(pick(1, 3));
      c.dilations.push_back(pick(1, 2));
    }
    for (int i = 0; i < 2 * rank; ++i) c.pads.push_back(pick(0, 2));
    if (pick(0, 2) == 0)
      for (int i = 0; i < rank; ++i) t.output_padding.push_back(pick(0, static_cast<int>(std::max(c.strides[i], c.dilations[i]) - 1)));
    const int mode = pick(0, 5);
    if (mode == 4) c.auto_pad = pick(0, 1) ? "SAME_UPPER" : "SAME_LOWER";
    if (mode == 5) {  // output_shape within a few positions of the unpadded size
      for (int i = 0; i < rank; ++i) {
        const int64_t extra = t.output_padding.empty() ? 0 : t.output_padding[i];
        const int64_t full = c.strides[i] * (c.in[i] - 1) + extra + c.dilations[i] * (c.kernel[i] - 1) + 1;
        t.output_shape.push_back(std::max<int64_t>(1, full - pick(-1, 3)));
      }
      if (pick(0, 1)) c.auto_pad = "SAME_UPPER";
    }
    c.group = pick(1, 3);
    c.in_channels = c.group * pick(1, 3);
    c.out_channels = c.group * pick(1, 3);
    c.batch = pick(1, 2);
    c.bias = pick(0, 1) == 1;
    c.kernel_shape_attr = pick(0, 1) == 1;
    c.constant_weights = pick(0, 1) == 1;
    c.threads = pick(1, 2);
    std::vector<int64_t> pad_begin, out;
    transpose_geometry(t, &pad_begin, &out);
    if (std::find_if(out.begin(), out.end(), [](int64_t o) { return o < 1; }) != out.end()) continue;
    check_conv_transpose(t, rng);
    if (::testing::Test::HasFailure()) return;
    ++checked;
  }
}

// Kernel == stride, no pads or dilation: every output element comes from one
// (input position, tap), the path that stores columns straight to the output.
TEST(ConvTransposeOp, RandomizedTilingKernels) {
  std::mt19937 rng(77);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int checked = 0; checked < 120; ++checked) {
    ConvTransposeCase t;
    ConvCase& c = t.conv;
    const int rank = pick(1, 3);
    for (int i = 0; i < rank; ++i) {
      c.in.push_back(pick(1, rank == 3 ? 5 : 17));
      c.kernel.push_back(pick(1, 3));
      c.strides.push_back(c.kernel.back());
      c.dilations.push_back(1);
    }
    c.pads.assign(2 * rank, 0);
    c.group = pick(1, 2);
    c.in_channels = c.group * pick(1, 3);
    c.out_channels = c.group * pick(1, 4);
    c.batch = pick(1, 2);
    c.bias = pick(0, 1) == 1;
    c.constant_weights = pick(0, 1) == 1;
    c.threads = pick(1, 2);
    check_conv_transpose(t, rng);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(ConvTransposeOp, ColumnTiles) {
  // rows = 8 * 4 = 32 column rows -> 8192-position tiles; 100x100 input splits in two.
  std::mt19937 rng(5);
  ConvTransposeCase t;
  ConvCase& c = t.conv;
  c.in_channels = 3;
  c.out_channels = 8;
  c.in = {100, 100};
  c.kernel = {2, 2};
  c.strides = {2, 2};
  c.dilations = {1, 1};
  c.pads = {0, 0, 0, 0};
  c.bias = true;
  c.threads = 2;
  check_conv_transpose(t, rng);
}

}  // namespace
}  // namespace kiln::testing
