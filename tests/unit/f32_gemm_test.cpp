// Every f32 GEMM microkernel in the inventory (kernels/f32_gemm_microkernel.h)
// against the plain reference, directly and through the packed driver, on a
// sweep of awkward shapes with every epilogue. Kernels whose ISA this CPU
// lacks are reported as skipped.
//
// Tolerance: a K-term float dot product summed in any order is within
// gamma_K * sum_p |a_p * b_p| of the exact value (gamma_K ~ K * eps). With
// alpha, bias and the old C added, a result x is trusted to
//   err_x = 2 * (K + 2) * eps * (|alpha| * sum_p |a_p b_p| + |bias| + |C_old|)
// and after the activation (Lipschitz constant L: 1 for most, |alpha| for
// leaky relu / hard sigmoid, 1.5 for hard swish) to
//   L * err_x + 4 * eps * |expected| + (sigmoid only) 2e-6
// where 2e-6 covers the vector exp approximation (relative error ~2 ulp,
// sigmoid's output is at most 1).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernels/f32_gemm_packed.h"
#include "kernels/gemm.h"
#include "kernels/kernel_table.h"
#include "platform/cpu_info.h"

namespace kiln::kernels {
namespace {

constexpr float kEps = std::numeric_limits<float>::epsilon();
// Written around and between the rows of C; a kernel that stores outside its
// tile changes one of them.
constexpr float kSentinel = -12345.25f;

const Activation kAllActivations[] = {Activation::none,       Activation::relu,         Activation::clip,
                                      Activation::leaky_relu, Activation::hard_sigmoid, Activation::hard_swish,
                                      Activation::sigmoid,    Activation::swish};

// Parameters that make each activation do something on inputs of magnitude ~1..10.
F32GemmEpilogue epilogue_for(Activation activation) {
  F32GemmEpilogue epilogue;
  epilogue.activation = activation;
  if (activation == Activation::clip) epilogue.param0 = -0.5f, epilogue.param1 = 0.75f;
  if (activation == Activation::leaky_relu) epilogue.param0 = 0.1f;
  if (activation == Activation::hard_sigmoid) epilogue.param0 = 0.2f, epilogue.param1 = 0.5f;
  if (activation == Activation::hard_swish) epilogue.param0 = 1.0f / 6.0f, epilogue.param1 = 0.5f;
  return epilogue;
}

float lipschitz(const F32GemmEpilogue& epilogue) {
  switch (epilogue.activation) {
    case Activation::leaky_relu:
    case Activation::hard_sigmoid: return std::max(1.0f, std::fabs(epilogue.param0));
    case Activation::hard_swish: return 1.5f;  // hs(x) + alpha * x inside the ramp, alpha = 1/6, abs(x) <= 3
    case Activation::swish: return 1.1f;
    default: return 1.0f;
  }
}

std::vector<float> random_values(size_t count, std::mt19937& rng, float low = -1.0f, float high = 1.0f) {
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> values(count);
  for (float& v : values) v = dist(rng);
  return values;
}

// One GEMM problem with the expected result and per-element bound computed by
// the reference (in double, from the same inputs).
struct GemmProblem {
  size_t m, n, k;
  bool trans_a, trans_b;
  float alpha;
  F32GemmEpilogue epilogue;  // bias points into `bias`
  std::vector<float> a, b, bias, c_initial;
  std::vector<float> scale, shift;  // the output affine map, when epilogue.output_scale is set
  size_t lda, ldb, ldc;

