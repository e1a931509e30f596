#include "runtime/op_registry.h"

namespace kiln {

void register_pool_ops(OpRegistry& registry) { (void)registry; }

}  // namespace kiln
