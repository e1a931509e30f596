// Multidirectional (numpy) broadcasting for the element-wise kernels.
//
// Shapes are aligned at the right; in each dimension the sizes must be equal
// or 1, and a size-1 dimension repeats. plan_broadcast() describes how to walk
// the inputs for one output: the output (row-major) is seen as `row_count`
// rows of `inner_size` elements, after dropping size-1 output dimensions and
// merging neighbouring dimensions that every input walks the same way. Inside
// a row, input k advances by inner_strides[k] (1, or 0 when it repeats one
// element), so the hot loops are plain loops of one of three shapes:
// vector-vector, vector-scalar, scalar-vector.
//
// Examples (output shape -> rows x inner):
//   3x4x5 + 3x4x5 -> 1 x 60,  strides (1, 1)
//   3x4x5 + scalar -> 1 x 60, strides (1, 0)
//   2x3x4x5 + 3x1x1 -> 6 x 20, strides (1, 0)
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "graph/ir.h"
#include "kiln/tensor.h"
#include "platform/thread_pool.h"
#include "runtime/ops/element_types.h"

namespace kiln {

// Below this many output elements a kernel runs on one thread.
constexpr int64_t kParallelMinElements = int64_t{1} << 16;

// The broadcast shape of `shapes`. Throws kiln::Error naming the node and all
// shapes when they are incompatible.
Shape broadcast_shapes(const graph::Node& node, const std::vector<Shape>& shapes);

struct BroadcastLayout {
  Shape output_shape;
  int64_t output_size = 0;
  int64_t row_count = 0;    // 0 when the output is empty
  int64_t inner_size = 1;
  Shape row_dims;           // merged outer dimensions; their product is row_count
  std::vector<std::vector<int64_t>> row_strides;  // [input][row dim], elements; 0 = repeats
  std::vector<int64_t> inner_strides;             // [input]: 1, or 0 when it repeats

  size_t num_inputs() const { return inner_strides.size(); }
  // Element offset of the start of `row` in each input.
  void row_offsets(int64_t row, int64_t* offsets) const;
};

// The walk of `input_shapes` broadcast together (see the file comment).
BroadcastLayout plan_broadcast(const graph::Node& node, const std::vector<Shape>& input_shapes);

// Binary operators before opset 7 (Add, Sub, Mul, Div, Pow, Equal, Greater,
// Less, And, Or, Xor) broadcast only B to A, and only with attribute
// broadcast=1; `axis` says where B's dims start in A (default: at the right).
struct LegacyBroadcast {
  bool enabled = false;  // the node's opset is below 7
  bool broadcast = false;
  bool has_axis = false;
  int64_t axis = 0;

  // Reads the attributes of `node` (nothing when its opset is 7 or later).
  static LegacyBroadcast from_node(const graph::Node& node);
  // The shape B is seen with by numpy broadcasting (same element count); a
  // kiln::Error naming the node and both shapes when B does not broadcast to A.
  Shape operand_shape(const graph::Node& node, const Shape& a, const Shape& b) const;
};

// Calls segment(input_offsets, output_offset, count) over pieces of the
// output that together cover it once: for j in [0, count), output element
// output_offset + j comes from element input_offsets[k] + j * inner_strides[k]
// of input k. Pieces run in parallel when the output is large.
template <class Segment>
void for_each_broadcast_segment(const BroadcastLayout& layout, int threads, Segment&& segment) {
  if (layout.output_size == 0) return;
  // Long rows (one row when the shapes are equal or an operand is a scalar)
  // are cut into chunks so that threads can share them.
  constexpr int64_t kChunk = int64_t{1} << 14;
  const int64_t chunk = std::min(layout.inner_size, kChunk);
  const int64_t chunks_per_row = (layout.inner_size + chunk - 1) / chunk;
  const int64_t pieces = layout.row_count * chunks_per_row;
  const size_t num_inputs = layout.num_inputs();
  parallel_ranges(pieces, (layout.output_size > kParallelMinElements) ? threads : 1, 1, [&](int64_t piece_begin, int64_t piece_end) {
    for (int64_t piece = piece_begin; piece < piece_end; ++piece) {
      const int64_t row = piece / chunks_per_row;
      const int64_t begin = (piece % chunks_per_row) * chunk;
      const int64_t count = std::min(chunk, layout.inner_size - begin);
      int64_t offsets[8];
      layout.row_offsets(row, offsets);
      for (size_t k = 0; k < num_inputs; ++k) offsets[k] += begin * layout.inner_strides[k];
      segment(static_cast<const int64_t*>(offsets), row * layout.inner_size + begin, count);
    }
  });
}

// out[i] = op(a[i], b[i]) with a and b broadcast to the output. Op maps
// Element<A>::Value x Element<B>::Value to Element<Out>::Value.
template <class A, class B, class Out, class Op>
void broadcast_binary(const BroadcastLayout& layout, const A* a, const B* b, Out* out, const Op& op,
                      int threads) {
  const bool a_varies = layout.inner_strides[0] != 0;
  const bool b_varies = layout.inner_strides[1] != 0;
  auto apply = [&op](A x, B y) {
    return Element<Out>::store(op(Element<A>::load(x), Element<B>::load(y)));
  };
  for_each_broadcast_segment(layout, threads, [&](const int64_t* in, int64_t out_offset, int64_t count) {
    const A* a_run = a + in[0];
    const B* b_run = b + in[1];
    Out* out_run = out + out_offset;
    if (a_varies && b_varies) {
      for (int64_t i = 0; i < count; ++i) out_run[i] = apply(a_run[i], b_run[i]);
    } else if (a_varies) {
      const B y = b_run[0];
      for (int64_t i = 0; i < count; ++i) out_run[i] = apply(a_run[i], y);
    } else if (b_varies) {
      const A x = a_run[0];
      for (int64_t i = 0; i < count; ++i) out_run[i] = apply(x, b_run[i]);
    } else {
      const Out value = apply(a_run[0], b_run[0]);
      for (int64_t i = 0; i < count; ++i) out_run[i] = value;
    }
  });
}

// Copies input `which` of the layout, broadcast, into the whole output.
template <class T>
void broadcast_copy(const BroadcastLayout& layout, size_t which, const T* in, T* out, int threads) {
  const int64_t step = layout.inner_strides[which];
  for_each_broadcast_segment(layout, threads, [&](const int64_t* offsets, int64_t out_offset, int64_t count) {
    const T* src = in + offsets[which];
    T* dst = out + out_offset;
    for (int64_t i = 0; i < count; ++i) dst[i] = src[i * step];
  });
}

}  // namespace kiln
