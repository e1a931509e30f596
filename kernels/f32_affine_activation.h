// One pass over a row: y[i] = act((x[i] - center) * multiplier + offset),
// the last step of a normalization (FusedLayerNorm) and, with center 0,
// multiplier 1, offset 0, a standalone activation. SIMD kernels per ISA
// (kernels/x86/f32_affine_activation_<isa>.cpp) and their scalar reference
// twin; x and y may be the same row (in place), not otherwise overlap.
#pragma once

#include <cstddef>
#include <span>

#include "kernels/f32_gemm_epilogue.h"
#include "platform/cpu_info.h"

namespace kiln::kernels {

struct F32AffineActivation {
  float center = 0.0f, multiplier = 1.0f, offset = 0.0f;
  Activation activation = Activation::none;
  float param0 = 0.0f, param1 = 0.0f;  // as in F32GemmEpilogue
};

using F32AffineActivationFn = void(const float* x, float* y, size_t n, const F32AffineActivation& map);

// The reference: f32_activation_reference on (x - center) * multiplier + offset, in float.
F32AffineActivationFn f32_affine_activation_reference;
F32AffineActivationFn f32_affine_activation_sse41, f32_affine_activation_avx2, f32_affine_activation_avx512;

struct F32AffineActivationKernel {
  const char* name;  // "f32_affine_activation_avx2", ...
  Isa isa;
  F32AffineActivationFn* run;
};

// Every kernel, lowest ISA first (the reference counts as sse2).
std::span<const F32AffineActivationKernel> f32_affine_activation_kernels();

// The last kernel of the inventory whose ISA is at or below `isa`.
const F32AffineActivationKernel& f32_affine_activation_for(Isa isa);

}  // namespace kiln::kernels