  std::string describe() const {
    std::ostringstream out;
    out << "m=" << m << " n=" << n << " k=" << k << " trans_a=" << trans_a << " trans_b=" << trans_b
        << " alpha=" << alpha << " bias=" << (epilogue.bias != nullptr) << " accumulate=" << epilogue.accumulate
        << " activation=" << activation_name(epilogue.activation)
        << " output_affine=" << (epilogue.output_scale != nullptr) << " ldc=" << ldc;
    return out.str();
  }
};

GemmProblem make_problem(size_t m, size_t n, size_t k, bool trans_a, bool trans_b, const F32GemmEpilogue& epilogue,
                         bool with_bias, float alpha, std::mt19937& rng) {
  GemmProblem problem{m, n, k, trans_a, trans_b, alpha, epilogue, {}, {}, {}, {}, {}, {}, 0, 0, 0};
  problem.lda = (trans_a ? m : k) + 3;  // padded strides catch stride mix-ups
  problem.ldb = (trans_b ? k : n) + 5;
  problem.ldc = n + 7;
  problem.a = random_values((trans_a ? k : m) * problem.lda, rng);
  problem.b = random_values((trans_b ? n : k) * problem.ldb, rng);
  problem.bias = random_values(m, rng, -2.0f, 2.0f);
  problem.epilogue.bias = with_bias ? problem.bias.data() : nullptr;
  // Half the problems with a bias also get an output affine map after the activation.
  problem.scale = random_values(m, rng, -2.0f, 2.0f);
  problem.shift = random_values(m, rng, -1.0f, 1.0f);
  const bool affine = with_bias && std::uniform_int_distribution<int>(0, 1)(rng) == 1;
  problem.epilogue.output_scale = affine ? problem.scale.data() : nullptr;
  problem.epilogue.output_shift = affine ? problem.shift.data() : nullptr;
  // C has a sentinel row above and below and sentinel columns past n.
  problem.c_initial.assign((m + 2) * problem.ldc, kSentinel);
  std::vector<float> old_c = random_values(m * n, rng);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) problem.c_initial[(i + 1) * problem.ldc + j] = old_c[i * n + j];
  return problem;
}

// Compares `c` (same layout as problem.c_initial) with the reference; returns
// the number of mismatches reported.
int check_result(const GemmProblem& p, const std::vector<float>& c, const std::string& label) {
  int failures = 0;
  const float* c_old = p.c_initial.data() + p.ldc;
  for (size_t row = 0; row < p.m + 2 && failures < 5; ++row)
    for (size_t col = 0; col < p.ldc && failures < 5; ++col) {
      size_t at = row * p.ldc + col;
      bool inside = row >= 1 && row <= p.m && col < p.n;
      if (inside) continue;
      if (std::memcmp(&c[at], &kSentinel, sizeof(float)) != 0) {
        ADD_FAILURE() << label << ": wrote outside C at row " << int(row) - 1 << " col " << col << " (" << c[at]
                      << ") for " << p.describe();
        ++failures;
      }
    }
  for (size_t i = 0; i < p.m && failures < 5; ++i)
    for (size_t j = 0; j < p.n && failures < 5; ++j) {
      double dot = 0, magnitude = 0;
      for (size_t q = 0; q < p.k; ++q) {
        double av = p.trans_a ? p.a[q * p.lda + i] : p.a[i * p.lda + q];
        double bv = p.trans_b ? p.b[j * p.ldb + q] : p.b[q * p.ldb + j];
        dot += av * bv;
        magnitude += std::fabs(av * bv);
      }
      double x = p.alpha * dot;
      double bias = p.epilogue.bias != nullptr ? p.bias[i] : 0.0;
      double old = p.epilogue.accumulate ? c_old[i * p.ldc + j] : 0.0;
      x += bias + old;
      float expected =
          f32_activation_reference(p.epilogue.activation, static_cast<float>(x), p.epilogue.param0, p.epilogue.param1);
      double err_x = 2.0 * (p.k + 2) * kEps * (std::fabs(p.alpha) * magnitude + std::fabs(bias) + std::fabs(old));
      double bound = lipschitz(p.epilogue) * err_x + 4 * kEps * std::fabs(expected) +
                     (p.epilogue.activation == Activation::sigmoid ? 2e-6 : 0.0) +
                     (p.epilogue.activation == Activation::swish ? 2e-6 * (1.0 + std::fabs(x)) : 0.0);
      if (p.epilogue.output_scale != nullptr) {
        const double activated = expected;
        expected = static_cast<float>(activated * p.scale[i] + p.shift[i]);
        bound = bound * std::fabs(p.scale[i]) + 4 * kEps * (std::fabs(activated * p.scale[i]) + std::fabs(p.shift[i]));
      }
      float got = c[(i + 1) * p.ldc + j];
      if (!(std::fabs(got - expected) <= bound)) {
        ADD_FAILURE() << label << ": C[" << i << "][" << j << "] = " << got << ", expected " << expected << " (bound "
                      << bound << ") for " << p.describe();
        ++failures;
      }
    }
  return failures;
}

class F32GemmKernelTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    kernel_ = &f32_gemm_microkernels()[GetParam()];
    if (!cpu_info().supports(kernel_->isa))
      GTEST_SKIP() << kernel_->name << " needs " << isa_name(kernel_->isa) << ", which this CPU (" << cpu_info().brand
                   << ") or its OS does not support";
  }
  const F32GemmMicrokernel* kernel_ = nullptr;
};

