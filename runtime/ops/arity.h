// Build-time check of how many inputs a node has.
#pragma once

#include <cstddef>

#include "kiln/error.h"
#include "runtime/op_kernel.h"

namespace kiln {

// The node must have between min_inputs and max_inputs inputs, and the first
// min_inputs of them must be present (not omitted with an empty name).
inline void check_arity(const KernelInit& init, size_t min_inputs, size_t max_inputs) {
  const size_t n = init.num_inputs();
  if (n < min_inputs || n > max_inputs) {
    if (min_inputs == max_inputs)
      fail(init.node().describe(), ": expects ", min_inputs, " input(s), got ", n);
    fail(init.node().describe(), ": expects ", min_inputs, " to ", max_inputs, " inputs, got ", n);
  }
  for (size_t i = 0; i < min_inputs; ++i)
    if (!init.has_input(i)) fail(init.node().describe(), ": input ", i, " is required but omitted");
}

}  // namespace kiln
