// libFuzzer target: any byte string as a serialized ONNX TensorProto (.pb).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_drivers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::fuzz::parse_tensor_pb_bytes(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