// The microkernel alone: every mr x nr corner of its tile, a few depths, each
// epilogue, with hand-packed panels whose padding is garbage-free zeros.
TEST_P(F32GemmKernelTest, MicrokernelEveryCornerAndEpilogue) {
  const size_t MR = kernel_->mr, NR = kernel_->nr;
  std::mt19937 rng(1234);
  for (size_t kc : {size_t(0), size_t(1), size_t(3), size_t(17)})
    for (Activation activation : kAllActivations)
      for (size_t mr = 1; mr <= MR; ++mr)
        for (size_t nr = 1; nr <= NR; ++nr) {
          bool accumulate = (mr + nr) % 2 == 0, with_bias = (mr + nr + kc) % 3 != 0;
          F32GemmEpilogue epilogue = epilogue_for(activation);
          epilogue.accumulate = accumulate;
          GemmProblem p = make_problem(mr, nr, kc, false, false, epilogue, with_bias, 1.0f, rng);
          const size_t copies = kernel_->a_copies;
          std::vector<float> a_storage(std::max<size_t>(kc, 1) * MR * copies + 16, 0.0f);
          float* a_panel =
              reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(a_storage.data()) + 63) & ~uintptr_t(63));
          std::vector<float, std::allocator<float>> b_storage(std::max<size_t>(kc, 1) * NR + 16, 0.0f);
          float* b_panel =
              reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(b_storage.data()) + 63) & ~uintptr_t(63));
          for (size_t q = 0; q < kc; ++q) {
            for (size_t r = 0; r < mr; ++r)
              for (size_t copy = 0; copy < copies; ++copy) a_panel[(q * MR + r) * copies + copy] = p.a[r * p.lda + q];
            for (size_t j = 0; j < nr; ++j) b_panel[q * NR + j] = p.b[q * p.ldb + j];
          }
          std::vector<float> c = p.c_initial;
          F32GemmTileEpilogue tile{p.epilogue.bias,      accumulate,
                                   activation,           epilogue.param0,
                                   epilogue.param1,      p.epilogue.output_scale,
                                   p.epilogue.output_shift};
          kernel_->tile(mr, nr, kc, a_panel, b_panel, c.data() + p.ldc, p.ldc, tile);
          if (check_result(p, c, kernel_->name) > 0) return;
        }
}

