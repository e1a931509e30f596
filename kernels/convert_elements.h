// Element type conversion for Cast / CastLike and for writing scalar values
// (pad values, fill values, interpolated results) into a tensor of any type.
//
// Rules (those of C++/numpy on x86 where ONNX leaves them open):
//   - float -> integer truncates toward zero; NaN becomes 0; values outside
//     int64 saturate to the int64 range first, then wrap to narrower types
//     like an integer -> integer cast (so -1.0 -> uint8 gives 255, as numpy).
//   - integer -> integer wraps modulo 2^bits.
//   - anything -> bool is `value != 0` (NaN -> true); bool -> number is 0 / 1.
//   - -> float16 / bfloat16 rounds to nearest even, computed without double
//     rounding when the source is float64.
#pragma once

#include <cstdint>

#include "kiln/tensor.h"

namespace kiln::kernels {

// Converts `count` elements of type `from` at `src` into type `to` at `dst`.
// Both types must be supported tensor types (not string).
void convert_elements(const void* src, DataType from, void* dst, DataType to, int64_t count, int threads = 1);

// Writes `value` converted to `type` (same rules as above) into `dst`.
void store_double_as(double value, DataType type, void* dst);

// double -> float rounding toward zero with the last bit set when inexact
// ("round to odd"): rounding that float again to a narrower format gives the
// same result as rounding the double directly.
float double_to_float_round_to_odd(double value);

}  // namespace kiln::kernels
