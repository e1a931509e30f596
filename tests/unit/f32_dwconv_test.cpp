// The depthwise convolution kernels of kernels/f32_dwconv.h against their
// reference twin, f32_conv_depthwise_plane, for every kernel of the
// inventory this CPU can run (the others are reported as skipped).
//
// Tolerances:
//   - Integer-valued data (inputs in [-8, 8], weights in [-4, 4], bias in
//     [-8, 8], activation parameters powers of two): every sum and every
//     activation except sigmoid and swish is exact in float, so those must
//     match exactly (tolerance 0), FMA or not.
//   - Random real data: the kernels add the taps in the reference's order,
//     but with FMA (avx2, avx512) each step rounds once instead of twice, so
//     the pre-activation values differ by at most E = (taps + 1) * eps * M,
//     M = |bias| + sum |w| |x| over the taps (computed by the reference on
//     absolute values). The activation adds Lip(f) * E, where Lip(f) is the
//     activation's Lipschitz bound near the value, plus its own rounding:
//     8 eps * (|y| + |v| * (1 + |param0 v| + |param1|)) for pre-activation v.
//   - sigmoid and swish use a polynomial exp (about 2 ulp): covered by the
//     8 eps term; below exp(-87) the kernel's exp stops at 1.6e-38, which
//     the absolute floor 1e-37 * (1 + |v|) covers.
// Every run also checks that nothing outside the output plane or the
// scratch was written (sentinels), and puts the input against a guard page
// so any read past its end (or before its start) faults.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/f32_dwconv.h"
#include "kernels/conv_depthwise.h"
#include "kiln/session.h"
#include "model_builder.h"
#include "op_test_util.h"
#include "platform/cpu_info.h"

namespace kiln::testing {
namespace {

using kernels::Activation;
using kernels::F32DwconvEpilogue;
using kernels::F32DwconvKernel;
using kernels::WindowGeometry;

constexpr float kEps = std::numeric_limits<float>::epsilon();

constexpr Activation kAllActivations[] = {Activation::none,         Activation::relu,
                                          Activation::clip,         Activation::leaky_relu,
                                          Activation::hard_sigmoid, Activation::hard_swish,
                                          Activation::sigmoid,      Activation::swish};

bool exact_in_float(Activation kind) { return kind != Activation::sigmoid && kind != Activation::swish; }

// An activation with its parameters (the bias of the epilogue is set per case).
struct ActivationSpec {
  Activation kind = Activation::none;
  float param0 = 0.0f, param1 = 0.0f;
  F32DwconvEpilogue with_bias(float bias) const { return {bias, kind, param0, param1}; }
};

// Parameters that keep integer-valued data exact, or typical real ones.
ActivationSpec make_activation(Activation kind, bool integer_data) {
  switch (kind) {
    case Activation::clip: return integer_data ? ActivationSpec{kind, -10.0f, 12.0f} : ActivationSpec{kind, -0.5f, 0.8f};
    case Activation::leaky_relu: return {kind, integer_data ? 0.25f : 0.1f, 0.0f};
    case Activation::hard_sigmoid: return {kind, integer_data ? 0.125f : 0.2f, 0.5f};
    case Activation::hard_swish: return {kind, integer_data ? 0.125f : 1.0f / 6.0f, 0.5f};
    default: return {kind, 0.0f, 0.0f};
  }
}

// A float array whose first or last element touches an inaccessible page.
class GuardedFloats {
 public:
  GuardedFloats(size_t count, bool flush_with_end) : count_(count) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t data_pages = (count * sizeof(float) + page - 1) / page;
    bytes_ = (data_pages + 2) * page;
    void* mapping = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(mapping);
    mprotect(base_, page, PROT_NONE);
    mprotect(base_ + (data_pages + 1) * page, page, PROT_NONE);
    char* first = flush_with_end ? base_ + (data_pages + 1) * page - count * sizeof(float) : base_ + page;
    data_ = reinterpret_cast<float*>(first);
  }
  ~GuardedFloats() { munmap(base_, bytes_); }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;

