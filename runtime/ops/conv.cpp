#include "runtime/op_registry.h"

namespace kiln {

void register_conv_ops(OpRegistry& registry) { (void)registry; }

}  // namespace kiln
