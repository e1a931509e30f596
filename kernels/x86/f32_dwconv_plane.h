// The depthwise convolution kernels of kernels/f32_dwconv.h, written once
// over a SIMD-traits type V and instantiated by kernels/x86/f32_dwconv_<isa>.cpp
// for each K x K window (K = 3, 5) and stride S (1, 2).
//
// Data layout: one NCHW plane in, one out, rows contiguous.
//   1. Each input row is copied once per plane into a zero-padded row buffer
//      in scratch (a ring of K + S slots: input row ih lives in slot
//      ih % (K + S)). Buffer column c holds input column c - pad_left, and
//      every buffer is long enough for the last output vector to read in
//      full. For stride 2 the padded row is stored as its even and odd
//      columns (two phases), so that output column x, tap kw reads phase
//      kw % 2 at x + kw / 2: contiguous loads again.
//   2. Output rows are computed two at a time where the whole window of both
//      lies inside the image (the K + S input rows they read are loaded once
//      for both), one at a time elsewhere: the top and bottom border rows
//      then use only the kernel rows inside the image. Along a row, blocks of
//      NV vectors of output columns accumulate bias + weight * input over the
//      taps in the reference's order (kernel row, then column); two rows of
//      NV vectors give 2 * NV independent FMA chains. The last block of a row
//      has 1..NV vectors and ends with a masked store: no scalar tail.
//   3. The activation runs over each finished row while it is in L1.
//
// V must provide, beyond simd_f32_*.h's traits, for stride 2:
//   split_even_odd(a, b, even, odd): even = a0 a2 .. b0 b2 .., odd = a1 a3 .. b1 b3 ..
//
// Everything is in an unnamed namespace so each ISA's file keeps its own copy.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/f32_dwconv.h"
#include "kernels/x86/f32_activation_simd.h"

namespace kiln::kernels::x86 {
namespace {

// dst[i] = row[first + i] for 0 <= first + i < width, else 0; i < length.
inline void copy_padded(const float* row, int64_t width, int64_t first, float* dst, int64_t length) {
  const int64_t lead = std::clamp<int64_t>(-first, 0, length);                   // columns left of the row
  const int64_t copied = std::clamp<int64_t>(width - (first + lead), 0, length - lead);
  std::fill(dst, dst + lead, 0.0f);
  if (copied > 0) std::memcpy(dst + lead, row + first + lead, static_cast<size_t>(copied) * sizeof(float));
  std::fill(dst + lead + copied, dst + length, 0.0f);
}

// The padded row buffers of one plane (see the file comment, step 1).
template <class V, int K, int S>
class PaddedRows {
 public:
  static constexpr int kSlots = K + S;

  PaddedRows(const WindowGeometry& g, const float* input, float* scratch)
      : input_(input), width_(g.in[2]), pad_left_(g.pad_begin[2]), layout_(f32_dwconv_scratch_layout(g)) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(scratch);
    buffers_ = reinterpret_cast<float*>((address + 63) & ~uintptr_t{63});
    staging_ = buffers_ + layout_.slots * layout_.phases * layout_.row_floats;
    std::fill(slot_row_, slot_row_ + kSlots, int64_t{-1});
  }

  // Phase `phase` of input row ih (0 <= ih < in_h), copied in on first use.
  const float* row(int64_t ih, int phase) {
    const int64_t slot = ih % kSlots;
    float* buffer = buffers_ + slot * S * layout_.row_floats;
    if (slot_row_[slot] != ih) {
      fill(input_ + ih * width_, buffer);
      slot_row_[slot] = ih;
    }
    return buffer + phase * layout_.row_floats;
  }

