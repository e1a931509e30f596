#include "kernels/kernel_table.h"

namespace kiln::kernels {

KernelTable KernelTable::for_isa(Isa isa) {
  KernelTable table;
  table.isa = isa;
  table.f32_gemm = &f32_gemm_microkernel_for(isa);
  table.f32_affine_activation = &f32_affine_activation_for(isa);
  return table;
}

}  // namespace kiln::kernels
