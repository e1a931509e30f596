// Softmax and LogSoftmax (registered by register_reduce_ops).
#pragma once

#include "runtime/op_registry.h"

namespace kiln {

void register_softmax_ops(OpRegistry& registry);

}  // namespace kiln