// The epilogue alone (kc = 0, so C = act(bias + old C)) on inputs where the
// activations bend or saturate: 0, the hard-sigmoid knees +-2.5 and +-3, and
// the range where exp over- or underflows (|x| ~ 87..1e4). Bound: 4 eps
// relative, plus 2e-6 absolute for sigmoid's exp approximation.
TEST_P(F32GemmKernelTest, EpilogueOnSaturatingInputs) {
  const std::vector<float> inputs = {0.0f,  -0.0f,  1e-30f, -1e-30f, 0.5f,   -0.5f,  2.5f,   -2.5f, 3.0f,
                                     -3.0f, 6.0f,   -6.0f,  20.0f,   -20.0f, 86.9f,  -86.9f, 87.5f, -87.5f,
                                     88.7f, -88.7f, 89.0f,  -89.0f,  100.f,  -100.f, 1e4f,   -1e4f, 0.1f};
  const size_t MR = kernel_->mr, NR = kernel_->nr;
  std::vector<float> a_storage(MR * kernel_->a_copies + 16), b_storage(NR + 16);
  for (Activation activation : kAllActivations) {
    F32GemmEpilogue epilogue = epilogue_for(activation);
    for (size_t start = 0; start < inputs.size(); start += MR) {
      size_t rows = std::min(MR, inputs.size() - start);
      std::vector<float> c(rows * NR);
      for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < NR; ++j) c[r * NR + j] = j % 2 == 0 ? 0.0f : 1.0f;  // old C, added to the bias
      F32GemmTileEpilogue tile{inputs.data() + start, true, activation, epilogue.param0, epilogue.param1};
      kernel_->tile(rows, NR, 0, a_storage.data(), b_storage.data(), c.data(), NR, tile);
      for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < NR; ++j) {
          float x = inputs[start + r] + (j % 2 == 0 ? 0.0f : 1.0f);
          float expected = f32_activation_reference(activation, x, epilogue.param0, epilogue.param1);
          double bound = 4 * kEps * std::fabs(expected) + (activation == Activation::sigmoid ? 2e-6 : 0.0) +
                         (activation == Activation::swish ? 2e-6 * (1.0 + std::fabs(x)) : 0.0);
          ASSERT_LE(std::fabs(c[r * NR + j] - expected), bound)
              << kernel_->name << " " << activation_name(activation) << "(" << x << ") = " << c[r * NR + j]
              << ", expected " << expected;
        }
    }
  }
}

// The driver with this kernel: shapes around the tile sizes, transposes,
// alpha, bias, accumulate, every activation. (Asked for 1 to 4 threads, the
// driver keeps shapes this small on one; PackedDriverThreadSplits and
// PackedDriverCrossesCacheBlocks cover the splits.)
TEST_P(F32GemmKernelTest, PackedDriverShapeSweep) {
  const size_t MR = kernel_->mr, NR = kernel_->nr;
  const std::vector<size_t> sizes_m = {1, 2, MR, MR + 1, MR + 3, 2 * MR + 7, 13, 37, 61};
  const std::vector<size_t> sizes_n = {1, 3, NR, NR + 1, NR + 3, NR + 7, 2 * NR + 1, 31, 97};
  const std::vector<size_t> sizes_k = {0, 1, 2, 7, 16, 29, 61};
  std::mt19937 rng(42);
  int case_index = 0;
  for (size_t m : sizes_m)
    for (size_t n : sizes_n)
      for (size_t k : sizes_k) {
        ++case_index;
        Activation activation = kAllActivations[case_index % std::size(kAllActivations)];
        F32GemmEpilogue epilogue = epilogue_for(activation);
        epilogue.accumulate = case_index % 3 == 0;
        bool trans_a = case_index % 4 == 1, trans_b = case_index % 5 == 2;
        float alpha = case_index % 7 == 0 ? -1.5f : 1.0f;
        GemmProblem p = make_problem(m, n, k, trans_a, trans_b, epilogue, case_index % 2 == 0, alpha, rng);
        F32PackedA packed(*kernel_, trans_a, m, k, p.a.data(), p.lda, alpha);
        std::vector<float> c = p.c_initial;
        int threads = 1 + case_index % 4;
        f32_gemm_packed(packed, trans_b, n, p.b.data(), p.ldb, c.data() + p.ldc, p.ldc, p.epilogue, threads);
        if (check_result(p, c, std::string(kernel_->name) + " threads=" + std::to_string(threads)) > 0) return;
      }
}

