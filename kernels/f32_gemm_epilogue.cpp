#include "kernels/f32_gemm_epilogue.h"

namespace kiln::kernels {

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::none: return "none";
    case Activation::relu: return "relu";
    case Activation::clip: return "clip";
    case Activation::leaky_relu: return "leaky_relu";
    case Activation::hard_sigmoid: return "hard_sigmoid";
    case Activation::hard_swish: return "hard_swish";
    case Activation::sigmoid: return "sigmoid";
    case Activation::swish: return "swish";
  }
  return "unknown";
}

}  // namespace kiln::kernels
