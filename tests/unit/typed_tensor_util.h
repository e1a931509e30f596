// Helpers for op tests that run over many data types.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "kernels/convert_elements.h"
#include "kiln/tensor.h"

namespace kiln::testing {

// A tensor of `type` holding `values` (converted with the Cast rules).
inline Tensor make_typed(DataType type, Shape shape, const std::vector<double>& values) {
  Tensor t(type, std::move(shape));
  EXPECT_EQ(t.size(), static_cast<int64_t>(values.size())) << "make_typed: value count does not match the shape";
  const size_t eb = element_size(type);
  for (size_t i = 0; i < values.size() && static_cast<int64_t>(i) < t.size(); ++i)
    kernels::store_double_as(values[i], type, static_cast<char*>(t.raw()) + i * eb);
  return t;
}

// 0, 1, 2, ... 99, 0, 1, ... in `type` (0, 1, 0, ... for bool): distinct enough to see moved bytes.
inline Tensor iota_typed(DataType type, Shape shape) {
  std::vector<double> values(static_cast<size_t>(element_count(shape)));
  const size_t period = type == DataType::kBool ? 2 : 100;
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i % period);
  return make_typed(type, std::move(shape), values);
}

inline Tensor int64s(Shape shape, const std::vector<int64_t>& values) { return Tensor::from_int64s(std::move(shape), values); }
inline Tensor floats(Shape shape, const std::vector<float>& values) { return Tensor::from_floats(std::move(shape), values); }
inline Tensor int64_list(const std::vector<int64_t>& values) {
  return Tensor::from_int64s({static_cast<int64_t>(values.size())}, values);
}

inline std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) out[static_cast<size_t>(i)] = t.value_as_double(i);
  return out;
}

inline std::vector<int64_t> as_int64s(const Tensor& t) { return t.to_int64_vector(); }

inline bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Every supported element size, with a representative type each, plus the
// 16-bit float and bool types.
inline const std::vector<DataType>& all_tensor_types() {
  static const std::vector<DataType> types = {
      DataType::kFloat32, DataType::kUInt8,   DataType::kInt8,    DataType::kUInt16, DataType::kInt16,
      DataType::kInt32,   DataType::kInt64,   DataType::kBool,    DataType::kFloat16, DataType::kFloat64,
      DataType::kUInt32,  DataType::kUInt64,  DataType::kBFloat16};
  return types;
}

// Expects `body` to throw kiln::Error whose message names the node (and
// contains `fragment`, when given).
inline void expect_node_error(const std::function<void()>& body, const graph::Node& node,
                              const std::string& fragment = "") {
  try {
    body();
    ADD_FAILURE() << "expected kiln::Error from " << node.describe();
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(node.name), std::string::npos) << "message does not name the node: " << message;
    if (!fragment.empty()) {
      EXPECT_NE(message.find(fragment), std::string::npos) << "message: " << message;
    }
  }
}

}  // namespace kiln::testing
