#include "runtime/ops/fused_activation.h"

#include <string>
#include <vector>

#include "kiln/error.h"

namespace kiln {

kernels::F32GemmEpilogue read_fused_activation(const graph::Node& node) {
  kernels::F32GemmEpilogue epilogue;
  if (node.domain != "com.kiln") return epilogue;
  const std::string name = node.attr_string("activation", "");
  const std::vector<float> params = node.attr_floats("activation_params");
  struct Kind {
    const char* name;
    kernels::Activation activation;
    size_t params;
  };
  static const Kind kKinds[] = {{"", kernels::Activation::none, 0},
                                {"Relu", kernels::Activation::relu, 0},
                                {"Clip", kernels::Activation::clip, 2},
                                {"LeakyRelu", kernels::Activation::leaky_relu, 1},
                                {"Sigmoid", kernels::Activation::sigmoid, 0},
                                {"HardSigmoid", kernels::Activation::hard_sigmoid, 2},
                                {"HardSwish", kernels::Activation::hard_swish, 2},
                                {"Swish", kernels::Activation::swish, 0}};
  for (const Kind& kind : kKinds) {
    if (name != kind.name) continue;
    if (params.size() != kind.params)
      fail(node.describe(), ": activation '", name, "' takes ", kind.params, " activation_params, got ", params.size());
    epilogue.activation = kind.activation;
    if (kind.params > 0) epilogue.param0 = params[0];
    if (kind.params > 1) epilogue.param1 = params[1];
    return epilogue;
  }
  fail(node.describe(), ": unknown activation '", name, "'");
}

}  // namespace kiln
