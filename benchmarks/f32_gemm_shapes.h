// The GEMM problems kiln_f32_gemm_bench and kiln_f32_gemm_pairs both time,
// and their inputs.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace kiln::bench {

struct GemmShape {
  const char* family;  // "square", "conv" (or "tile" for a microkernel alone)
  size_t m, n, k;

  // e.g. "conv/M:32/N:92160/K:576"
  std::string name() const {
    return std::string(family) + "/M:" + std::to_string(m) + "/N:" + std::to_string(n) + "/K:" + std::to_string(k);
  }
  // Conv shapes: kiln packs A (the weights) once, as a Conv session does;
  // square shapes pack A on every call, as a general GEMM does.
  bool packs_a_once() const { return std::strcmp(family, "conv") == 0; }
};

// Square M = N = K = 256, 512, 1024, and conv shapes: M = output channels,
// K = 9 * C_in. N = 92160 (e.g. 320 x 288): every M x K. N = 921600 (1280 x
// 720): the early-layer shapes only, since B and C there take up to 2 GB.
inline std::vector<GemmShape> f32_gemm_benchmark_shapes() {
  std::vector<GemmShape> shapes;
  for (size_t size : {256, 512, 1024}) shapes.push_back({"square", size, size, size});
  for (size_t m : {32, 64, 128, 256})
    for (size_t k : {27, 144, 576}) shapes.push_back({"conv", m, 92160, k});
  for (auto [m, k] : {std::pair<size_t, size_t>{32, 27}, {64, 27}, {32, 144}, {64, 144}})
    shapes.push_back({"conv", m, 921600, k});
  return shapes;
}

// A and B of a shape: small exact values, cheap to generate for a 2 GB matrix.
inline void fill_gemm_inputs(std::vector<float>& a, std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(int(i * 7 % 13) - 6) / 8.0f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = float(int(i * 5 % 11) - 5) / 8.0f;
}

}  // namespace kiln::bench
