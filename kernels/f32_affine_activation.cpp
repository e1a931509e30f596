#include "kernels/f32_affine_activation.h"

namespace kiln::kernels {

namespace {

template <Activation kActivation>
void reference_loop(const float* x, float* y, size_t n, const F32AffineActivation& map) {
  for (size_t i = 0; i < n; ++i)
    y[i] = f32_activation_reference(kActivation, (x[i] - map.center) * map.multiplier + map.offset, map.param0,
                                    map.param1);
}

constexpr F32AffineActivationKernel kKernels[] = {
    {"f32_affine_activation_reference", Isa::sse2, &f32_affine_activation_reference},
    {"f32_affine_activation_sse41", Isa::sse41, &f32_affine_activation_sse41},
    {"f32_affine_activation_avx2", Isa::avx2, &f32_affine_activation_avx2},
    {"f32_affine_activation_avx512", Isa::avx512, &f32_affine_activation_avx512},
};

}  // namespace

void f32_affine_activation_reference(const float* x, float* y, size_t n, const F32AffineActivation& map) {
  switch (map.activation) {
    case Activation::none: return reference_loop<Activation::none>(x, y, n, map);
    case Activation::relu: return reference_loop<Activation::relu>(x, y, n, map);
    case Activation::clip: return reference_loop<Activation::clip>(x, y, n, map);
    case Activation::leaky_relu: return reference_loop<Activation::leaky_relu>(x, y, n, map);
    case Activation::hard_sigmoid: return reference_loop<Activation::hard_sigmoid>(x, y, n, map);
    case Activation::hard_swish: return reference_loop<Activation::hard_swish>(x, y, n, map);
    case Activation::sigmoid: return reference_loop<Activation::sigmoid>(x, y, n, map);
    case Activation::swish: return reference_loop<Activation::swish>(x, y, n, map);
  }
}

std::span<const F32AffineActivationKernel> f32_affine_activation_kernels() { return kKernels; }

const F32AffineActivationKernel& f32_affine_activation_for(Isa isa) {
  const F32AffineActivationKernel* best = &kKernels[0];
  for (const F32AffineActivationKernel& kernel : kKernels)
    if (static_cast<int>(kernel.isa) <= static_cast<int>(isa)) best = &kernel;
  return *best;
}

}  // namespace kiln::kernels