  float* data() { return data_; }
  size_t size() const { return count_; }

 private:
  size_t count_, bytes_;
  char* base_;
  float* data_;
};

// A bit pattern no kernel computes: a NaN with a payload.
constexpr uint32_t kSentinelBits = 0x7fc0dead;
float sentinel() { return std::bit_cast<float>(kSentinelBits); }
bool is_sentinel(float v) { return std::bit_cast<uint32_t>(v) == kSentinelBits; }

struct DwconvCase {
  int kernel = 3, stride = 1;
  int64_t in_h = 1, in_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  ActivationSpec activation;
  bool integer_data = true;
  uint32_t seed = 1;
  int64_t output_offset = 0;  // floats between the start of the buffer's guard and the output (alignment)
  bool input_flush_with_end = true;

  WindowGeometry geometry() const {
    WindowGeometry g;
    g.in[1] = in_h, g.in[2] = in_w;
    g.kernel[1] = g.kernel[2] = kernel;
    g.stride[1] = g.stride[2] = stride;
    g.pad_begin[1] = pad_top, g.pad_begin[2] = pad_left;
    g.pad_end[1] = pad_bottom, g.pad_end[2] = pad_right;
    g.out[1] = (in_h + pad_top + pad_bottom - kernel) / stride + 1;
    g.out[2] = (in_w + pad_left + pad_right - kernel) / stride + 1;
    return g;
  }
  // Whether the window fits in the padded input (otherwise Conv rejects it).
  bool valid() const { return in_h + pad_top + pad_bottom >= kernel && in_w + pad_left + pad_right >= kernel; }

