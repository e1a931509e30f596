// What a GEMM does to each result before it stores it: add a per-row bias
// (a convolution's per-output-channel bias), optionally add the old C
// (beta = 1), apply an activation, then optionally a per-row affine map:
//
//   C[i][j] = act( sum_p A[i][p] * B[p][j] + bias[i] + (accumulate ? C[i][j] : 0) ) * scale[i] + shift[i]
#pragma once

#include <cmath>

namespace kiln::kernels {

enum class Activation {
  none,
  relu,          // max(x, 0)
  clip,          // min(max(x, param0), param1)
  leaky_relu,    // x >= 0 ? x : param0 * x
  hard_sigmoid,  // max(0, min(1, param0 * x + param1))
  hard_swish,    // x * max(0, min(1, param0 * x + param1))  (ONNX HardSwish: 1/6, 1/2)
  sigmoid,       // 1 / (1 + exp(-x))
  swish,         // x * sigmoid(x)  (SiLU)
};

const char* activation_name(Activation activation);

// The epilogue of a whole GEMM call.
struct F32GemmEpilogue {
  const float* bias = nullptr;  // M values, one per row of C; nullptr = no bias
  bool accumulate = false;      // add into the old C (beta = 1) instead of overwriting it
  Activation activation = Activation::none;
  float param0 = 0.0f;  // clip min, leaky-relu alpha, hard-sigmoid / hard-swish alpha
  float param1 = 0.0f;  // clip max, hard-sigmoid / hard-swish beta
  // After the activation: M values each, both set or both nullptr (none).
  const float* output_scale = nullptr;
  const float* output_shift = nullptr;
};

// What one microkernel call applies to its tile. The driver splits K into
// blocks: only the first block adds the bias (and the old C when
// accumulating), later blocks add into C, and only the last applies the
// activation and the output affine map.
struct F32GemmTileEpilogue {
  const float* bias;  // mr values for this tile's rows, or nullptr
  bool load_c;        // add the values already in C
  Activation activation;
  float param0, param1;
  const float* output_scale = nullptr;  // mr values each for this tile's rows, or both nullptr
  const float* output_shift = nullptr;
};

// The plain scalar definition of each activation (the reference twin of the
// vector epilogues in kernels/x86/f32_gemm_tile.h).
inline float f32_activation_reference(Activation activation, float x, float param0, float param1) {
  switch (activation) {
    case Activation::none: return x;
    case Activation::relu: return x > 0.0f ? x : 0.0f;
    case Activation::clip: return std::fmin(std::fmax(x, param0), param1);
    case Activation::leaky_relu: return x >= 0.0f ? x : param0 * x;
    case Activation::hard_sigmoid: return std::fmax(0.0f, std::fmin(1.0f, param0 * x + param1));
    case Activation::hard_swish: return x * std::fmax(0.0f, std::fmin(1.0f, param0 * x + param1));
    case Activation::sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case Activation::swish: return x / (1.0f + std::exp(-x));
  }
  return x;
}

}  // namespace kiln::kernels
