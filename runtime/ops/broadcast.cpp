#include "runtime/ops/broadcast.h"

#include <string>

namespace kiln {

namespace {

std::string shapes_to_string(const std::vector<Shape>& shapes) {
  std::string text;
  for (size_t i = 0; i < shapes.size(); ++i) text += (i ? ", " : "") + shape_to_string(shapes[i]);
  return text;
}

// `shape` with leading 1s up to `rank`.
Shape left_pad(const Shape& shape, size_t rank) {
  Shape padded(rank - shape.size(), 1);
  padded.insert(padded.end(), shape.begin(), shape.end());
  return padded;
}

}  // namespace

Shape broadcast_shapes(const graph::Node& node, const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape output(rank, 1);
  for (const Shape& s : shapes) {
    const Shape padded = left_pad(s, rank);
    for (size_t d = 0; d < rank; ++d) {
      if (padded[d] == output[d] || padded[d] == 1) continue;
      if (output[d] != 1)
        fail(node.describe(), ": cannot broadcast shapes ", shapes_to_string(shapes), " (dimension ",
             static_cast<int64_t>(d) - static_cast<int64_t>(rank), " has sizes ", output[d], " and ", padded[d],
             ")");
      output[d] = padded[d];
    }
  }
  return output;
}

BroadcastLayout plan_broadcast(const graph::Node& node, const std::vector<Shape>& input_shapes) {
  const size_t num_inputs = input_shapes.size();
  if (num_inputs == 0 || num_inputs > 8)
    fail(node.describe(), ": broadcasting takes 1 to 8 inputs, got ", num_inputs);
  BroadcastLayout layout;
  layout.output_shape = broadcast_shapes(node, input_shapes);
  layout.output_size = element_count(layout.output_shape);
  layout.inner_strides.assign(num_inputs, 0);
  layout.row_strides.assign(num_inputs, {});
  if (layout.output_size == 0) return layout;  // row_count stays 0: nothing to walk
  const size_t rank = layout.output_shape.size();

  // Per input and output dimension: the element stride, 0 where it repeats.
  std::vector<Shape> strides(num_inputs, Shape(rank, 0));
  for (size_t k = 0; k < num_inputs; ++k) {
    const Shape padded = left_pad(input_shapes[k], rank);
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      strides[k][d] = padded[d] == 1 ? 0 : stride;
      stride *= padded[d];
    }
  }

  // Merge neighbouring dimensions (size-1 output dims dropped) while every
  // input either repeats in both or walks both contiguously.
  Shape merged_dims;
  std::vector<Shape> merged_strides(num_inputs);
  for (size_t d = 0; d < rank; ++d) {
    if (layout.output_shape[d] == 1) continue;
    bool same_walk = !merged_dims.empty();
    for (size_t k = 0; k < num_inputs && same_walk; ++k)
      same_walk = (merged_strides[k].back() == 0) == (strides[k][d] == 0);
    if (same_walk) {
      merged_dims.back() *= layout.output_shape[d];
      for (size_t k = 0; k < num_inputs; ++k) merged_strides[k].back() = strides[k][d];
    } else {
      merged_dims.push_back(layout.output_shape[d]);
      for (size_t k = 0; k < num_inputs; ++k) merged_strides[k].push_back(strides[k][d]);
    }
  }

  if (merged_dims.empty()) {  // a single element
    layout.row_count = 1;
    layout.inner_size = 1;
    return layout;
  }
  layout.inner_size = merged_dims.back();
  layout.row_dims.assign(merged_dims.begin(), merged_dims.end() - 1);
  layout.row_count = layout.output_size / layout.inner_size;
  for (size_t k = 0; k < num_inputs; ++k) {
    layout.inner_strides[k] = merged_strides[k].back() == 0 ? 0 : 1;
    layout.row_strides[k].assign(merged_strides[k].begin(), merged_strides[k].end() - 1);
  }
  return layout;
}

LegacyBroadcast LegacyBroadcast::from_node(const graph::Node& node) {
  LegacyBroadcast legacy;
  if (node.opset >= 7) return legacy;
  legacy.enabled = true;
  const int64_t broadcast = node.attr_int("broadcast", 0);
  if (broadcast != 0 && broadcast != 1)
    fail(node.describe(), ": attribute 'broadcast' must be 0 or 1, got ", broadcast);
  legacy.broadcast = broadcast == 1;
  legacy.has_axis = node.has_attr("axis");
  legacy.axis = node.attr_int("axis", 0);
  return legacy;
}

Shape LegacyBroadcast::operand_shape(const graph::Node& node, const Shape& a, const Shape& b) const {
  if (!enabled) return b;
  if (!broadcast) {
    if (a != b)
      fail(node.describe(), ": shapes ", shape_to_string(a), " and ", shape_to_string(b),
           " differ and attribute broadcast is not 1");
    return b;
  }
  const int64_t rank_a = static_cast<int64_t>(a.size()), rank_b = static_cast<int64_t>(b.size());
  Shape aligned = b;
  if (element_count(b) == 1) {
    aligned = Shape{};
  } else if (has_axis) {
    const int64_t start = axis < 0 ? axis + rank_a : axis;
    if (start < 0 || start + rank_b > rank_a)
      fail(node.describe(), ": cannot broadcast shape ", shape_to_string(b), " to ", shape_to_string(a),
           " at axis ", axis);
    aligned = Shape(static_cast<size_t>(start), 1);
    aligned.insert(aligned.end(), b.begin(), b.end());
    aligned.resize(a.size(), 1);
  }
  if (broadcast_shapes(node, {a, aligned}) != a)
    fail(node.describe(), ": cannot broadcast shape ", shape_to_string(b), " to ", shape_to_string(a));
  return aligned;
}

void BroadcastLayout::row_offsets(int64_t row, int64_t* offsets) const {
  const size_t n = num_inputs();
  for (size_t k = 0; k < n; ++k) offsets[k] = 0;
  for (size_t d = row_dims.size(); d-- > 0;) {
    const int64_t index = row % row_dims[d];
    row /= row_dims[d];
    for (size_t k = 0; k < n; ++k) offsets[k] += index * row_strides[k][d];
  }
}

}  // namespace kiln
