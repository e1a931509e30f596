// reduce_outputs<float> (kernels/reduce.h) against its reference twin
// f32_reduce_reference, for every reduction kind, every combination of
// reduced axes, and shapes with 0, 1, primes and sizes just past 4, 8 and 16
// (and one past the 256 outputs the innermost-kept path reduces together).
//
// Tolerance: both sides accumulate in double and round once to float, so the
// floats differ by at most one float rounding, eps_f * |expected|, plus the
// gap between the two double results, which add the same n terms in a
// different order: at most n * eps_d * S, with S the sum of the terms'
// magnitudes (scaled by the derivative of the final step: 1/n for Mean,
// sqrt(S)/2S for L2, 1/sum for the log forms, and |expected| for Prod, whose
// relative error grows by eps_d per factor). A factor 4 covers the one-ulp
// error of each double exp/log/sqrt. Max and Min do no arithmetic: exact.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <vector>

#include "kernels/reduce.h"

namespace kiln::kernels {
namespace {

struct KindCase {
  ReduceKind kind;
  const char* name;
};

const KindCase kKinds[] = {{ReduceKind::kSum, "Sum"},       {ReduceKind::kMean, "Mean"},
                           {ReduceKind::kMax, "Max"},       {ReduceKind::kMin, "Min"},
                           {ReduceKind::kProd, "Prod"},     {ReduceKind::kL1, "L1"},
                           {ReduceKind::kL2, "L2"},         {ReduceKind::kSumSquare, "SumSquare"},
                           {ReduceKind::kLogSum, "LogSum"}, {ReduceKind::kLogSumExp, "LogSumExp"}};

const std::vector<std::vector<int64_t>> kShapes = {
    {},        {0},       {1},          {7},         {17},       {33},        {3, 0},      {5, 9},
    {1, 17},   {31, 5},   {4, 1, 5},    {3, 13, 2},  {0, 3, 4},  {2, 17, 3},  {2, 3, 5, 7}, {1, 9, 1, 5},
    {9, 2, 1, 3}, {3, 2, 261}};  // 261: kept innermost runs longer than the 256 lanes reduced at once

std::string describe(const std::vector<int64_t>& shape, const std::vector<bool>& reduced, const char* kind) {
  std::ostringstream out;
  out << "Reduce" << kind << " shape [";
  for (size_t d = 0; d < shape.size(); ++d) out << (d ? "," : "") << shape[d] << (reduced[d] ? "*" : "");
  out << "] (* = reduced)";
  return out.str();
}

// Values each kind is defined and well scaled on: LogSum needs a positive
// sum; Prod keeps factors near 1 so the product stays finite.
float draw(ReduceKind kind, std::mt19937& rng) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  if (kind == ReduceKind::kLogSum) return 0.01f + 2.0f * unit(rng);
  if (kind == ReduceKind::kProd) return (unit(rng) < 0.5f ? -1.0f : 1.0f) * (0.5f + unit(rng));
  return -4.0f + 8.0f * unit(rng);
}

// The magnitude S of the terms an output sums, per the file comment; the
// terms are recomputed here from the input (the twin only gives results).
double term_magnitude(ReduceKind kind, const std::vector<float>& inputs, double expected) {
  double s = 0.0, sum = 0.0;
  for (float v : inputs) {
    const double d = v;
    switch (kind) {
      case ReduceKind::kL2:
      case ReduceKind::kSumSquare: s += d * d; break;
      case ReduceKind::kLogSumExp: s += std::exp(d); break;
      default: s += std::fabs(d); break;
    }
    sum += kind == ReduceKind::kLogSumExp ? std::exp(d) : d;
  }
  const double n = static_cast<double>(inputs.size());
  switch (kind) {
    case ReduceKind::kMean: return n ? s / n : 0.0;
    case ReduceKind::kL2: return s > 0 ? std::sqrt(s) / 2 : 0.0;
    case ReduceKind::kLogSum:
    case ReduceKind::kLogSumExp: return sum > 0 ? s / sum : 0.0;
    case ReduceKind::kProd: return std::fabs(expected);
    default: return s;
  }
}

TEST(F32Reduce, MatchesTheReferenceOnEveryAxisCombination) {
  std::mt19937 rng(1609);
  int compared = 0;
  for (const KindCase& k : kKinds) {
    for (const std::vector<int64_t>& shape : kShapes) {
      const size_t rank = shape.size();
      int64_t size = 1;
      for (int64_t d : shape) size *= d;
      std::vector<float> x(static_cast<size_t>(size));
      for (float& v : x) v = draw(k.kind, rng);
      for (uint32_t mask = 0; mask < (1u << rank); ++mask) {
        std::vector<bool> reduced(rank);
        for (size_t d = 0; d < rank; ++d) reduced[d] = (mask >> d) & 1;
        const std::string what = describe(shape, reduced, k.name);
        const ReductionPlan plan = plan_reduction(shape, reduced, /*keepdims=*/false);
        const ReductionPlan kept = plan_reduction(shape, reduced, /*keepdims=*/true);
        std::vector<int64_t> want_shape, want_kept_shape;
        for (size_t d = 0; d < rank; ++d) {
          if (!reduced[d]) want_shape.push_back(shape[d]);
          want_kept_shape.push_back(reduced[d] ? 1 : shape[d]);
        }
        ASSERT_EQ(plan.output_shape, want_shape) << what;
        ASSERT_EQ(kept.output_shape, want_kept_shape) << what;
        int64_t outputs = 1;
        for (int64_t d : want_shape) outputs *= d;
        ASSERT_EQ(plan.outputs, outputs) << what;

        constexpr float kSentinel = -1234.5f;
        std::vector<float> got(static_cast<size_t>(outputs) + 1, kSentinel), want(static_cast<size_t>(outputs));
        // Two ranges, as the op's threads would split them.
        reduce_outputs<float>(k.kind, plan, x.data(), 0, outputs / 2, got.data());
        reduce_outputs<float>(k.kind, plan, x.data(), outputs / 2, outputs, got.data());
        f32_reduce_reference(k.kind, shape, reduced, x.data(), want.data());
        ASSERT_EQ(got[static_cast<size_t>(outputs)], kSentinel) << what << ": wrote past the outputs";

        // The inputs of each output, gathered independently of both sides.
        std::vector<std::vector<float>> inputs(static_cast<size_t>(outputs));
        std::vector<int64_t> index(rank, 0);
        for (int64_t i = 0; i < size; ++i) {
          int64_t o = 0;
          for (size_t d = 0; d < rank; ++d)
            if (!reduced[d]) o = o * shape[d] + index[d];
          inputs[static_cast<size_t>(o)].push_back(x[static_cast<size_t>(i)]);
          for (size_t d = rank; d-- > 0;) {
            if (++index[d] < shape[d]) break;
            index[d] = 0;
          }
        }
        for (int64_t o = 0; o < outputs; ++o) {
          const float g = got[static_cast<size_t>(o)], w = want[static_cast<size_t>(o)];
          const std::vector<float>& terms = inputs[static_cast<size_t>(o)];
          if (std::isnan(w)) {
            ASSERT_TRUE(std::isnan(g)) << what << " output " << o << ": got " << g << ", want NaN";
            continue;
          }
          if (k.kind == ReduceKind::kMax || k.kind == ReduceKind::kMin) {
            ASSERT_EQ(g, w) << what << " output " << o;
            continue;
          }
          const double n = static_cast<double>(terms.size());
          const double bound = FLT_EPSILON * std::fabs(w) + 4 * n * DBL_EPSILON * term_magnitude(k.kind, terms, w) +
                               FLT_TRUE_MIN;
          if (std::isinf(w)) ASSERT_EQ(g, w) << what << " output " << o;
          else ASSERT_NEAR(g, w, bound) << what << " output " << o << " of " << terms.size() << " terms";
        }
        ++compared;
      }
    }
  }
  // Every kind on every shape, each with all 2^rank axis combinations.
  int combinations = 0;
  for (const std::vector<int64_t>& shape : kShapes) combinations += 1 << shape.size();
  EXPECT_EQ(compared, combinations * static_cast<int>(std::size(kKinds)));
}

// Empty reductions give each kind's identity (Mean of nothing is 0/0), and a
// NaN input wins Max and Min wherever it stands.
TEST(F32Reduce, EmptyAndNanFollowTheDefinitions) {
  const std::vector<int64_t> shape = {3, 0};
  const std::vector<bool> reduced = {false, true};
  const ReductionPlan plan = plan_reduction(shape, reduced, false);
  const float expected[] = {0.0f, NAN, -INFINITY, INFINITY, 1.0f, 0.0f, 0.0f, 0.0f, -INFINITY, -INFINITY};
  for (size_t i = 0; i < std::size(kKinds); ++i) {
    std::vector<float> y(3, 7.0f);
    reduce_outputs<float>(kKinds[i].kind, plan, nullptr, 0, 3, y.data());
    for (float v : y) {
      if (std::isnan(expected[i])) EXPECT_TRUE(std::isnan(v)) << kKinds[i].name;
      else EXPECT_EQ(v, expected[i]) << kKinds[i].name;
    }
  }
  for (size_t at = 0; at < 5; ++at) {
    std::vector<float> x = {1.0f, -2.0f, 3.0f, 0.5f, -1.0f};
    x[at] = NAN;
    const ReductionPlan all = plan_reduction({5}, {true}, false);
    float y = 0.0f;
    reduce_outputs<float>(ReduceKind::kMax, all, x.data(), 0, 1, &y);
    EXPECT_TRUE(std::isnan(y)) << "Max with NaN at " << at;
    reduce_outputs<float>(ReduceKind::kMin, all, x.data(), 0, 1, &y);
    EXPECT_TRUE(std::isnan(y)) << "Min with NaN at " << at;
  }
}

}  // namespace
}  // namespace kiln::kernels
