#include "kiln/error.h"

#include <cstdint>

namespace kiln {

namespace {

// Length of the UTF-8 sequence starting at s[i] (2-4), or 0 when the bytes
// there are not one (overlong forms and surrogates included).
size_t utf8_sequence(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  size_t n = 0;
  uint32_t min = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2, min = 0x80;
  else if (b0 >= 0xe0 && b0 <= 0xef) n = 3, min = 0x800;
  else if (b0 >= 0xf0 && b0 <= 0xf4) n = 4, min = 0x10000;
  else return 0;
  if (i + n > s.size()) return 0;
  uint32_t code = b0 & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string printable_message(const std::string& message) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(message.size());
  for (size_t i = 0; i < message.size();) {
    const auto b = static_cast<uint8_t>(message[i]);
    if ((b >= 0x20 && b < 0x7f) || b == '\n') {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    if (b >= 0x80) {
      if (const size_t n = utf8_sequence(message, i)) {
        out.append(message, i, n);
        i += n;
        continue;
      }
    }
    out += "\\x";
    out += hex[b >> 4];
    out += hex[b & 15];
    ++i;
  }
  if (out.size() <= kMaxMessageBytes) return out;
  // Cut at character boundaries (never inside a UTF-8 sequence).
  size_t head = kMaxMessageBytes * 3 / 4, tail = out.size() - kMaxMessageBytes / 4;
  while (head > 0 && (static_cast<uint8_t>(out[head]) & 0xc0) == 0x80) --head;
  while (tail < out.size() && (static_cast<uint8_t>(out[tail]) & 0xc0) == 0x80) ++tail;
  return out.substr(0, head) + " ... [" + std::to_string(tail - head) + " bytes left out] ... " + out.substr(tail);
}

}  // namespace kiln