 private:
  void fill(const float* row, float* buffer) const {
    if constexpr (S == 1) {
      copy_padded(row, width_, -pad_left_, buffer, layout_.row_floats);
    } else {
      static_assert(S == 2);
      // The padded row goes to staging first (one memcpy), then splits from
      // there: measured faster than splitting straight from the input with
      // the border blocks padded separately, most of all on narrow rows.
      constexpr int kLanes = V::kLanes;
      const int64_t phase_floats = layout_.row_floats;
      copy_padded(row, width_, -pad_left_, staging_, 2 * phase_floats);
      for (int64_t j = 0; j < phase_floats; j += kLanes) {
        typename V::Vec even, odd;
        V::split_even_odd(V::load_aligned(staging_ + 2 * j), V::load_aligned(staging_ + 2 * j + kLanes), even, odd);
        V::store(buffer + j, even);
        V::store(buffer + phase_floats + j, odd);
      }
    }
  }

  const float* input_;
  int64_t width_, pad_left_;
  F32DwconvScratchLayout layout_;
  float* buffers_;
  float* staging_;
  int64_t slot_row_[kSlots];
};

// What R output rows read: rows[r][phase] for input rows r = 0 .. (R-1)*S + K - 1
// counted from kernel row 0 of the first output row. When R == 1, only rows
// row_begin <= r < row_end lie inside the image (the others are not set).
template <int K, int S, int R>
struct RowWindow {
  static constexpr int kRows = (R - 1) * S + K;
  const float* rows[kRows][S];
  int row_begin = 0, row_end = kRows;
};

// Output columns [x, x + NVb * lanes) of R rows, stored up to column `width`.
// kAllRows: every input row of the window is inside the image (required
// for R > 1).
template <class V, int K, int S, int R, int NVb, bool kAllRows>
void conv_columns(const RowWindow<K, S, R>& window, const typename V::Vec (&weights)[K * K], typename V::Vec bias,
                  int64_t x, int64_t width, float* const (&out_rows)[R]) {
  static_assert(kAllRows || R == 1);
  using Vec = typename V::Vec;
  constexpr int kLanes = V::kLanes;
  Vec acc[R][NVb];
#pragma GCC unroll 2
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NVb; ++v) acc[i][v] = bias;
  const int r_begin = kAllRows ? 0 : window.row_begin;
  const int r_end = kAllRows ? RowWindow<K, S, R>::kRows : window.row_end;
  // Not unrolled: unrolling it lets the compiler hoist every load of the
  // window ahead of the arithmetic and spill them (measured slower for 5x5).
#pragma GCC unroll 1
  for (int r = r_begin; r < r_end; ++r) {
#pragma GCC unroll 5
    for (int kw = 0; kw < K; ++kw) {
      const float* in = window.rows[r][kw % S] + x + kw / S;
      Vec input[NVb];
#pragma GCC unroll 8
      for (int v = 0; v < NVb; ++v) input[v] = V::load(in + v * kLanes);
      // Input row r is kernel row r - i * S of output row i.
#pragma GCC unroll 2
      for (int i = 0; i < R; ++i) {
        const int kh = r - i * S;
        if (kh < 0 || kh >= K) continue;
        const Vec w = weights[kh * K + kw];
#pragma GCC unroll 8
        for (int v = 0; v < NVb; ++v) acc[i][v] = V::fmadd(w, input[v], acc[i][v]);
      }
    }
  }
#pragma GCC unroll 2
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 8
    for (int v = 0; v < NVb; ++v) {
      const int64_t column = x + v * kLanes;
      if (column + kLanes <= width)
        V::store(out_rows[i] + column, acc[i][v]);
      else if (column < width)
        V::store_partial(out_rows[i] + column, acc[i][v], static_cast<size_t>(width - column));
    }
  }
}

// The last 1..NV vectors of a row: picks the block of exactly `vectors` vectors.
template <class V, int K, int S, int R, int NVb, bool kAllRows>
void conv_last_columns(int64_t vectors, const RowWindow<K, S, R>& window, const typename V::Vec (&weights)[K * K],
                       typename V::Vec bias, int64_t x, int64_t width, float* const (&out_rows)[R]) {
  if (vectors == NVb) return conv_columns<V, K, S, R, NVb, kAllRows>(window, weights, bias, x, width, out_rows);
  if constexpr (NVb > 1)
    conv_last_columns<V, K, S, R, NVb - 1, kAllRows>(vectors, window, weights, bias, x, width, out_rows);
}

