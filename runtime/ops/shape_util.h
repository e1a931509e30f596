// Small helpers the shape, layout and resize operators share: axis
// normalization, reading shape-like inputs, broadcasting two shapes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "kiln/tensor.h"
#include "platform/checked_math.h"

namespace kiln::ops {

// Maps axis in [-rank, rank) to [0, rank); kiln::Error naming the node otherwise.
inline int64_t normalize_axis(int64_t axis, int64_t rank, const graph::Node& node, const char* what = "axis") {
  if (axis < -rank || axis >= rank)
    fail(node.describe(), ": ", what, " ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

// a * b for dims and counts computed from data; kiln::Error naming the node
// (and `what`) when the product does not fit in int64.
inline int64_t checked_mul(int64_t a, int64_t b, const graph::Node& node, const char* what) {
  return checked::mul(a, b, node.describe(), what);
}

// An int attribute that must be present (kiln::Error naming the node otherwise).
inline int64_t required_int_attr(const graph::Node& node, const std::string& key) {
  node.required_attr(key);
  return node.attr_int(key, 0);
}

// Normalizes every axis and rejects repeats.
inline std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const graph::Node& node,
                                           const char* what = "axes") {
  std::vector<int64_t> out;
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t axis : axes) {
    int64_t a = normalize_axis(axis, rank, node, what);
    if (seen[static_cast<size_t>(a)]) fail(node.describe(), ": ", what, " lists axis ", axis, " twice");
    seen[static_cast<size_t>(a)] = true;
    out.push_back(a);
  }
  return out;
}

// The values of an integer tensor used as a shape, axes list, etc.
// (int32 or int64, any rank <= 1). `what` names the input in messages.
inline std::vector<int64_t> read_int_list(const Tensor& t, const graph::Node& node, const char* what) {
  if (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32)
    fail(node.describe(), ": ", what, " must be int32 or int64, got ", dtype_name(t.dtype()));
  if (t.rank() > 1)
    fail(node.describe(), ": ", what, " must be a 1-D tensor, got shape ", shape_to_string(t.shape()));
  return t.to_int64_vector();
}

// Numpy-style broadcast of two shapes (used by Expand).
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const graph::Node& node) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(node.describe(), ": shapes ", shape_to_string(a), " and ", shape_to_string(b), " cannot be broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace kiln::ops