// Larger than every cache block (MC, KC, NC) of this kernel on this machine, so
// K is split (bias once, activation last) and rows and columns are blocked.
TEST_P(F32GemmKernelTest, PackedDriverCrossesCacheBlocks) {
  const CacheSizes& caches = cpu_info().caches;
  const size_t kc_limit = f32_gemm_blocking(*kernel_, caches, 1 << 20, 1 << 20, false).kc;
  const size_t k_two_blocks = kc_limit + 3, k_three_blocks = 2 * kc_limit + 1, k_short = 9;
  std::mt19937 rng(7);
  struct Case {
    size_t m, n, k;
    bool trans_b;
    Activation activation;
    int threads;
  };
  // (2 * MC: with the prefetch of B, up to two MC blocks run row panels outer.)
  const size_t tall_m = 2 * f32_gemm_blocking(*kernel_, caches, 1 << 20, k_two_blocks, false).mc + 5;
  const size_t wide_n = f32_gemm_blocking(*kernel_, caches, 11, k_three_blocks, false).nc + 19;  // trans_b
  const size_t short_m = 2 * size_t(kernel_->mr) + 1;
  const size_t short_n = f32_gemm_blocking(*kernel_, caches, short_m, k_short, true).nc + 1;
  const Case cases[] = {
      {tall_m, 23, k_two_blocks, false, Activation::sigmoid, 2},
      {11, wide_n, k_three_blocks, true, Activation::relu, 2},
      {short_m, short_n, k_short, false, Activation::hard_swish, 1},
  };
  for (const Case& test_case : cases) {
    F32GemmEpilogue epilogue = epilogue_for(test_case.activation);
    epilogue.accumulate = true;
    GemmProblem p =
        make_problem(test_case.m, test_case.n, test_case.k, false, test_case.trans_b, epilogue, true, 0.5f, rng);
    F32PackedA packed(*kernel_, false, p.m, p.k, p.a.data(), p.lda, p.alpha);
    std::vector<float> c = p.c_initial;
    f32_gemm_packed(packed, p.trans_b, p.n, p.b.data(), p.ldb, c.data() + p.ldc, p.ldc, p.epilogue, test_case.threads);
    if (check_result(p, c, kernel_->name) > 0) return;
  }
}

// Shapes large enough (over 2 MFLOP per thread) for the driver to split C
// among 2 to 4 threads: by columns (wide C), by rows (C narrower than one
// column chunk), and both; and a tall A (more than two MC blocks, taller than
// twice a column chunk) whose column chunks are each cut in two halves of rows.
TEST_P(F32GemmKernelTest, PackedDriverThreadSplits) {
  std::mt19937 rng(11);
  struct Case {
    size_t m, n, k;
    int threads;
  };
  const size_t tall_k = 300, tall_n = 250;
  const size_t tall_m =
      std::max(2 * tall_n + 1, 2 * f32_gemm_blocking(*kernel_, cpu_info().caches, 1 << 20, tall_k, false).mc + 3);
  const Case cases[] = {
      {29, 1500, 100, 4},           // columns
      {19, 1501, 80, 2},            // columns, ragged last chunk
      {301, 13, 1100, 4},           // rows: one column granule
      {97, 30, 1500, 4},            // rows and columns
      {tall_m, tall_n, tall_k, 2},  // columns, then two halves of rows per chunk
      {tall_m, tall_n, tall_k, 3},
  };
  for (const Case& test_case : cases) {
    F32GemmEpilogue epilogue = epilogue_for(Activation::leaky_relu);
    epilogue.accumulate = test_case.threads % 2 == 1;
    GemmProblem p = make_problem(test_case.m, test_case.n, test_case.k, false, false, epilogue, true, 1.0f, rng);
    F32PackedA packed(*kernel_, false, p.m, p.k, p.a.data(), p.lda);
    std::vector<float> c = p.c_initial;
    f32_gemm_packed(packed, false, p.n, p.b.data(), p.ldb, c.data() + p.ldc, p.ldc, p.epilogue, test_case.threads);
    if (check_result(p, c, std::string(kernel_->name) + " threads=" + std::to_string(test_case.threads)) > 0) return;
  }
}

