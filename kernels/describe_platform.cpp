#include "kernels/describe_platform.h"

#include "kernels/f32_gemm_packed.h"
#include "kiln/error.h"
#include "platform/cpu_info.h"

namespace kiln {

std::string describe_platform() {
  std::string text = describe_cpu();
  try {
    selected_isa();
  } catch (const Error&) {
    return text;
  }
  return text + kernels::describe_f32_gemm_dispatch();
}

}  // namespace kiln
