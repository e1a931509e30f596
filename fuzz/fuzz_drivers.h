// What each fuzz target does with one input, shared by the libFuzzer entry
// points (fuzz/fuzz_*.cpp) and the unit test that replays the inputs kept in
// tests/fuzz_regressions/ (so every build, not only the clang one, re-checks
// the crashes fuzzing found).
//
// Each driver treats `bytes` as untrusted and returns normally both when it
// works and when kiln rejects it with kiln::Error; anything else (another
// exception, a crash, a sanitizer report, a hang) is a bug in kiln. The return
// value is the kiln::Error message when kiln rejected the input, nothing when
// it accepted it: the regression test checks each kept input's outcome.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kiln::fuzz {

// The memory budget the drivers give kiln: small enough that libFuzzer's
// malloc and RSS limits (2 GiB) never fire first.
inline constexpr uint64_t kMaxMemoryBytes = uint64_t{256} << 20;

// A folder that does not exist, so fuzzed external_data finds no files.
inline constexpr const char* kNoExternalDataDir = "/nonexistent-kiln-fuzz-dir";

// Model bytes -> Session::from_bytes (load, optimize, build) -> one run on
// pseudo-random inputs of the declared shapes (dynamic dims 2; a model whose
// fixed input shapes need more than a few thousand elements is not run).
std::optional<std::string> run_model_bytes(const std::string& bytes);

// A serialized ONNX TensorProto (.pb test data) -> kiln::Tensor.
std::optional<std::string> parse_tensor_pb_bytes(const std::string& bytes);

// A .npy file -> kiln::load_npy (the bytes go through a scratch file in
// /tmp, since the reader takes a path).
std::optional<std::string> parse_npy_bytes(const std::string& bytes);

}  // namespace kiln::fuzz
