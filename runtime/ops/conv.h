// The Conv kernel's factory, shared by Conv and kiln's FusedConv
// (runtime/ops/fused_conv.cpp), which runs the same kernel with its fused
// activation, output affine and pad mode read from the node.
#pragma once

#include <memory>

#include "runtime/op_kernel.h"

namespace kiln {

std::unique_ptr<OpKernel> make_conv_kernel(const KernelInit& init);

}  // namespace kiln
