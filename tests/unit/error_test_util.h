// Checks on the kiln::Error an operator throws.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/op_test_util.h"

namespace kiln::testing {

// The message of the kiln::Error that running `node` on `inputs` throws
// (building its kernel included), or "(no error)".
inline std::string error_of(const graph::Node& node, const std::vector<Tensor>& inputs) {
  try {
    run_op(node, inputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The message of the kiln::Error `body()` throws, or "(no error)".
template <class Body>
std::string error_of(Body body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// For EXPECT_TRUE(contains(message, "part")).
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

}  // namespace kiln::testing
