// The activations a kernel can apply to its results before storing them:
// those of kiln's FusedConv node (docs/fused_ops.md), with their parameters.
//
//   kind          param0  param1  f(x)
//   none                          x
//   relu                          max(x, 0)
//   clip          lo      hi      min(max(x, lo), hi)
//   leaky_relu    alpha           x >= 0 ? x : alpha * x
//   hard_sigmoid  alpha   beta    max(0, min(1, alpha * x + beta))
//   hard_swish    alpha   beta    x * max(0, min(1, alpha * x + beta))
//   sigmoid                       1 / (1 + exp(-x))
//   swish                         x * sigmoid(x) = x / (1 + exp(-x))
#pragma once

#include <cmath>
#include <optional>
#include <span>
#include <string_view>

namespace kiln::kernels {

enum class ActivationKind { none, relu, clip, leaky_relu, hard_sigmoid, hard_swish, sigmoid, swish };

struct F32Activation {
  ActivationKind kind = ActivationKind::none;
  float param0 = 0.0f;
  float param1 = 0.0f;
};

// "none", "relu", ... (the enumerator's name).
const char* activation_kind_name(ActivationKind kind);

// How many parameters `kind` takes (0, 1 or 2).
int activation_param_count(ActivationKind kind);

// The activation a FusedConv node's `activation` string and
// `activation_params` describe ("" = none), or nothing when the name is
// unknown or the parameter count is wrong (the caller reports the error).
std::optional<F32Activation> activation_from_fused_attrs(std::string_view name, std::span<const float> params);

// The plain scalar definition, evaluated in float (the reference twin of the
// vector versions in kernels/x86/f32_activation_simd.h).
inline float f32_activate_reference(const F32Activation& activation, float x) {
  switch (activation.kind) {
    case ActivationKind::none: return x;
    case ActivationKind::relu: return x > 0.0f ? x : 0.0f;
    case ActivationKind::clip: return std::fmin(std::fmax(x, activation.param0), activation.param1);
    case ActivationKind::leaky_relu: return x >= 0.0f ? x : activation.param0 * x;
    case ActivationKind::hard_sigmoid:
      return std::fmax(0.0f, std::fmin(1.0f, activation.param0 * x + activation.param1));
    case ActivationKind::hard_swish:
      return x * std::fmax(0.0f, std::fmin(1.0f, activation.param0 * x + activation.param1));
    case ActivationKind::sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case ActivationKind::swish: return x / (1.0f + std::exp(-x));
  }
  return x;
}

}  // namespace kiln::kernels