// Packing A on several threads (ranges of panels) writes the same panels as
// packing it on one, bit for bit, with and without transposing A. The
// shapes are large enough to be cut into several ranges.
TEST_P(F32GemmKernelTest, PackingAOnThreadsMatchesOneThread) {
  std::mt19937 rng(23);
  for (bool trans_a : {false, true})
    for (auto [m, k] : {std::pair<size_t, size_t>{301, 700}, {97, 1300}, {19, 5000}})
      for (int threads : {2, 3}) {
        const size_t stored_rows = trans_a ? k : m, lda = (trans_a ? m : k) + 3;
        std::vector<float> a = random_values(stored_rows * lda, rng);
        F32PackedA one(*kernel_, trans_a, m, k, a.data(), lda, 0.5f);
        F32PackedA many;
        many.pack(*kernel_, trans_a, m, k, a.data(), lda, 0.5f, threads);
        ASSERT_EQ(many.panel_count(), one.panel_count());
        ASSERT_GE(one.panel_count() * one.panel_stride(), size_t(2 * 32768)) << "too small to be shared";
        for (size_t i = 0; i < one.panel_count(); ++i) {
          ASSERT_EQ(many.first_row(i), one.first_row(i));
          ASSERT_EQ(std::memcmp(many.panel(i), one.panel(i), one.panel_stride() * sizeof(float)), 0)
              << kernel_->name << " panel " << i << " m=" << m << " k=" << k << " trans_a=" << trans_a
              << " threads=" << threads;
        }
      }
}

// A B source that packs a row-major matrix like the driver's own and logs
// every pack and prefetch_row call with the thread that made it, to check
// what the driver prefetches.
struct LoggedBSource {
  struct Call {
    std::thread::id thread;
    bool is_pack;
    size_t k0, rows, j0, columns;  // prefetch_row: one row, k0
  };
  const float* b;
  size_t ldb;
  std::mutex mutex;
  std::vector<Call> calls;

  void log(bool is_pack, size_t k0, size_t rows, size_t j0, size_t columns) {
    std::lock_guard<std::mutex> lock(mutex);
    calls.push_back({std::this_thread::get_id(), is_pack, k0, rows, j0, columns});
  }
  static void pack(const void* context, size_t k0, size_t kc, size_t j0, size_t nc, size_t nr, float* packed) {
    auto& self = *static_cast<LoggedBSource*>(const_cast<void*>(context));
    self.log(true, k0, kc, j0, nc);
    for (size_t q = 0; q * nr < nc; ++q)
      for (size_t p = 0; p < kc; ++p)
        for (size_t l = 0; l < nr; ++l) {
          const size_t column = j0 + q * nr + l;
          packed[q * nr * kc + p * nr + l] = column < j0 + nc ? self.b[(k0 + p) * self.ldb + column] : 0.0f;
        }
  }
  static void prefetch_row(const void* context, size_t k, size_t j0, size_t nc) {
    static_cast<LoggedBSource*>(const_cast<void*>(context))->log(false, k, 1, j0, nc);
  }
};

