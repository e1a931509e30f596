// The FMA peak loop of kernels/f32_peak.h, written once over a SIMD-traits
// type V (simd_f32_avx2.h, simd_f32_avx512.h) and instantiated by one small
// file per ISA: 12 chains of acc = acc * one + step, enough to keep two FMA
// pipelines of latency up to 6 cycles busy. In an unnamed namespace, like the
// traits, so every per-ISA file keeps its own code.
#pragma once

#include <cstdint>

namespace kiln::kernels::x86 {
namespace {

template <class V>
uint64_t f32_peak_fma_loop(uint64_t iterations, float one, float* sink) {
  using Vec = typename V::Vec;
  constexpr int kChains = 12;
  const Vec factor = V::set1(one), step = V::set1(1e-7f);
  Vec acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = V::zero();
  for (uint64_t round = 0; round < iterations; ++round)
    for (int i = 0; i < kChains; ++i) acc[i] = V::fmadd(acc[i], factor, step);
  Vec total = V::zero();
  for (int i = 0; i < kChains; ++i) total = V::add(total, acc[i]);
  float lanes[V::kLanes];
  V::store(lanes, total);
  *sink = lanes[0] + lanes[V::kLanes - 1];  // two lanes, as F32Peak's test expects
  return iterations * kChains * V::kLanes * 2;
}

}  // namespace
}  // namespace kiln::kernels::x86
