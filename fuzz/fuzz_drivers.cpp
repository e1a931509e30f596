#include "fuzz/fuzz_drivers.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "graph/onnx_tensor.h"
#include "kiln/error.h"
#include "kiln/session.h"
#include "kiln/tensor_io.h"

namespace kiln::fuzz {

namespace {

constexpr int64_t kMaxInputElements = 4096;
constexpr int64_t kDynamicDim = 2;

// splitmix64: a small deterministic generator, seeded from the input bytes.
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Small values of every type: floats in [-2, 2], integers in [0, 4), bools.
void fill_random(Tensor& t, uint64_t& state) {
  auto* bytes = static_cast<uint8_t*>(t.raw());
  for (int64_t i = 0; i < t.size(); ++i) {
    uint64_t r = next_random(state);
    double unit = static_cast<double>(r >> 11) / static_cast<double>(uint64_t{1} << 53);  // [0, 1)
    double real = unit * 4.0 - 2.0;
    int64_t small = static_cast<int64_t>(r % 4);
    switch (t.dtype()) {
      case DataType::kFloat32: t.data<float>()[i] = static_cast<float>(real); break;
      case DataType::kFloat64: t.data<double>()[i] = real; break;
      case DataType::kFloat16: reinterpret_cast<uint16_t*>(bytes)[i] = float_to_half(static_cast<float>(real)); break;
      case DataType::kBFloat16:
        reinterpret_cast<uint16_t*>(bytes)[i] = float_to_bfloat16(static_cast<float>(real));
        break;
      case DataType::kBool: bytes[i] = static_cast<uint8_t>(small & 1); break;
      default: {
        // Integers: the low bytes of `small`, little-endian.
        size_t esize = element_size(t.dtype());
        std::memset(bytes + static_cast<size_t>(i) * esize, 0, esize);
        bytes[static_cast<size_t>(i) * esize] = static_cast<uint8_t>(small);
      }
    }
  }
}

uint64_t seed_of(const std::string& bytes) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

std::optional<std::string> run_model_bytes(const std::string& bytes) {
  SessionOptions options;
  options.threads = 1;
  options.max_memory_bytes = kMaxMemoryBytes;
  try {
    Session session = Session::from_bytes(bytes, options, kNoExternalDataDir);
    uint64_t state = seed_of(bytes);
    NamedTensors inputs;
    int64_t total = 0;
    for (const TensorInfo& info : session.inputs()) {
      Shape shape;
      if (info.has_shape)
        for (int64_t d : info.dims) shape.push_back(d >= 0 ? d : kDynamicDim);
      int64_t count = 1;
      for (int64_t d : shape) {
        if (d > kMaxInputElements) return std::nullopt;  // too big to run quickly; loading was the test
        count *= d;
        if (count > kMaxInputElements) return std::nullopt;
      }
      total += count;
      if (total > kMaxInputElements) return std::nullopt;
      if (!is_supported_dtype(info.dtype)) return std::nullopt;
      Tensor t(info.dtype, shape);
      fill_random(t, state);
      inputs.emplace(info.name, t);
    }
    session.run(inputs);
  } catch (const Error& e) {
    return e.what();  // a clear rejection is a correct answer to a broken model
  }
  return std::nullopt;
}

std::optional<std::string> parse_tensor_pb_bytes(const std::string& bytes) {
  try {
    Tensor t = graph::tensor_from_pb_bytes(bytes, kNoExternalDataDir, "fuzz input");
    // Touch every byte, so a tensor claiming more than it holds shows up under ASan.
    volatile uint8_t sum = 0;
    const auto* p = static_cast<const uint8_t*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) sum = static_cast<uint8_t>(sum + p[i]);
  } catch (const Error& e) {
    return e.what();
  }
  return std::nullopt;
}

std::optional<std::string> parse_npy_bytes(const std::string& bytes) {
  static const std::string path = "/tmp/kiln_fuzz_npy_" + std::to_string(getpid()) + ".npy";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  try {
    Tensor t = load_npy(path);
    volatile uint8_t sum = 0;
    const auto* p = static_cast<const uint8_t*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) sum = static_cast<uint8_t>(sum + p[i]);
  } catch (const Error& e) {
    return e.what();
  }
  return std::nullopt;
}

}  // namespace kiln::fuzz
