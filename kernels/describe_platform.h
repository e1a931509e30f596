// The report `kiln info` prints: platform/cpu_info.h's view of the CPU, then
// the kernels the dispatch tables chose for it. It lives in kernels/ because
// the platform layer below cannot name kernels.
#pragma once

#include <string>

namespace kiln {

// describe_cpu(), then the chosen f32 GEMM kernels (left out when KILN_ISA is
// invalid: describe_cpu says why no level was selected).
std::string describe_platform();

}  // namespace kiln