// With all of A in one block, a kernel with prefetch_next_b prefetches,
// while it computes each block of B, exactly the rows of the block the same
// thread packs next, in order, unless that block starts another work item
// (a thread may run several: then nothing); nothing after a thread's last
// block. A kernel without it prefetches nothing. The product stays right.
TEST_P(F32GemmKernelTest, PackedDriverPrefetchesTheNextBlockOfB) {
  const CacheSizes& caches = cpu_info().caches;
  const size_t m = 2 * size_t(kernel_->mr) + 1;
  const size_t k = 2 * f32_gemm_blocking(*kernel_, caches, 1 << 20, 1 << 20, false).kc + 1;  // three K blocks
  const F32GemmBlocking blocking = f32_gemm_blocking(*kernel_, caches, m, k, true);
  ASSERT_TRUE(blocking.row_panels_outer);
  EXPECT_EQ(blocking.prefetch_next_b, kernel_->prefetch_next_b);
  const size_t n = 2 * blocking.nc + 19;
  std::mt19937 rng(13);
  for (int threads : {1, 2}) {
    F32GemmEpilogue epilogue = epilogue_for(Activation::relu);
    GemmProblem p = make_problem(m, n, k, false, false, epilogue, true, 1.0f, rng);
    F32PackedA packed(*kernel_, false, p.m, p.k, p.a.data(), p.lda);
    LoggedBSource source{p.b.data(), p.ldb, {}, {}};
    std::vector<float> c = p.c_initial;
    f32_gemm_packed(packed, n, F32GemmBSource{&LoggedBSource::pack, &source, &LoggedBSource::prefetch_row},
                    c.data() + p.ldc, p.ldc, p.epilogue, threads);
    const std::string label = std::string(kernel_->name) + " threads=" + std::to_string(threads);
    if (check_result(p, c, label) > 0) return;

    std::vector<std::thread::id> thread_ids;
    for (const LoggedBSource::Call& call : source.calls) {
      ASSERT_LE(call.k0 + call.rows, k) << label;
      ASSERT_LE(call.j0 + call.columns, n) << label;
      if (!call.is_pack) {
        ASSERT_TRUE(blocking.prefetch_next_b) << label << ": prefetch without prefetch_next_b";
      }
      if (std::find(thread_ids.begin(), thread_ids.end(), call.thread) == thread_ids.end())
        thread_ids.push_back(call.thread);
    }
    if (!blocking.prefetch_next_b) continue;
    for (std::thread::id thread : thread_ids) {
      std::vector<LoggedBSource::Call> own;
      for (const LoggedBSource::Call& call : source.calls)
        if (call.thread == thread) own.push_back(call);
      // Between two packs: each row of the second pack once, in order, or
      // (one thread's work item ending, the next starting) nothing.
      ASSERT_TRUE(own.front().is_pack) << label;
      size_t pack_index = 0, prefetched = 0;
      for (size_t i = 1; i < own.size(); ++i) {
        if (own[i].is_pack) {
          const bool item_start = own[i].k0 == 0 && threads > 1;
          if (!(item_start && prefetched == 0)) {
            EXPECT_EQ(prefetched, own[i].rows) << label << ": block at row " << own[i].k0 << ", column "
                                               << own[i].j0 << " not prefetched in full";
          }
          pack_index = i, prefetched = 0;
          continue;
        }
        const auto next_pack = std::find_if(own.begin() + i, own.end(), [](const auto& c) { return c.is_pack; });
        ASSERT_NE(next_pack, own.end()) << label << ": prefetch after the thread's last block";
        EXPECT_EQ(own[i].k0, next_pack->k0 + prefetched) << label;
        EXPECT_EQ(own[i].j0, next_pack->j0) << label;
        EXPECT_EQ(own[i].columns, next_pack->columns) << label;
        ++prefetched;
      }
      EXPECT_GT(pack_index, 0u) << label << ": the test wants more than one block per thread";
    }
  }
}

// When the blocking turns the prefetch of B on: a kernel that asks for it, B
// in memory, and A short (M <= 64) or the blocks deep (KC >= 128); the block
// of B is then smaller, and A may be two MC blocks in the row-panels-outer
// order.
TEST_P(F32GemmKernelTest, BlockingPrefetchesBWhenItPaid) {
  const CacheSizes& caches = cpu_info().caches;
  const bool kernel_asks = kernel_->prefetch_next_b;
  EXPECT_EQ(f32_gemm_blocking(*kernel_, caches, 32, 27, true).prefetch_next_b, kernel_asks);
  EXPECT_EQ(f32_gemm_blocking(*kernel_, caches, 64, 64, true).prefetch_next_b, kernel_asks);
  EXPECT_EQ(f32_gemm_blocking(*kernel_, caches, 128, 576, true).prefetch_next_b, kernel_asks);
  EXPECT_FALSE(f32_gemm_blocking(*kernel_, caches, 128, 64, true).prefetch_next_b);
  EXPECT_FALSE(f32_gemm_blocking(*kernel_, caches, 32, 576, false).prefetch_next_b);
  const F32GemmBlocking without = f32_gemm_blocking(*kernel_, caches, 32, 576, false);
  const F32GemmBlocking with = f32_gemm_blocking(*kernel_, caches, 32, 576, true);
  EXPECT_EQ(with.kc, without.kc);
  if (!kernel_asks) {
    EXPECT_EQ(with.nc, without.nc);
    return;
  }
  EXPECT_LT(with.nc, without.nc);
  const size_t mc = without.mc;
  EXPECT_TRUE(f32_gemm_blocking(*kernel_, caches, 2 * mc, 576, true).row_panels_outer);
  EXPECT_FALSE(f32_gemm_blocking(*kernel_, caches, 2 * mc, 576, false).row_panels_outer);
  EXPECT_FALSE(f32_gemm_blocking(*kernel_, caches, 2 * mc + 1, 576, true).row_panels_outer);
}

