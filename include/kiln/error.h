// kiln::Error: the one exception type kiln throws for bad models, bad inputs
// and unsupported features. Its message is meant to be shown to a person as is.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace kiln {

// `message` made safe to print: names from a model may hold any bytes, so
// control bytes (but newlines), DEL and bytes that are not UTF-8 become
// \xNN (a NUL no longer cuts the message, an escape sequence no longer
// reaches the terminal), and a message above kMaxMessageBytes keeps its
// start and end around a count of what was left out.
std::string printable_message(const std::string& message);
inline constexpr size_t kMaxMessageBytes = 2000;

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(printable_message(message)) {}
};

// A valid model (or input) that uses something kiln does not implement:
// an op, an opset, a data type, a value kind. Tools may treat it as "skip".
class UnsupportedError : public Error {
 public:
  explicit UnsupportedError(const std::string& message) : Error(message) {}
};

// Builds a message from any streamable parts and throws kiln::Error.
template <class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  throw Error(out.str());
}

template <class... Parts>
[[noreturn]] void fail_unsupported(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  throw UnsupportedError(out.str());
}

}  // namespace kiln