  std::string describe() const {
    std::ostringstream out;
    out << kernel << "x" << kernel << " stride " << stride << " input " << in_h << "x" << in_w << " pads (t,l,b,r) "
        << pad_top << "," << pad_left << "," << pad_bottom << "," << pad_right << " activation "
        << kernels::activation_name(activation.kind) << "(" << activation.param0 << ", " << activation.param1
        << ") " << (integer_data ? "integer" : "real") << " data seed " << seed << " output offset " << output_offset
        << " input " << (input_flush_with_end ? "ends at" : "starts at") << " a guard page";
    return out.str();
  }
};

// An upper bound of |f'| near pre-activation v (error E), see the file comment.
double lipschitz(const ActivationSpec& a, double v, double error) {
  switch (a.kind) {
    case Activation::leaky_relu: return std::max(1.0, std::fabs(double{a.param0}));
    case Activation::hard_sigmoid: return std::fabs(a.param0);
    case Activation::hard_swish: return 1.0 + 2.0 * std::fabs(a.param0) * (std::fabs(v) + error) + std::fabs(a.param1);
    case Activation::sigmoid: return 0.25;
    case Activation::swish: return 1.1;
    default: return 1.0;
  }
}

// Runs `kernel` on one case and compares it with the reference. Returns
// false (after a loud failure) on the first mismatch.
bool check_case(const F32DwconvKernel& kernel, const DwconvCase& c) {
  SCOPED_TRACE(std::string(kernel.name) + ": " + c.describe());
  const WindowGeometry g = c.geometry();
  const int taps = c.kernel * c.kernel;
  std::mt19937 rng(c.seed);
  GuardedFloats input(static_cast<size_t>(g.input_size()), c.input_flush_with_end);
  std::vector<float> weights(taps);
  float bias;
  if (c.integer_data) {
    auto integer = [&](int limit) { return float(std::uniform_int_distribution<int>(-limit, limit)(rng)); };
    for (size_t i = 0; i < input.size(); ++i) input.data()[i] = integer(8);
    for (float& w : weights) w = integer(4);
    bias = integer(8);
  } else {
    auto real = [&](float limit) { return std::uniform_real_distribution<float>(-limit, limit)(rng); };
    for (size_t i = 0; i < input.size(); ++i) input.data()[i] = real(2.0f);
    for (float& w : weights) w = real(1.0f);
    bias = real(1.0f);
  }

  const size_t out_size = static_cast<size_t>(g.output_size());
  std::vector<float> expected(out_size), pre_activation(out_size), magnitude(out_size);
  kernels::f32_conv_depthwise_plane(g, input.data(), weights.data(), c.activation.with_bias(bias), expected.data());
  kernels::f32_conv_depthwise_plane(g, input.data(), weights.data(), F32DwconvEpilogue{bias}, pre_activation.data());
  {
    std::vector<float> abs_input(input.data(), input.data() + input.size()), abs_weights(weights);
    for (float& v : abs_input) v = std::fabs(v);
    for (float& v : abs_weights) v = std::fabs(v);
    kernels::f32_conv_depthwise_plane(g, abs_input.data(), abs_weights.data(), F32DwconvEpilogue{std::fabs(bias)},
                                      magnitude.data());
  }

  constexpr size_t kGuard = 64;
  std::vector<float> output_buffer(out_size + 2 * kGuard + c.output_offset, sentinel());
  float* output = output_buffer.data() + kGuard + c.output_offset;
  const size_t scratch_floats = static_cast<size_t>(kernels::f32_dwconv_scratch_floats(g));
  std::vector<float> scratch_buffer(scratch_floats + 2 * kGuard, sentinel());
  kernel.run(g, input.data(), weights.data(), c.activation.with_bias(bias), output, scratch_buffer.data() + kGuard);

  for (size_t i = 0; i < kGuard + c.output_offset; ++i)
    if (!is_sentinel(output_buffer[i])) {
      ADD_FAILURE() << "wrote " << (kGuard + c.output_offset - i) << " floats before the output plane";
      return false;
    }
  for (size_t i = 0; i < kGuard; ++i)
    if (!is_sentinel(output[out_size + i])) {
      ADD_FAILURE() << "wrote float " << i << " past the end of the output plane";
      return false;
    }
  for (size_t i = 0; i < kGuard; ++i)
    if (!is_sentinel(scratch_buffer[i]) || !is_sentinel(scratch_buffer[kGuard + scratch_floats + i])) {
      ADD_FAILURE() << "wrote outside the " << scratch_floats << " floats of scratch";
      return false;
    }

  const ActivationSpec& a = c.activation;
  for (size_t i = 0; i < out_size; ++i) {
    const double v = pre_activation[i], y = expected[i];
    double bound = 0.0;
    if (!c.integer_data || !exact_in_float(a.kind)) {
      const double sum_error = c.integer_data ? 0.0 : (taps + 1) * kEps * magnitude[i];
      const double own_rounding =
          8 * kEps * (std::fabs(y) + std::fabs(v) * (1 + std::fabs(a.param0 * v) + std::fabs(a.param1)));
      bound = lipschitz(a, v, sum_error) * sum_error + own_rounding;
      if (!exact_in_float(a.kind)) bound += 1e-37 * (1 + std::fabs(v));
    }
    const double got = output[i];
    if (!(std::fabs(got - y) <= bound)) {
      ADD_FAILURE() << "output row " << i / g.out[2] << " column " << i % g.out[2] << " (plane " << g.out[1] << "x"
                    << g.out[2] << "): got " << got << ", reference " << y << " (pre-activation " << v
                    << "), tolerance " << bound;
      return false;
    }
  }
  return true;
}

// Input sizes: 1..40, each vector-block size (4 vectors of 4, 8, 16 lanes)
// + 1, + 3, + 7 in output columns (times the stride in input columns), and
// some primes.
std::vector<int64_t> sweep_sizes(int stride) {
  std::vector<int64_t> sizes;
  for (int64_t s = 1; s <= 40; ++s) sizes.push_back(s);
  for (int64_t block : {16, 32, 64})
    for (int64_t extra : {1, 3, 7}) sizes.push_back((block + extra) * stride);
  for (int64_t prime : {41, 43, 53, 61, 67, 97, 131}) sizes.push_back(prime);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

class F32DwconvKernelTest : public ::testing::TestWithParam<size_t> {
 protected:
  const F32DwconvKernel& kernel() const { return kernels::f32_dwconv_kernels()[GetParam()]; }
  void SetUp() override {
    if (!cpu_info().supports(kernel().isa))
      GTEST_SKIP() << kernel().name << " needs " << isa_name(kernel().isa) << ", which this CPU (" << cpu_info().brand
                   << ") or its OS does not support";
  }

  // Every size of sweep_sizes for one spatial dim (the other random in
  // 1..40) with every pad combination 0..2 on each side, cycling through the
  // activations.
  void sweep(bool sweep_width, bool integer_data, uint32_t seed) {
    std::mt19937 rng(seed);
    int cases = 0;
    for (int64_t size : sweep_sizes(kernel().stride)) {
      for (int pads = 0; pads < 81; ++pads) {
        DwconvCase c;
        c.kernel = kernel().kernel_size;
        c.stride = kernel().stride;
        const int64_t other = std::uniform_int_distribution<int64_t>(1, 40)(rng);
        c.in_w = sweep_width ? size : other;
        c.in_h = sweep_width ? other : size;
        c.pad_top = pads % 3, c.pad_left = pads / 3 % 3, c.pad_bottom = pads / 9 % 3, c.pad_right = pads / 27;
        c.activation = make_activation(kAllActivations[cases % 8], integer_data);
        c.integer_data = integer_data;
        c.seed = static_cast<uint32_t>(rng());
        c.output_offset = cases % 4;
        c.input_flush_with_end = cases % 5 != 0;
        ++cases;
        if (!c.valid()) continue;
        if (!check_case(kernel(), c)) return;
      }
    }
  }
};

TEST_P(F32DwconvKernelTest, WidthSweepExactOnIntegerData) { sweep(true, true, 101); }
TEST_P(F32DwconvKernelTest, HeightSweepExactOnIntegerData) { sweep(false, true, 202); }
TEST_P(F32DwconvKernelTest, WidthSweepOnRealData) { sweep(true, false, 303); }
TEST_P(F32DwconvKernelTest, HeightSweepOnRealData) { sweep(false, false, 404); }

// Random shapes on real data, every activation, with plane sizes up to 150.
TEST_P(F32DwconvKernelTest, RandomShapesOnRealData) {
  std::mt19937 rng(505);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int i = 0; i < 400; ++i) {
    DwconvCase c;
    c.kernel = kernel().kernel_size;
    c.stride = kernel().stride;
    c.in_h = pick(1, 150), c.in_w = pick(1, 150);
    c.pad_top = pick(0, 2), c.pad_left = pick(0, 2), c.pad_bottom = pick(0, 2), c.pad_right = pick(0, 2);
    c.activation = make_activation(kAllActivations[i % 8], false);
    c.integer_data = false;
    c.seed = static_cast<uint32_t>(rng());
    c.output_offset = pick(0, 3);
    c.input_flush_with_end = pick(0, 1) == 1;
    if (!c.valid()) continue;
    if (!check_case(kernel(), c)) return;
  }
}

// Pads as large as or larger than the window: whole output rows and columns
// that see only padding (output = f(bias)), on both sides.
TEST_P(F32DwconvKernelTest, PadsWiderThanTheWindow) {
  uint32_t seed = 606;
  for (int64_t pad : {3, 5, 6, 9}) {
    for (int64_t in : {1, 2, 7, 20}) {
      for (Activation kind : {Activation::none, Activation::hard_swish, Activation::sigmoid}) {
        DwconvCase c;
        c.kernel = kernel().kernel_size;
        c.stride = kernel().stride;
        c.in_h = in, c.in_w = in + 3;
        c.pad_top = pad, c.pad_left = pad + 1, c.pad_bottom = pad + 2, c.pad_right = pad;
        c.activation = make_activation(kind, true);
        c.seed = seed++;
        if (!check_case(kernel(), c)) return;
      }
    }
  }
}

// The output affine map (after the activation): the kernel with scale and
// shift gives its own plain output times scale plus shift, within one
// rounding of each (FMA or not), and so does the reference.
TEST_P(F32DwconvKernelTest, OutputAffineAfterTheActivation) {
  std::mt19937 rng(707);
  auto real = [&](float limit) { return std::uniform_real_distribution<float>(-limit, limit)(rng); };
  for (int i = 0; i < 40; ++i) {
    DwconvCase c;
    c.kernel = kernel().kernel_size;
    c.stride = kernel().stride;
    c.in_h = 3 + i, c.in_w = 40 - i / 2;
    c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = c.kernel / 2;
    const WindowGeometry g = c.geometry();
    std::vector<float> input(static_cast<size_t>(g.input_size())), weights(static_cast<size_t>(c.kernel * c.kernel));
    for (float& v : input) v = real(2.0f);
    for (float& w : weights) w = real(1.0f);
    F32DwconvEpilogue plain = make_activation(kAllActivations[i % 8], false).with_bias(real(1.0f));
    F32DwconvEpilogue affine = plain;
    affine.output_scale = real(2.0f);
    affine.output_shift = real(1.0f);
    const size_t out_size = static_cast<size_t>(g.output_size());
    std::vector<float> scratch(static_cast<size_t>(kernels::f32_dwconv_scratch_floats(g)));
    std::vector<float> want(out_size), got(out_size), reference_plain(out_size), reference_affine(out_size);
    kernel().run(g, input.data(), weights.data(), plain, want.data(), scratch.data());
    kernel().run(g, input.data(), weights.data(), affine, got.data(), scratch.data());
    kernels::f32_conv_depthwise_plane(g, input.data(), weights.data(), plain, reference_plain.data());
    kernels::f32_conv_depthwise_plane(g, input.data(), weights.data(), affine, reference_affine.data());
    for (size_t j = 0; j < out_size; ++j) {
      const double scaled = double{want[j]} * affine.output_scale;
      const double expected = scaled + affine.output_shift;
      const double bound = 2 * kEps * (std::fabs(scaled) + std::fabs(affine.output_shift));
      ASSERT_LE(std::fabs(got[j] - expected), bound) << "kernel, output " << j << " of " << c.describe();
      const double reference_expected = double{reference_plain[j]} * affine.output_scale + affine.output_shift;
      ASSERT_LE(std::fabs(reference_affine[j] - reference_expected), bound) << "reference, output " << j;
    }
  }
}

// Pre-activation values far into every activation's saturated ranges
// (|v| up to 1e6, where exp over- and underflows): one-hot weights copy the
// input, scaled.
TEST_P(F32DwconvKernelTest, ActivationsOnSaturatingValues) {
  const int k = kernel().kernel_size;
  WindowGeometry g;
  g.in[1] = 5, g.in[2] = 37;
  g.kernel[1] = g.kernel[2] = k;
  g.stride[1] = g.stride[2] = kernel().stride;
  g.pad_begin[1] = g.pad_begin[2] = g.pad_end[1] = g.pad_end[2] = k / 2;
  g.out[1] = (g.in[1] + k - 1 - k) / g.stride[1] + 1;
  g.out[2] = (g.in[2] + k - 1 - k) / g.stride[2] + 1;
  std::vector<float> input(static_cast<size_t>(g.input_size()));
  const float magnitudes[] = {0.0f, 1e-3f, 0.5f, 3.0f, 20.0f, 86.0f, 87.5f, 89.0f, 104.0f, 200.0f, 1e6f};
  for (size_t i = 0; i < input.size(); ++i) input[i] = (i % 2 ? -1.0f : 1.0f) * magnitudes[i / 2 % 11];
  std::vector<float> weights(static_cast<size_t>(k * k), 0.0f);
  weights[(k / 2) * k + k / 2] = 1.0f;  // the centre tap: output = input (at even positions for stride 2)
  std::vector<float> scratch(static_cast<size_t>(kernels::f32_dwconv_scratch_floats(g)));
  std::vector<float> expected(static_cast<size_t>(g.output_size())), got(expected.size());
  for (Activation kind : kAllActivations) {
    const ActivationSpec a = make_activation(kind, false);
    kernels::f32_conv_depthwise_plane(g, input.data(), weights.data(), a.with_bias(0.0f), expected.data());
    kernel().run(g, input.data(), weights.data(), a.with_bias(0.0f), got.data(), scratch.data());
    for (size_t i = 0; i < got.size(); ++i) {
      const int64_t oh = static_cast<int64_t>(i) / g.out[2], ow = static_cast<int64_t>(i) % g.out[2];
      const double v = input[static_cast<size_t>((oh * g.stride[1]) * g.in[2] + ow * g.stride[2])];
      const double bound = 8 * kEps * (std::fabs(expected[i]) + std::fabs(v) * (1 + std::fabs(a.param0 * v) +
                                                                                 std::fabs(a.param1))) +
                           1e-37 * (1 + std::fabs(v));
      EXPECT_NEAR(got[i], expected[i], bound) << kernel().name << " " << kernels::activation_name(kind)
                                              << " at pre-activation " << v;
    }
  }
}

std::string kernel_test_name(const ::testing::TestParamInfo<size_t>& info) {
  return kernels::f32_dwconv_kernels()[info.param].name;
}

INSTANTIATE_TEST_SUITE_P(F32Dwconv, F32DwconvKernelTest,
                         ::testing::Range<size_t>(0, kernels::f32_dwconv_kernels().size()), kernel_test_name);

WindowGeometry window(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh = 1, int64_t dw = 1) {
  WindowGeometry g;
  g.in[1] = g.in[2] = 16;
  g.kernel[1] = kh, g.kernel[2] = kw;
  g.stride[1] = sh, g.stride[2] = sw;
  g.dilation[1] = dh, g.dilation[2] = dw;
  g.out[1] = (16 - kh) / sh + 1, g.out[2] = (16 - kw) / sw + 1;
  return g;
}

// The highest inventory level at or below `isa` (kernels start at sse41).
std::string expected_suffix(Isa isa) { return std::string("_") + isa_name(isa); }

TEST(F32DwconvSelect, PicksTheKernelOfTheRequestedLevel) {
  for (Isa isa : {Isa::sse41, Isa::avx2, Isa::avx512}) {
    for (int k : {3, 5}) {
      for (int s : {1, 2}) {
        const kernels::F32DwconvKernel* chosen = kernels::select_f32_dwconv_kernel(window(k, k, s, s), isa);
        ASSERT_NE(chosen, nullptr) << k << "x" << k << " stride " << s << " at " << isa_name(isa);
        const std::string want = "f32_dwconv_" + std::to_string(k) + "x" + std::to_string(k) + "s" +
                                 std::to_string(s) + expected_suffix(isa);
        EXPECT_EQ(chosen->name, want);
        EXPECT_EQ(chosen->isa, isa);
      }
    }
  }
  // Baseline SSE2 has no fast kernel: the reference runs.
  EXPECT_EQ(kernels::select_f32_dwconv_kernel(window(3, 3, 1, 1), Isa::sse2), nullptr);
}

TEST(F32DwconvSelect, OtherWindowsFallBackToTheReference) {
  const Isa best = Isa::avx512;
  EXPECT_EQ(kernels::select_f32_dwconv_kernel(window(3, 5, 1, 1), best), nullptr) << "3x5";
  EXPECT_EQ(kernels::select_f32_dwconv_kernel(window(7, 7, 1, 1), best), nullptr) << "7x7";
  EXPECT_EQ(kernels::select_f32_dwconv_kernel(window(3, 3, 1, 2), best), nullptr) << "strides 1,2";
  EXPECT_EQ(kernels::select_f32_dwconv_kernel(window(3, 3, 3, 3), best), nullptr) << "stride 3";
  EXPECT_EQ(kernels::select_f32_dwconv_kernel(window(3, 3, 1, 1, 2, 2), best), nullptr) << "dilation 2";
  EXPECT_EQ(kernels::select_f32_dwconv_kernel(window(3, 3, 1, 1, 1, 2), best), nullptr) << "dilation 1,2";
  WindowGeometry volume = window(3, 3, 1, 1);
  volume.in[0] = volume.out[0] = 2;  // 3-D
  EXPECT_EQ(kernels::select_f32_dwconv_kernel(volume, best), nullptr) << "3-D";
  WindowGeometry line = window(1, 3, 1, 1);  // 1-D: height is the unused dim
  EXPECT_EQ(kernels::select_f32_dwconv_kernel(line, best), nullptr) << "1-D";
}

// A skip message when KILN_ISA names a level this CPU lacks (selected_isa()
// then throws, and so does building a depthwise Conv); empty otherwise.
std::string kiln_isa_unusable() {
  const char* requested = std::getenv("KILN_ISA");
  if (!requested || !*requested) return "";
  try {
    selected_isa();
  } catch (const Error& error) {
    return std::string("KILN_ISA cannot be used here: ") + error.what();
  }
  return "";
}

// The kernel Conv uses follows selected_isa(), which KILN_ISA can lower:
// CTest runs this suite again with KILN_ISA=sse41 and KILN_ISA=avx2
// (tests/CMakeLists.txt), where the chosen kernels must be that level's.
TEST(F32DwconvSelect, FollowsKilnIsa) {
  if (const std::string why = kiln_isa_unusable(); !why.empty()) GTEST_SKIP() << why;
  const char* requested = std::getenv("KILN_ISA");
  const Isa isa = selected_isa();
  if (requested && *requested) {
    EXPECT_EQ(isa_name(isa), std::string(requested));
  }
  const kernels::F32DwconvKernel* chosen = kernels::select_f32_dwconv_kernel(window(3, 3, 1, 1), isa);
  if (isa == Isa::sse2) {
    EXPECT_EQ(chosen, nullptr);
  } else {
    ASSERT_NE(chosen, nullptr);
    EXPECT_EQ(chosen->isa, isa) << chosen->name;
    EXPECT_TRUE(cpu_info().supports(chosen->isa));
  }
}

// Conv and FusedConv (com.kiln, with an activation) through the registry
// with constant weights (the fast path) against the reference planes, with a
// channel multiplier, batch 2 and 2 threads. Integer data and power-of-two
// activation parameters: exact.
TEST(F32DwconvConvOp, DepthwiseConvMatchesTheReferencePlanes) {
  if (const std::string why = kiln_isa_unusable(); !why.empty()) GTEST_SKIP() << why;
  struct OpVariant {
    const char* activation;  // FusedConv's `activation`; nullptr = plain Conv
    std::vector<float> params;
    ActivationSpec spec;
  };
  const OpVariant variants[] = {{nullptr, {}, {}},
                                {"HardSwish", {0.125f, 0.5f}, {Activation::hard_swish, 0.125f, 0.5f}},
                                {"Clip", {-10.0f, 12.0f}, {Activation::clip, -10.0f, 12.0f}}};
  std::mt19937 rng(707);
  for (const OpVariant& variant : variants) {
    for (int k : {3, 5, 7}) {  // 7x7 runs the reference inside Conv
      for (int s : {1, 2}) {
        SCOPED_TRACE(std::string(variant.activation ? variant.activation : "Conv") + " " + std::to_string(k) + "x" +
                     std::to_string(k) + " stride " + std::to_string(s));
        const int64_t batch = 2, channels = 3, multiplier = 2, h = 23, w = 41;
        const int64_t pads[4] = {1, 2, 0, 1};  // top, left, bottom, right
        graph::Node node = make_node(variant.activation ? "FusedConv" : "Conv", 3, 1, variant.activation ? 1 : 17);
        if (variant.activation) {
          node.domain = "com.kiln";
          node.attrs["activation"] = string_attr(variant.activation);
          node.attrs["activation_params"] = floats_attr(variant.params);
        }
        node.attrs["group"] = int_attr(channels);
        node.attrs["strides"] = ints_attr({s, s});
        node.attrs["pads"] = ints_attr({pads[0], pads[1], pads[2], pads[3]});
        Tensor x(DataType::kFloat32, {batch, channels, h, w});
        Tensor weights(DataType::kFloat32, {channels * multiplier, 1, k, k});
        Tensor bias(DataType::kFloat32, {channels * multiplier});
        auto integer = [&](int limit) { return float(std::uniform_int_distribution<int>(-limit, limit)(rng)); };
        for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = integer(8);
        for (int64_t i = 0; i < weights.size(); ++i) weights.data<float>()[i] = integer(4);
        for (int64_t i = 0; i < bias.size(); ++i) bias.data<float>()[i] = integer(8);
        const Tensor y = run_op(node, {x, weights, bias}, /*inputs_are_constant=*/true, /*threads=*/2)[0];

        WindowGeometry g;
        g.in[1] = h, g.in[2] = w;
        g.kernel[1] = g.kernel[2] = k;
        g.stride[1] = g.stride[2] = s;
        g.pad_begin[1] = pads[0], g.pad_begin[2] = pads[1], g.pad_end[1] = pads[2], g.pad_end[2] = pads[3];
        g.out[1] = (h + pads[0] + pads[2] - k) / s + 1;
        g.out[2] = (w + pads[1] + pads[3] - k) / s + 1;
        ASSERT_EQ(y.shape(), (Shape{batch, channels * multiplier, g.out[1], g.out[2]}));
        std::vector<float> plane(static_cast<size_t>(g.output_size()));
        for (int64_t n = 0; n < batch; ++n) {
          for (int64_t oc = 0; oc < channels * multiplier; ++oc) {
            const float* x_plane = x.data<float>() + (n * channels + oc / multiplier) * h * w;
            kernels::f32_conv_depthwise_plane(g, x_plane, weights.data<float>() + oc * k * k,
                                              variant.spec.with_bias(bias.data<float>()[oc]), plane.data());
            const float* y_plane = y.data<float>() + (n * channels * multiplier + oc) * g.output_size();
            for (size_t i = 0; i < plane.size(); ++i)
              ASSERT_EQ(y_plane[i], plane[i]) << "n " << n << " channel " << oc << " position " << i;
          }
        }
      }
    }
  }
}

// With KILN_ISA naming an unknown level (CTest runs this with avx9000) or
// one the CPU lacks, a session with a depthwise Conv fails when it is
// created, naming KILN_ISA and its value: the level is chosen once per
// session, before any node is built, so the error names no node.
TEST(F32DwconvConvOp, UnusableKilnIsaFailsTheBuild) {
  const std::string why = kiln_isa_unusable();
  if (why.empty()) GTEST_SKIP() << "KILN_ISA is unset or usable; CTest runs this with KILN_ISA=avx9000";
  ModelBuilder m;
  m.input("x", {1, 2, 5, 5});
  m.initializer("w", {2, 1, 3, 3}, std::vector<float>(18, 0.0f));
  onnx::AttributeProto* group = m.node("Conv", {"x", "w"}, {"y"}, "depthwise")->add_attribute();
  group->set_name("group");
  group->set_type(onnx::AttributeProto::INT);
  group->set_i(2);
  m.output("y");
  try {
    Session::from_bytes(m.bytes());
    ADD_FAILURE() << "built a session with a depthwise Conv although " << why;
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("KILN_ISA"), std::string::npos) << message;
    EXPECT_NE(message.find(std::getenv("KILN_ISA")), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  }
}

}  // namespace
}  // namespace kiln::testing
