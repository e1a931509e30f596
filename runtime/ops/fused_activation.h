// The `activation` / `activation_params` attributes of kiln's fused ops
// (FusedConv, FusedLayerNorm; docs/fused_ops.md) read into the activation
// part of a kernels::F32GemmEpilogue.
#pragma once

#include "graph/ir.h"
#include "kernels/f32_gemm_epilogue.h"

namespace kiln {

// The node's activation and its parameters; none for a node outside the
// com.kiln domain (a plain Conv) or without `activation`. Throws kiln::Error
// naming the node for an unknown activation or a wrong parameter count.
kernels::F32GemmEpilogue read_fused_activation(const graph::Node& node);

}  // namespace kiln
