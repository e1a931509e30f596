// Checked arithmetic for shapes and indices. A hostile model's dims,
// attributes and constants can push sums and products past int64 (undefined
// behaviour, and a wrong shape in release); shape inference and the kernels
// compute every dim, product of dims and slice count with these helpers, so
// the result is exact or a kiln::Error naming the node.
//
// Dims are capped at kMaxDimension (2^40, include/kiln/tensor.h) at build
// time as at run time. A product of dims containing a 0 is 0, whatever the
// other dims are (0 x 2^40 x 2^40 must not overflow on the way).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "kiln/error.h"
#include "kiln/tensor.h"

namespace kiln::checked {

// a + b and a * b, or std::nullopt when the exact result does not fit in int64.
inline std::optional<int64_t> try_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<int64_t> try_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// The product of dims[begin, end): 0 when one of them is 0 (looked for first,
// so no partial product of the others is formed), std::nullopt when it does
// not fit in int64. Negative dims are the caller's to reject.
inline std::optional<int64_t> try_product(const Shape& dims, size_t begin, size_t end) {
  end = std::min(end, dims.size());
  for (size_t i = begin; i < end; ++i)
    if (dims[i] == 0) return 0;
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) {
    std::optional<int64_t> next = try_mul(p, dims[i]);
    if (!next) return std::nullopt;
    p = *next;
  }
  return p;
}
inline std::optional<int64_t> try_product(const Shape& dims) { return try_product(dims, 0, dims.size()); }

// Throwing forms: `who` opens the message (a node's describe()), `what` names
// the quantity, e.g. "node 'c' (Concat): output dim 1 overflows 64 bits
// (9223372036854775807 + 2)".
inline int64_t add(int64_t a, int64_t b, const std::string& who, const char* what) {
  std::optional<int64_t> r = try_add(a, b);
  if (!r) fail(who, ": ", what, " overflows 64 bits (", a, " + ", b, ")");
  return *r;
}
inline int64_t sub(int64_t a, int64_t b, const std::string& who, const char* what) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) fail(who, ": ", what, " overflows 64 bits (", a, " - ", b, ")");
  return r;
}
inline int64_t mul(int64_t a, int64_t b, const std::string& who, const char* what) {
  std::optional<int64_t> r = try_mul(a, b);
  if (!r) fail(who, ": ", what, " overflows 64 bits (", a, " x ", b, ")");
  return *r;
}

// `d` as a dim: kiln::Error unless 0 <= d <= kMaxDimension.
inline int64_t dim(int64_t d, const std::string& who, const char* what) {
  if (d < 0) fail(who, ": ", what, " would be ", d, " (negative)");
  if (d > kMaxDimension) fail(who, ": ", what, " would be ", d, ", more than the 2^40 a dim may have");
  return d;
}

// The product of dims[begin, end) (see try_product), or kiln::Error naming
// the node and the dims, e.g. "node 'f' (Flatten): the outer dim
// (4294967296x4294967296) overflows 64 bits".
inline int64_t product(const Shape& dims, size_t begin, size_t end, const std::string& who, const char* what) {
  std::optional<int64_t> p = try_product(dims, begin, end);
  if (!p) {
    end = std::min(end, dims.size());
    fail(who, ": ", what, " (", shape_to_string(Shape(dims.begin() + static_cast<std::ptrdiff_t>(begin),
                                                       dims.begin() + static_cast<std::ptrdiff_t>(end))),
         ") overflows 64 bits");
  }
  return *p;
}

// --------------------------------------------------------------- Slice --

// One axis of a Slice after clamping: `count` elements from `start`, `step`
// apart.
struct SliceAxis {
  int64_t start = 0, count = 0, step = 1;
};

// Clamps one Slice axis as the ONNX spec does (and its shape inference):
// negative starts/ends count from the back (once); then start is clamped to
// [0, dim] and end to [0, dim] for a positive step, start to [0, dim-1] and
// end to [-1, dim-1] for a negative one. INT64_MAX and INT64_MIN thus mean
// "past the end" in either direction, and any |step| >= dim takes one
// element. Shape inference and the kernel both call this, so they agree.
// `step` must not be 0 and `dim` must be a valid dim (0 .. 2^40); nothing
// here overflows for any int64 start, end and step.
inline SliceAxis clamp_slice_axis(int64_t start, int64_t end, int64_t step, int64_t dim) {
  SliceAxis axis;
  axis.step = step;
  if (dim == 0) return axis;
  if (start < 0) start += dim;  // no overflow: start < 0 <= dim
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    // ceil((end - start) / step) without forming end - start + step - 1.
    axis.count = end > start ? (end - start - 1) / step + 1 : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    // ceil((start - end) / -step) without negating step (INT64_MIN):
    // (1 - span) / step == floor((span - 1) / -step) for span >= 1, step < 0.
    axis.count = start > end ? (1 - (start - end)) / step + 1 : 0;
  }
  axis.start = start;
  return axis;
}

}  // namespace kiln::checked
