// The kernels one session runs: one microkernel per family, picked once when
// the session is built from the instruction-set level it runs at (the CPU's
// best, or lower when SessionOptions::isa or KILN_ISA asks), and handed to
// every operator's factory through KernelInit. Nothing else picks a kernel,
// so two sessions in one process can run at different levels.
#pragma once

#include "kernels/f32_affine_activation.h"
#include "kernels/f32_dwconv.h"
#include "kernels/f32_gemm_microkernel.h"  // (and Isa)

namespace kiln::kernels {

struct KernelTable {
  Isa isa = Isa::sse2;
  // Each the last kernel of its family's inventory whose ISA is at or below `isa`.
  const F32GemmMicrokernel* f32_gemm = nullptr;
  const F32AffineActivationKernel* f32_affine_activation = nullptr;

  // Depthwise kernels are one per window and stride, so the choice needs the
  // window: the best kernel at or below `isa` that fits `geometry`, or
  // nullptr (the caller runs the reference).
  const F32DwconvKernel* f32_dwconv(const WindowGeometry& geometry) const {
    return select_f32_dwconv_kernel(geometry, isa);
  }

  // The table for one level (which the caller has checked the CPU supports).
  static KernelTable for_isa(Isa isa);
};

}  // namespace kiln::kernels
