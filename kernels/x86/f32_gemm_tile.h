// The f32 GEMM microkernel, written once over a SIMD-traits type V (see
// simd_f32_*.h) and instantiated by one small file per ISA.
//
// Layout and preconditions: see kernels/f32_gemm_microkernel.h. The tile is
// MR rows x NV vectors (NR = NV * V::kLanes columns). Each k step loads NV
// vectors of the B panel and broadcasts one A value per row into all lanes;
// the MR x NV accumulators stay in registers for the whole k loop. A tile
// with fewer rows (mr < MR) runs a copy of the loop specialised for mr rows,
// so leftover rows cost no wasted arithmetic; leftover columns are computed
// in full and cut off by partial (masked) stores.
//
// Like the traits, everything here is in an unnamed namespace so every
// per-ISA file keeps its own code.
#pragma once

#include <array>
#include <cstddef>
#include <utility>

#include "kernels/f32_gemm_epilogue.h"
#include "kernels/x86/f32_activation_simd.h"

namespace kiln::kernels::x86 {
namespace {

// Adds bias (and old C), applies the activation and the output affine map,
// stores the kRows x nr corner.
template <class V, int NV, int kRows, Activation kActivation>
void store_tile(typename V::Vec (&acc)[kRows][NV], size_t nr, float* c, size_t ldc,
                const F32GemmTileEpilogue& epilogue) {
  using Vec = typename V::Vec;
  constexpr size_t kLanes = V::kLanes;
  Vec param0 = V::set1(epilogue.param0), param1 = V::set1(epilogue.param1);
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    float* c_row = c + r * ldc;
    Vec bias = epilogue.bias != nullptr ? V::set1(epilogue.bias[r]) : V::zero();
    const bool affine = epilogue.output_scale != nullptr;
    Vec scale = affine ? V::set1(epilogue.output_scale[r]) : V::zero();
    Vec shift = affine ? V::set1(epilogue.output_shift[r]) : V::zero();
    auto finish = [&](Vec x) {
      x = activate<V, kActivation>(x, param0, param1);
      return affine ? V::fmadd(x, scale, shift) : x;
    };
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      size_t column = v * kLanes;
      Vec x = V::add(acc[r][v], bias);
      if (column + kLanes <= nr) {
        if (epilogue.load_c) x = V::add(x, V::load(c_row + column));
        V::store(c_row + column, finish(x));
      } else if (column < nr) {
        size_t lanes = nr - column;
        if (epilogue.load_c) x = V::add(x, V::load_partial(c_row + column, lanes));
        V::store_partial(c_row + column, finish(x), lanes);
      }
    }
  }
}

// One tile with exactly kRows rows (kRows <= MR, the A panel's row stride).
// kACopies is how many copies of each A value the packed panel holds: 1
// (broadcast on load) or V::kLanes (already broadcast by the packer, so the
// loop needs no shuffle: worth it where broadcasting costs a shuffle, SSE).
template <class V, int MR, int NV, int kACopies, int kRows>
void gemm_tile_rows(size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c, size_t ldc,
                    const F32GemmTileEpilogue& epilogue) {
  using Vec = typename V::Vec;
  constexpr int kLanes = V::kLanes;
  Vec acc[kRows][NV];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();

  // Start bringing the C tile into cache while the k loop runs.
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    __builtin_prefetch(c + r * ldc, 1);
    __builtin_prefetch(c + r * ldc + NV * kLanes - 1, 1);
  }

  // Unrolled by 4: the SSE tile's k step is short enough (4 cycles) for the
  // loop counter to cost ~15% (measured in the tile benchmark).
#pragma GCC unroll 4
  for (size_t p = 0; p < kc; ++p) {
    Vec b_row[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) b_row[v] = V::load_aligned(b_panel + v * kLanes);
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      Vec a_value = kACopies == 1 ? V::broadcast(a_panel + r) : V::load_aligned(a_panel + r * kACopies);
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(a_value, b_row[v], acc[r][v]);
    }
    a_panel += MR * kACopies;
    b_panel += NV * kLanes;
  }

  switch (epilogue.activation) {
    case Activation::none: return store_tile<V, NV, kRows, Activation::none>(acc, nr, c, ldc, epilogue);
    case Activation::relu: return store_tile<V, NV, kRows, Activation::relu>(acc, nr, c, ldc, epilogue);
    case Activation::clip: return store_tile<V, NV, kRows, Activation::clip>(acc, nr, c, ldc, epilogue);
    case Activation::leaky_relu: return store_tile<V, NV, kRows, Activation::leaky_relu>(acc, nr, c, ldc, epilogue);
    case Activation::hard_sigmoid: return store_tile<V, NV, kRows, Activation::hard_sigmoid>(acc, nr, c, ldc, epilogue);
    case Activation::hard_swish: return store_tile<V, NV, kRows, Activation::hard_swish>(acc, nr, c, ldc, epilogue);
    case Activation::sigmoid: return store_tile<V, NV, kRows, Activation::sigmoid>(acc, nr, c, ldc, epilogue);
    case Activation::swish: return store_tile<V, NV, kRows, Activation::swish>(acc, nr, c, ldc, epilogue);
  }
}

using TileRowsFn = void (*)(size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c, size_t ldc,
                            const F32GemmTileEpilogue& epilogue);

template <class V, int MR, int NV, int kACopies, size_t... kRowsMinusOne>
constexpr auto make_tile_rows_table(std::index_sequence<kRowsMinusOne...>) {
  return std::array<TileRowsFn, MR>{&gemm_tile_rows<V, MR, NV, kACopies, static_cast<int>(kRowsMinusOne) + 1>...};
}

// The microkernel entry point: picks the copy of the loop for mr rows.
template <class V, int MR, int NV, int kACopies>
void gemm_tile(size_t mr, size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c, size_t ldc,
               const F32GemmTileEpilogue& epilogue) {
  static_assert(kACopies == 1 || kACopies == V::kLanes);
  static constexpr auto kByRows = make_tile_rows_table<V, MR, NV, kACopies>(std::make_index_sequence<MR>());
  if (mr == 0 || nr == 0) return;
  kByRows[mr - 1](nr, kc, a_panel, b_panel, c, ldc, epilogue);
}

}  // namespace
}  // namespace kiln::kernels::x86
