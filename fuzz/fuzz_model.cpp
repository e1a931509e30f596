// libFuzzer target: any byte string as an ONNX model (fuzz/fuzz_drivers.h).
// Half the mutations are libFuzzer's byte-level ones, half structure-aware
// (fuzz/model_mutator.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_drivers.h"
#include "fuzz/model_mutator.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::fuzz::run_model_bytes(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  if (seed % 2 == 0) {
    size_t mutated = kiln::fuzz::mutate_model(data, size, max_size, seed / 2);
    if (mutated) return mutated;
  }
  return LLVMFuzzerMutate(data, size, max_size);
}
