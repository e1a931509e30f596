// The activations of kernels/f32_gemm_epilogue.h on float vectors, written
// once over a SIMD-traits type V (kernels/x86/simd_f32_*.h): the vector twins
// of f32_activation_reference, shared by the GEMM epilogue
// (f32_gemm_tile.h) and the depthwise kernels (f32_dwconv_plane.h).
//
// Everything is in an unnamed namespace, like the traits: each ISA's file
// keeps its own copy, built with its own flags.
#pragma once

#include <cstddef>

#include "kernels/f32_gemm_epilogue.h"

namespace kiln::kernels::x86 {
namespace {

// exp(x) for float vectors: x = n ln2 + r with |r| <= ln2/2, then a degree-6
// polynomial for exp(r) (Cephes coefficients) times 2^n. Relative error about
// 2 ulp; x is clamped to [-87, 88] so 2^n stays a normal float.
template <class V>
typename V::Vec exp_approx(typename V::Vec x) {
  using Vec = typename V::Vec;
  x = V::min(V::max(x, V::set1(-87.0f)), V::set1(88.0f));
  Vec n = V::round_nearest(V::mul(x, V::set1(1.44269504088896341f)));
  Vec r = V::fmadd(n, V::set1(-0.693359375f), x);  // ln2 split into an exact high part
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);     // and a small low part
  Vec poly = V::set1(1.9875691500e-4f);
  poly = V::fmadd(poly, r, V::set1(1.3981999507e-3f));
  poly = V::fmadd(poly, r, V::set1(8.3334519073e-3f));
  poly = V::fmadd(poly, r, V::set1(4.1665795894e-2f));
  poly = V::fmadd(poly, r, V::set1(1.6666665459e-1f));
  poly = V::fmadd(poly, r, V::set1(5.0000001201e-1f));
  poly = V::fmadd(poly, V::mul(r, r), V::add(r, V::set1(1.0f)));
  return V::mul(poly, V::pow2(n));
}

// The vector twin of f32_activation_reference.
template <class V, Activation kActivation>
typename V::Vec activate(typename V::Vec x, typename V::Vec param0, typename V::Vec param1) {
  using Vec = typename V::Vec;
  if constexpr (kActivation == Activation::none) {
    return x;
  } else if constexpr (kActivation == Activation::relu) {
    return V::max(x, V::zero());
  } else if constexpr (kActivation == Activation::clip) {
    return V::min(V::max(x, param0), param1);
  } else if constexpr (kActivation == Activation::leaky_relu) {
    // max(x, 0) + alpha * min(x, 0): one of the two terms is exactly 0.
    return V::add(V::max(x, V::zero()), V::mul(param0, V::min(x, V::zero())));
  } else if constexpr (kActivation == Activation::hard_sigmoid) {
    return V::max(V::zero(), V::min(V::set1(1.0f), V::fmadd(param0, x, param1)));
  } else if constexpr (kActivation == Activation::hard_swish) {
    Vec gate = V::fmadd(param0, x, param1);
    return V::mul(x, V::max(V::zero(), V::min(V::set1(1.0f), gate)));
  } else if constexpr (kActivation == Activation::sigmoid) {
    Vec one = V::set1(1.0f);
    return V::div(one, V::add(one, exp_approx<V>(V::sub(V::zero(), x))));
  } else {
    static_assert(kActivation == Activation::swish);
    Vec one = V::set1(1.0f);
    return V::div(x, V::add(one, exp_approx<V>(V::sub(V::zero(), x))));
  }
}

template <class V, Activation kActivation>
void activate_row_as(float* row, size_t count, float param0, float param1) {
  using Vec = typename V::Vec;
  constexpr size_t kLanes = V::kLanes;
  const Vec param0_vector = V::set1(param0), param1_vector = V::set1(param1);
  size_t x = 0;
  for (; x + kLanes <= count; x += kLanes)
    V::store(row + x, activate<V, kActivation>(V::load(row + x), param0_vector, param1_vector));
  if (x < count) {
    const Vec tail = V::load_partial(row + x, count - x);
    V::store_partial(row + x, activate<V, kActivation>(tail, param0_vector, param1_vector), count - x);
  }
}

// row[0 .. count) = activation(row[0 .. count)), in place.
template <class V>
void activate_row(float* row, size_t count, Activation activation, float param0, float param1) {
  switch (activation) {
    case Activation::none: return;
    case Activation::relu: return activate_row_as<V, Activation::relu>(row, count, param0, param1);
    case Activation::clip: return activate_row_as<V, Activation::clip>(row, count, param0, param1);
    case Activation::leaky_relu: return activate_row_as<V, Activation::leaky_relu>(row, count, param0, param1);
    case Activation::hard_sigmoid: return activate_row_as<V, Activation::hard_sigmoid>(row, count, param0, param1);
    case Activation::hard_swish: return activate_row_as<V, Activation::hard_swish>(row, count, param0, param1);
    case Activation::sigmoid: return activate_row_as<V, Activation::sigmoid>(row, count, param0, param1);
    case Activation::swish: return activate_row_as<V, Activation::swish>(row, count, param0, param1);
  }
}

// row[0 .. count) = row * scale + shift, in place.
template <class V>
void affine_row(float* row, size_t count, float scale, float shift) {
  using Vec = typename V::Vec;
  constexpr size_t kLanes = V::kLanes;
  const Vec scale_vector = V::set1(scale), shift_vector = V::set1(shift);
  size_t x = 0;
  for (; x + kLanes <= count; x += kLanes) V::store(row + x, V::fmadd(V::load(row + x), scale_vector, shift_vector));
  if (x < count)
    V::store_partial(row + x, V::fmadd(V::load_partial(row + x, count - x), scale_vector, shift_vector), count - x);
}

}  // namespace
}  // namespace kiln::kernels::x86
