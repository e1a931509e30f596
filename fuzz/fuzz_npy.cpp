// libFuzzer target: any byte string as a .npy file (kiln::load_npy).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_drivers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::fuzz::parse_npy_bytes(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
