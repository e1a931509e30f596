// MaxPool / AveragePool / global pools against direct loops written here.
// Inputs are small integers: max is exact, and the average's sum is exact,
// so the stated tolerance is 1e-6 relative (one float rounding of the mean).
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "nn_test_util.h"
#include "op_test_util.h"

namespace kiln::testing {
namespace {

std::string list(const std::vector<int64_t>& v) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
  return out.str() + "]";
}

struct PoolCase {
  int64_t batch = 1, channels = 1;
  std::vector<int64_t> in, kernel, strides, dilations, pads;
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
  bool count_include_pad = false;
  int threads = 1;
  size_t rank() const { return in.size(); }
  std::string describe() const {
    std::ostringstream out;
    out << "N=" << batch << " C=" << channels << " in=" << list(in) << " kernel=" << list(kernel)
        << " strides=" << list(strides) << " dilations=" << list(dilations) << " pads=" << list(pads)
        << " auto_pad=" << auto_pad << " ceil_mode=" << ceil_mode << " count_include_pad=" << count_include_pad
        << " threads=" << threads;
    return out.str();
  }
};

// Pads (begin, end) and output dims per the ONNX spec; false if the window
// does not fit.
bool pool_geometry(const PoolCase& c, std::vector<int64_t>* begin, std::vector<int64_t>* end,
                   std::vector<int64_t>* out) {
  begin->clear();
  end->clear();
  out->clear();
  for (size_t i = 0; i < c.rank(); ++i) {
    const int64_t extent = c.dilations[i] * (c.kernel[i] - 1) + 1;
    int64_t pb = 0, pe = 0, o = 0;
    if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
      o = (c.in[i] + c.strides[i] - 1) / c.strides[i];
      const int64_t total = std::max<int64_t>(0, (o - 1) * c.strides[i] + extent - c.in[i]);
      pb = c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      if (c.auto_pad == "NOTSET") {
        pb = c.pads[i];
        pe = c.pads[i + c.rank()];
      }
      const int64_t span = c.in[i] + pb + pe - extent;
      if (span < 0) return false;
      o = c.ceil_mode ? (span + c.strides[i] - 1) / c.strides[i] + 1 : span / c.strides[i] + 1;
      if (c.ceil_mode && (o - 1) * c.strides[i] >= c.in[i] + pb) --o;  // last window starts in the padded input
    }
    begin->push_back(pb);
    end->push_back(pe);
    out->push_back(o);
  }
  return true;
}

// Visits, for one output position, every tap's input position (-1 when in
// padding) and whether it lies inside input + pads.
void for_each_tap(const PoolCase& c, const std::vector<int64_t>& out_coord, const std::vector<int64_t>& begin,
                  const std::vector<int64_t>& end, const std::function<void(int64_t, bool)>& visit) {
  int64_t taps = 1;
  for (int64_t k : c.kernel) taps *= k;
  for (int64_t t = 0; t < taps; ++t) {
    int64_t rest = t, at = 0, scale = 1;
    bool inside = true, inside_padded = true;
    for (size_t i = c.rank(); i-- > 0;) {
      const int64_t k = rest % c.kernel[i];
      rest /= c.kernel[i];
      const int64_t pos = out_coord[i] * c.strides[i] - begin[i] + k * c.dilations[i];
      inside = inside && pos >= 0 && pos < c.in[i];
      inside_padded = inside_padded && pos >= -begin[i] && pos < c.in[i] + end[i];
      at += pos * scale;
      scale *= c.in[i];
    }
    visit(inside ? at : -1, inside_padded);
  }
}

Tensor reference_pool(const PoolCase& c, const Tensor& x, bool max) {
  std::vector<int64_t> begin, end, out;
  pool_geometry(c, &begin, &end, &out);
  Shape y_shape = {c.batch, c.channels};
  y_shape.insert(y_shape.end(), out.begin(), out.end());
  Tensor y(DataType::kFloat32, y_shape);
  int64_t in_size = 1, out_size = 1;
  for (int64_t d : c.in) in_size *= d;
  for (int64_t d : out) out_size *= d;
  for (int64_t plane = 0; plane < c.batch * c.channels; ++plane) {
    const float* xp = x.data<float>() + plane * in_size;
    for (int64_t o = 0; o < out_size; ++o) {
      std::vector<int64_t> coord(c.rank());
      for (size_t i = c.rank(), rest = static_cast<size_t>(o); i-- > 0;) {
        coord[i] = static_cast<int64_t>(rest) % out[i];
        rest /= static_cast<size_t>(out[i]);
      }
      double best = -std::numeric_limits<double>::infinity(), sum = 0;
      int64_t valid = 0, padded = 0;
      for_each_tap(c, coord, begin, end, [&](int64_t at, bool inside_padded) {
        padded += inside_padded;
        if (at < 0) return;
        ++valid;
        best = std::max<double>(best, xp[at]);
        sum += xp[at];
      });
      const double mean = sum / static_cast<double>(c.count_include_pad ? padded : valid);
      y.data<float>()[plane * out_size + o] = static_cast<float>(max ? best : mean);
    }
  }
  return y;
}

