// Softmax and LogSoftmax of float32 along one axis of a row-major block
// viewed as [n, inner]: each of the `inner` columns (n values, stride inner)
// is normalized on its own. inner == 1 is one contiguous row.
//
// The column's maximum is subtracted first; the sum of exponentials
// accumulates in double. x and y may be the same buffer. The caller threads
// over blocks.
#pragma once

#include <cstdint>

namespace kiln::kernels {

// y = exp(x - max) / sum(exp(x - max)), per column.
void f32_softmax(const float* x, float* y, int64_t n, int64_t inner);

// y = (x - max) - log(sum(exp(x - max))), per column.
void f32_log_softmax(const float* x, float* y, int64_t n, int64_t inner);

// The plain reference twins, in the definition's own form (no max shift,
// double throughout): y = exp(x) / sum(exp(x)) and y = x - log(sum(exp(x))).
// Inputs must stay small enough that exp(x) neither overflows nor underflows
// to 0 in double.
void f32_softmax_reference(const float* x, float* y, int64_t n, int64_t inner);
void f32_log_softmax_reference(const float* x, float* y, int64_t n, int64_t inner);

}  // namespace kiln::kernels
