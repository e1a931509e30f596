// The body of every f32_affine_activation_<isa> kernel
// (kernels/f32_affine_activation.h), over a SIMD-traits type V: one fused
// multiply-add and the activation per vector, a masked tail.
#pragma once

#include <cstddef>

#include "kernels/f32_affine_activation.h"
#include "kernels/x86/f32_activation_simd.h"

namespace kiln::kernels::x86 {
namespace {

template <class V, Activation kActivation>
void affine_activation_as(const float* x, float* y, size_t n, const F32AffineActivation& map) {
  using Vec = typename V::Vec;
  constexpr size_t kLanes = V::kLanes;
  const Vec center = V::set1(map.center), multiplier = V::set1(map.multiplier), offset = V::set1(map.offset);
  const Vec param0 = V::set1(map.param0), param1 = V::set1(map.param1);
  auto one = [&](Vec v) { return activate<V, kActivation>(V::fmadd(V::sub(v, center), multiplier, offset), param0, param1); };
  size_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    const Vec a = V::load(x + i), b = V::load(x + i + kLanes);
    V::store(y + i, one(a));
    V::store(y + i + kLanes, one(b));
  }
  for (; i + kLanes <= n; i += kLanes) V::store(y + i, one(V::load(x + i)));
  if (i < n) V::store_partial(y + i, one(V::load_partial(x + i, n - i)), n - i);
}

template <class V>
void affine_activation(const float* x, float* y, size_t n, const F32AffineActivation& map) {
  switch (map.activation) {
    case Activation::none: return affine_activation_as<V, Activation::none>(x, y, n, map);
    case Activation::relu: return affine_activation_as<V, Activation::relu>(x, y, n, map);
    case Activation::clip: return affine_activation_as<V, Activation::clip>(x, y, n, map);
    case Activation::leaky_relu: return affine_activation_as<V, Activation::leaky_relu>(x, y, n, map);
    case Activation::hard_sigmoid: return affine_activation_as<V, Activation::hard_sigmoid>(x, y, n, map);
    case Activation::hard_swish: return affine_activation_as<V, Activation::hard_swish>(x, y, n, map);
    case Activation::sigmoid: return affine_activation_as<V, Activation::sigmoid>(x, y, n, map);
    case Activation::swish: return affine_activation_as<V, Activation::swish>(x, y, n, map);
  }
}

}  // namespace
}  // namespace kiln::kernels::x86