graph::Node pool_node(const std::string& op, const PoolCase& c) {
  graph::Node node = make_node(op, 1);
  node.attrs["kernel_shape"] = ints_attr(c.kernel);
  node.attrs["strides"] = ints_attr(c.strides);
  if (op == "MaxPool") node.attrs["dilations"] = ints_attr(c.dilations);
  if (c.auto_pad == "NOTSET") node.attrs["pads"] = ints_attr(c.pads);
  else node.attrs["auto_pad"] = string_attr(c.auto_pad);
  if (c.ceil_mode) node.attrs["ceil_mode"] = int_attr(1);
  if (op == "AveragePool" && c.count_include_pad) node.attrs["count_include_pad"] = int_attr(1);
  return node;
}

TEST(PoolOp, HandCheckedMaxAndAverage) {
  const Tensor x = Tensor::from_floats({1, 1, 4, 4}, {1, 2, 3, 4,  //
                                                      5, 6, 7, 8,  //
                                                      9, 10, 11, 12,  //
                                                      13, 14, 15, 16});
  graph::Node max_node = make_node("MaxPool", 1);
  max_node.attrs["kernel_shape"] = ints_attr({2, 2});
  max_node.attrs["strides"] = ints_attr({2, 2});
  expect_equal(run_op(max_node, {x})[0], Tensor::from_floats({1, 1, 2, 2}, {6, 8, 14, 16}), "max 2x2/2");

  // 3x3 windows, pad 1, stride 2: corners see 2x2 (or 2x3...) real values.
  graph::Node avg = make_node("AveragePool", 1);
  avg.attrs["kernel_shape"] = ints_attr({3, 3});
  avg.attrs["strides"] = ints_attr({2, 2});
  avg.attrs["pads"] = ints_attr({1, 1, 1, 1});
  // Output (0,0): window rows -1..1, cols -1..1 -> {1,2,5,6}: mean 3.5, or 14/9 with padding counted.
  // Output (0,1): rows -1..1, cols 1..3 -> {2,3,4,6,7,8}: mean 5, or 30/9.
  // Output (1,0): rows 1..3, cols -1..1 -> {5,6,9,10,13,14}: mean 9.5, or 57/9.
  // Output (1,1): rows 1..3, cols 1..3 -> {6,7,8,10,11,12,14,15,16}: mean 11.
  expect_close(run_op(avg, {x})[0], Tensor::from_floats({1, 1, 2, 2}, {3.5f, 5, 9.5f, 11}), 0, 1e-6, "avg");
  avg.attrs["count_include_pad"] = int_attr(1);
  expect_close(run_op(avg, {x})[0], Tensor::from_floats({1, 1, 2, 2}, {14.f / 9, 30.f / 9, 57.f / 9, 11}), 0, 1e-6,
               "avg count_include_pad");
}

TEST(PoolOp, MaxPoolIndicesRowAndColumnMajor) {
  // Two planes of 2x3; 2x2 windows, stride 1 -> 1x2 outputs per plane.
  const Tensor x = Tensor::from_floats({1, 2, 2, 3}, {1, 9, 2,  //
                                                      3, 4, 8,  //
                                                      7, 1, 1,  //
                                                      1, 1, 6});
  graph::Node node = make_node("MaxPool", 1, 2);
  node.attrs["kernel_shape"] = ints_attr({2, 2});
  std::vector<Tensor> got = run_op(node, {x});
  expect_equal(got[0], Tensor::from_floats({1, 2, 1, 2}, {9, 9, 7, 6}), "values");
  // Row-major flat positions (plane offset 6 for the second plane): 9 at (0,1) -> 1; 7 at (0,0) -> 6; 6 at (1,2) -> 11.
  expect_equal(got[1], Tensor::from_int64s({1, 2, 1, 2}, {1, 1, 6, 11}), "row-major indices");
  node.attrs["storage_order"] = int_attr(1);
  got = run_op(node, {x});
  // Column-major: h + w * H -> (0,1) -> 2; (0,0) -> 0 + 6; (1,2) -> 1 + 2 * 2 + 6 = 11.
  expect_equal(got[1], Tensor::from_int64s({1, 2, 1, 2}, {2, 2, 6, 11}), "column-major indices");
}

