// The f32 GEMM microkernels and their inventory.
//
// A microkernel computes one MR x NR tile of C from a packed A panel and a
// packed B panel:
//   a_panel: kc x MR x AC floats, k-major, each value repeated AC times
//            (a_copies): a_panel[(p * MR + r) * AC + copy] = A[row0 + r][k0 + p],
//            16-byte aligned
//   b_panel: kc x NR floats, k-major: b_panel[p * NR + j] = B[k0 + p][col0 + j],
//            64-byte aligned
// Rows past mr and columns past nr of the panels are zero padding. The kernel
// stores only the mr x nr corner (mr <= MR, nr <= NR) of C, whose rows are ldc
// floats apart, applying the tile epilogue (kernels/f32_gemm_epilogue.h).
// It never allocates or spawns threads: packing, blocking and threading belong
// to the driver (kernels/f32_gemm_packed.h).
#pragma once

#include <cstddef>
#include <span>

#include "kernels/f32_gemm_epilogue.h"
#include "platform/cpu_info.h"

namespace kiln::kernels {

using F32GemmTileFn = void (*)(size_t mr, size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c,
                               size_t ldc, const F32GemmTileEpilogue& epilogue);

struct F32GemmMicrokernel {
  const char* name;  // op-datatype-tile-ISA, e.g. "f32_gemm_6x16_avx2"
  Isa isa;           // the level the CPU must support to run it
  int mr, nr;        // tile rows and columns
  int a_copies;      // copies of each A value in a packed A panel (1 or the vector width)
  // Whether the driver may prefetch the next block of B while this kernel
  // computes the current one (f32_gemm_blocking says when). Measured per
  // kernel: it pays for the AVX2 and AVX-512 tiles, not for the SSE one,
  // which is bound by its arithmetic.
  bool prefetch_next_b;
  F32GemmTileFn tile;
};

// One function per translation unit in kernels/x86/, named like its file.
void f32_gemm_4x8_sse2(size_t mr, size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c,
                       size_t ldc, const F32GemmTileEpilogue& epilogue);
void f32_gemm_4x8_sse41(size_t mr, size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c,
                        size_t ldc, const F32GemmTileEpilogue& epilogue);
void f32_gemm_6x16_avx2(size_t mr, size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c,
                        size_t ldc, const F32GemmTileEpilogue& epilogue);
void f32_gemm_8x32_avx512(size_t mr, size_t nr, size_t kc, const float* a_panel, const float* b_panel, float* c,
                          size_t ldc, const F32GemmTileEpilogue& epilogue);

// Every microkernel kiln has, lowest ISA first. The dispatch table, the unit
// tests and the benchmarks all iterate over this one list.
std::span<const F32GemmMicrokernel> f32_gemm_microkernels();

// The last kernel of the inventory whose ISA is at or below `isa`.
const F32GemmMicrokernel& f32_gemm_microkernel_for(Isa isa);

}  // namespace kiln::kernels