std::string kernel_test_name(const ::testing::TestParamInfo<size_t>& info) {
  return f32_gemm_microkernels()[info.param].name;
}

INSTANTIATE_TEST_SUITE_P(AllKernels, F32GemmKernelTest, ::testing::Range<size_t>(0, f32_gemm_microkernels().size()),
                         kernel_test_name);

// kernels/gemm.h f32_gemm (what Gemm/MatMul call) against the reference:
// alpha, beta in {0, 1, other}, transposes, NaN in C ignored when beta = 0.
TEST(F32Gemm, GeneralSignatureMatchesReference) {
  const F32GemmMicrokernel& kernel = *KernelTable::for_isa(selected_isa()).f32_gemm;  // KILN_ISA can lower it
  std::mt19937 rng(99);
  int case_index = 0;
  for (int64_t m : {1, 5, 33})
    for (int64_t n : {1, 17, 70})
      for (int64_t k : {0, 1, 9, 300})
        for (float beta : {0.0f, 1.0f, 0.5f}) {
          ++case_index;
          bool trans_a = case_index % 2 == 1, trans_b = case_index % 3 == 1;
          float alpha = case_index % 5 == 0 ? 0.0f : 1.25f;
          int64_t lda = (trans_a ? m : k) + 1, ldb = (trans_b ? k : n) + 2, ldc = n + 3;
          std::vector<float> a = random_values(size_t((trans_a ? k : m) * lda), rng);
          std::vector<float> b = random_values(size_t((trans_b ? n : k) * ldb), rng);
          std::vector<float> c = random_values(size_t(m * ldc), rng);
          if (beta == 0.0f) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
          std::vector<float> expected = c;
          f32_gemm_reference(trans_a, trans_b, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, expected.data(),
                             ldc);
          f32_gemm(kernel, trans_a, trans_b, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc,
                   2);
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              float want = expected[i * ldc + j], got = c[i * ldc + j];
              float bound = 2.0f * (k + 2) * kEps * (std::fabs(alpha) * k + 1.0f);  // |a|, |b|, |C| <= 1
              ASSERT_NEAR(got, want, bound)
                  << "C[" << i << "][" << j << "] m=" << m << " n=" << n << " k=" << k << " alpha=" << alpha
                  << " beta=" << beta << " trans_a=" << trans_a << " trans_b=" << trans_b;
            }
        }
}

// The dispatch table picks the best kernel the selected ISA allows.
TEST(F32Gemm, DispatchPicksBestKernelAtOrBelowIsa) {
  for (Isa isa : {Isa::sse2, Isa::sse41, Isa::avx2, Isa::avx512}) {
    const F32GemmMicrokernel& kernel = f32_gemm_microkernel_for(isa);
    EXPECT_LE(static_cast<int>(kernel.isa), static_cast<int>(isa)) << kernel.name;
    for (const F32GemmMicrokernel& other : f32_gemm_microkernels())
      if (static_cast<int>(other.isa) <= static_cast<int>(isa)) {
        EXPECT_GE(static_cast<int>(kernel.isa), static_cast<int>(other.isa)) << kernel.name << " vs " << other.name;
      }
  }
  EXPECT_EQ(KernelTable::for_isa(selected_isa()).f32_gemm, &f32_gemm_microkernel_for(selected_isa()));
  EXPECT_STREQ(f32_gemm_microkernel_for(Isa::sse2).name, "f32_gemm_4x8_sse2");
  EXPECT_STREQ(f32_gemm_microkernel_for(Isa::sse41).name, "f32_gemm_4x8_sse41");
  EXPECT_STREQ(f32_gemm_microkernel_for(Isa::avx2).name, "f32_gemm_6x16_avx2");
}

}  // namespace
}  // namespace kiln::kernels
