// Max and average pooling of one channel plane (the window geometry says
// where each output's window lies; taps in padding are skipped).
#pragma once

#include <cstdint>

#include "kernels/window_geometry.h"

namespace kiln::kernels {

// output[o] = the largest input under window o (lowest() for a window that is
// all padding; NaN when any tap inside the image is NaN). When `indices` is
// not null it receives, per output, the position of that maximum inside the
// plane (row-major, or column-major when `column_major`), plus `index_base`;
// the first maximum (or the first NaN) wins on ties.
// Instantiated for float, double, int8_t and uint8_t.
template <class T>
void max_pool_plane(const WindowGeometry& geometry, const T* input, T* output, int64_t* indices,
                    int64_t index_base, bool column_major);

// output[o] = the mean of the window's taps: divided by the taps inside the
// input, or with `count_include_pad` by the taps inside input + pads. Sums in
// float, rows first (the reference sums in double).
void f32_average_pool_plane(const WindowGeometry& geometry, bool count_include_pad, const float* input,
                            float* output);

// The plain reference twins (kernels/reference/pool_reference.cpp): every
// tap of every window tested against the image (and padded image) bounds.
void f32_max_pool_plane_reference(const WindowGeometry& geometry, const float* input, float* output, int64_t* indices,
                                  int64_t index_base, bool column_major);
void f32_average_pool_plane_reference(const WindowGeometry& geometry, bool count_include_pad, const float* input,
                                      float* output);

}  // namespace kiln::kernels
