#include "kernels/f32_activation.h"

#include <string>

namespace kiln::kernels {

namespace {

struct ActivationSpelling {
  ActivationKind kind;
  const char* kernel_name;  // activation_kind_name
  const char* fused_name;   // FusedConv's `activation` attribute
  int params;
};

constexpr ActivationSpelling kSpellings[] = {
    {ActivationKind::none, "none", "", 0},
    {ActivationKind::relu, "relu", "Relu", 0},
    {ActivationKind::clip, "clip", "Clip", 2},
    {ActivationKind::leaky_relu, "leaky_relu", "LeakyRelu", 1},
    {ActivationKind::hard_sigmoid, "hard_sigmoid", "HardSigmoid", 2},
    {ActivationKind::hard_swish, "hard_swish", "HardSwish", 2},
    {ActivationKind::sigmoid, "sigmoid", "Sigmoid", 0},
    {ActivationKind::swish, "swish", "Swish", 0},
};

const ActivationSpelling& spelling(ActivationKind kind) {
  for (const ActivationSpelling& s : kSpellings)
    if (s.kind == kind) return s;
  return kSpellings[0];
}

}  // namespace

const char* activation_kind_name(ActivationKind kind) { return spelling(kind).kernel_name; }

int activation_param_count(ActivationKind kind) { return spelling(kind).params; }

std::optional<F32Activation> activation_from_fused_attrs(std::string_view name, std::span<const float> params) {
  for (const ActivationSpelling& s : kSpellings) {
    if (name != s.fused_name) continue;
    if (static_cast<int>(params.size()) != s.params) return std::nullopt;
    F32Activation activation{s.kind};
    if (s.params >= 1) activation.param0 = params[0];
    if (s.params >= 2) activation.param1 = params[1];
    return activation;
  }
  return std::nullopt;
}

}  // namespace kiln::kernels
