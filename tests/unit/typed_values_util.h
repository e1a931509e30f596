// Typed tensors from value lists and back, for operator tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::testing {

// A tensor of type T (dtype_of<T>) with the given shape and values.
template <class T>
Tensor tensor_of(Shape shape, const std::vector<T>& values) {
  Tensor t(dtype_of<T>(), std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.size())
    throw Error("tensor_of: " + std::to_string(values.size()) + " values for shape " + shape_to_string(t.shape()));
  T* p = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return t;
}

// A float16 tensor from float values (rounded to half).
inline Tensor float16_tensor_of(Shape shape, const std::vector<float>& values) {
  Tensor t(DataType::kFloat16, std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.size()) throw Error("float16_tensor_of: size mismatch");
  auto* p = static_cast<uint16_t*>(t.raw());
  for (size_t i = 0; i < values.size(); ++i) p[i] = float_to_half(values[i]);
  return t;
}

// The elements of a tensor of type T.
template <class T>
std::vector<T> values_of(const Tensor& t) {
  const T* p = t.data<T>();
  return std::vector<T>(p, p + t.size());
}

inline std::vector<float> float16_values_of(const Tensor& t) {
  if (t.dtype() != DataType::kFloat16) throw Error("float16_values_of: not a float16 tensor");
  const auto* p = static_cast<const uint16_t*>(t.raw());
  std::vector<float> out(static_cast<size_t>(t.size()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = half_to_float(p[i]);
  return out;
}

// Row-major index of `position` in a tensor of `shape` broadcast to a larger
// rank: leading missing dims and size-1 dims do not move (the numpy rule,
// written out independently of the kernels' broadcast planner).
inline int64_t broadcast_index(const Shape& shape, const Shape& position) {
  const size_t offset = position.size() - shape.size();
  int64_t index = 0;
  for (size_t d = 0; d < shape.size(); ++d) index = index * shape[d] + (shape[d] == 1 ? 0 : position[offset + d]);
  return index;
}

// Every position of `shape` in row-major order, passed to visit(position, linear_index).
template <class Visit>
void for_each_position(const Shape& shape, Visit&& visit) {
  const int64_t count = element_count(shape);
  Shape position(shape.size(), 0);
  for (int64_t linear = 0; linear < count; ++linear) {
    visit(static_cast<const Shape&>(position), linear);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++position[d] < shape[d]) break;
      position[d] = 0;
    }
  }
}

}  // namespace kiln::testing