// R whole output rows of `width` columns.
template <class V, int K, int S, int R, int NV, bool kAllRows>
void conv_rows(const RowWindow<K, S, R>& window, const typename V::Vec (&weights)[K * K], typename V::Vec bias,
               int64_t width, float* const (&out_rows)[R]) {
  constexpr int64_t kBlock = int64_t{NV} * V::kLanes;
  int64_t x = 0;
  for (; x + kBlock <= width; x += kBlock)
    conv_columns<V, K, S, R, NV, kAllRows>(window, weights, bias, x, width, out_rows);
  if (x < width) {
    const int64_t vectors = (width - x + V::kLanes - 1) / V::kLanes;
    conv_last_columns<V, K, S, R, NV, kAllRows>(vectors, window, weights, bias, x, width, out_rows);
  }
}

// One plane: the body of every f32_dwconv_KxKsS_<isa> kernel.
template <class V, int K, int S, int NV>
void dwconv_plane(const WindowGeometry& g, const float* input, const float* weights,
                  const F32DwconvEpilogue& epilogue, float* output, float* scratch) {
  using Vec = typename V::Vec;
  const int64_t in_h = g.in[1], out_h = g.out[1], out_w = g.out[2], pad_top = g.pad_begin[1];
  PaddedRows<V, K, S> padded(g, input, scratch);
  Vec weight_vectors[K * K];
  for (int t = 0; t < K * K; ++t) weight_vectors[t] = V::set1(weights[t]);
  const Vec bias_vector = V::set1(epilogue.bias);
  // Output rows whose whole window lies inside the image: [full_begin, full_end).
  const int64_t full_begin = std::min(out_h, (pad_top + S - 1) / S);
  const int64_t last_full_row_times_s = in_h - K + pad_top;  // oh * S <= this
  const int64_t full_end =
      last_full_row_times_s < 0 ? full_begin : std::clamp(last_full_row_times_s / S + 1, full_begin, out_h);

  auto activate = [&](float* out_row) {
    activate_row<V>(out_row, static_cast<size_t>(out_w), epilogue.activation, epilogue.param0, epilogue.param1);
    if (epilogue.has_output_affine())
      affine_row<V>(out_row, static_cast<size_t>(out_w), epilogue.output_scale, epilogue.output_shift);
  };

  int64_t oh = 0;
  while (oh < out_h) {
    const int64_t ih0 = oh * S - pad_top;  // input row of kernel row 0
    if (oh >= full_begin && oh + 1 < full_end) {
      RowWindow<K, S, 2> window;
      for (int r = 0; r < window.kRows; ++r)
        for (int phase = 0; phase < S; ++phase) window.rows[r][phase] = padded.row(ih0 + r, phase);
      float* const out_rows[2] = {output + oh * out_w, output + (oh + 1) * out_w};
      conv_rows<V, K, S, 2, NV, true>(window, weight_vectors, bias_vector, out_w, out_rows);
      for (float* out_row : out_rows) activate(out_row);
      oh += 2;
    } else {
      RowWindow<K, S, 1> window;
      window.row_begin = static_cast<int>(std::clamp<int64_t>(-ih0, 0, K));
      window.row_end = static_cast<int>(std::clamp<int64_t>(in_h - ih0, window.row_begin, K));
      for (int r = window.row_begin; r < window.row_end; ++r)
        for (int phase = 0; phase < S; ++phase) window.rows[r][phase] = padded.row(ih0 + r, phase);
      float* const out_rows[1] = {output + oh * out_w};
      if (window.row_begin == 0 && window.row_end == K)
        conv_rows<V, K, S, 1, NV, true>(window, weight_vectors, bias_vector, out_w, out_rows);
      else
        conv_rows<V, K, S, 1, NV, false>(window, weight_vectors, bias_vector, out_w, out_rows);
      activate(out_rows[0]);
      oh += 1;
    }
  }
}

}  // namespace
}  // namespace kiln::kernels::x86
