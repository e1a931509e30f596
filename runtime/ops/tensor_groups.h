// The tensor (data-movement) op group is spread over a few files, one
// concept each; register_tensor_ops (tensor.cpp) calls these.
#pragma once

#include "runtime/op_registry.h"

namespace kiln {

void register_indexing_ops(OpRegistry& registry);  // indexing.cpp: Slice Gather GatherElements GatherND
void register_cast_ops(OpRegistry& registry);      // cast.cpp: Cast CastLike
void register_pad_ops(OpRegistry& registry);       // pad.cpp: Pad

}  // namespace kiln