TEST(PoolOp, MaxPoolUint8) {
  Tensor x(DataType::kUInt8, {1, 1, 1, 4});
  const uint8_t values[] = {3, 250, 7, 7};
  std::copy(values, values + 4, x.data<uint8_t>());
  graph::Node node = make_node("MaxPool", 1);
  node.attrs["kernel_shape"] = ints_attr({1, 2});
  node.attrs["strides"] = ints_attr({1, 2});
  const Tensor y = run_op(node, {x})[0];
  ASSERT_EQ(y.dtype(), DataType::kUInt8);
  EXPECT_EQ(y.data<uint8_t>()[0], 250);
  EXPECT_EQ(y.data<uint8_t>()[1], 7);
}

TEST(PoolOp, RandomizedAgainstDirectLoops) {
  std::mt19937 rng(31337);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int checked = 0;
  while (checked < 600) {
    PoolCase c;
    const int rank = std::vector<int>{1, 2, 2, 3}[pick(0, 3)];
    for (int i = 0; i < rank; ++i) {
      c.in.push_back(pick(1, rank == 3 ? 7 : 15));
      c.kernel.push_back(pick(1, 4));
      c.strides.push_back(pick(1, 3));
      c.dilations.push_back(pick(1, 2));
    }
    for (int i = 0; i < 2 * rank; ++i) c.pads.push_back(pick(0, static_cast<int>(c.kernel[i % rank]) - 1));
    const int mode = pick(0, 9);
    c.auto_pad = mode < 6 ? "NOTSET" : mode == 6 ? "SAME_UPPER" : mode == 7 ? "SAME_LOWER" : "VALID";
    c.ceil_mode = pick(0, 1) == 1;
    c.count_include_pad = pick(0, 1) == 1;
    c.batch = pick(1, 2);
    c.channels = pick(1, 3);
    c.threads = pick(1, 2);
    const bool max = pick(0, 1) == 1;
    if (!max) c.dilations.assign(c.rank(), 1);  // AveragePool has dilations only from opset 19
    std::vector<int64_t> begin, end, out;
    if (!pool_geometry(c, &begin, &end, &out)) continue;
    Shape x_shape = {c.batch, c.channels};
    x_shape.insert(x_shape.end(), c.in.begin(), c.in.end());
    const Tensor x = random_integer_floats(x_shape, -50, 50, rng);
    const std::string op = max ? "MaxPool" : "AveragePool";
    const Tensor got = run_op(pool_node(op, c), {x}, false, c.threads)[0];
    expect_close(got, reference_pool(c, x, max), 0, 1e-6, op + " " + c.describe());
    if (::testing::Test::HasFailure()) return;
    ++checked;
  }
}

TEST(PoolOp, GlobalPools) {
  std::mt19937 rng(3);
  const Tensor x = random_floats({2, 3, 5, 7}, -1, 1, rng);
  const Tensor avg = run_op(make_node("GlobalAveragePool", 1), {x})[0];
  const Tensor max = run_op(make_node("GlobalMaxPool", 1), {x})[0];
  Tensor want_avg(DataType::kFloat32, {2, 3, 1, 1}), want_max(DataType::kFloat32, {2, 3, 1, 1});
  for (int64_t p = 0; p < 6; ++p) {
    double sum = 0;
    float best = -2;
    for (int64_t i = 0; i < 35; ++i) {
      sum += x.data<float>()[p * 35 + i];
      best = std::max(best, x.data<float>()[p * 35 + i]);
    }
    want_avg.data<float>()[p] = static_cast<float>(sum / 35);
    want_max.data<float>()[p] = best;
  }
  expect_close(avg, want_avg, 0, 1e-6, "GlobalAveragePool");
  expect_equal(max, want_max, "GlobalMaxPool");
}

TEST(PoolOp, ErrorsNameTheNode) {
  const Tensor x = Tensor::zeros(DataType::kFloat32, {1, 1, 4, 4});
  auto expect_error = [&](graph::Node node, const std::string& fragment) {
    try {
      run_op(node, {x});
      ADD_FAILURE() << "expected an error containing " << fragment;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(node.describe()), std::string::npos) << message;
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
    }
  };
  expect_error(make_node("MaxPool", 1), "kernel_shape");
  graph::Node wrong_rank = make_node("AveragePool", 1);
  wrong_rank.attrs["kernel_shape"] = ints_attr({2});
  expect_error(wrong_rank, "rank");
  graph::Node too_big = make_node("MaxPool", 1);
  too_big.attrs["kernel_shape"] = ints_attr({5, 5});
  expect_error(too_big, "window");
  graph::Node bad_order = make_node("MaxPool", 1);
  bad_order.attrs["kernel_shape"] = ints_attr({2, 2});
  bad_order.attrs["storage_order"] = int_attr(2);
  expect_error(bad_order, "storage_order");
}

}  // namespace
}  // namespace kiln::testing
