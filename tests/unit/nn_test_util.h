// Helpers shared by the NN operator tests: seeded random tensors and
// comparisons that print the whole problem on failure.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::testing {

// Integer values in [lo, hi] stored as float: sums of their products are
// exact in float32 (while below 2^24), so kernels that only reorder the
// additions must match a reference exactly.
inline Tensor random_integer_floats(const Shape& shape, int lo, int hi, std::mt19937& rng) {
  Tensor t(DataType::kFloat32, shape);
  std::uniform_int_distribution<int> dist(lo, hi);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.size(); ++i) p[i] = static_cast<float>(dist(rng));
  return t;
}

inline Tensor random_floats(const Shape& shape, float lo, float hi, std::mt19937& rng) {
  Tensor t(DataType::kFloat32, shape);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.size(); ++i) p[i] = dist(rng);
  return t;
}

// Expects equal shapes and |got - want| <= abs_tol + rel_tol * |want| everywhere;
// reports the first few mismatches with their flat index and `problem`.
inline void expect_close(const Tensor& got, const Tensor& want, double abs_tol, double rel_tol,
                         const std::string& problem) {
  ASSERT_EQ(shape_to_string(got.shape()), shape_to_string(want.shape())) << problem;
  ASSERT_EQ(got.dtype(), want.dtype()) << problem;
  int reported = 0;
  int64_t mismatches = 0;
  std::ostringstream details;
  for (int64_t i = 0; i < want.size(); ++i) {
    const double g = got.value_as_double(i), w = want.value_as_double(i);
    const bool ok = (std::isnan(g) && std::isnan(w)) || std::abs(g - w) <= abs_tol + rel_tol * std::abs(w);
    if (!ok) {
      ++mismatches;
      if (reported++ < 5) details << "  [" << i << "] got " << g << ", want " << w << "\n";
    }
  }
  EXPECT_EQ(mismatches, 0) << problem << "\n" << details.str();
}

inline void expect_equal(const Tensor& got, const Tensor& want, const std::string& problem) {
  expect_close(got, want, 0.0, 0.0, problem);
}

}  // namespace kiln::testing
