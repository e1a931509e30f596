// .npy reading/writing, tensor files by extension, and deterministic random
// tensors. See include/kiln/tensor_io.h.
//
// npy layout: "\x93NUMPY", major, minor, header length (uint16 LE for 1.x,
// uint32 LE for 2.x/3.x), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ending in '\n', then the raw element bytes.
#include "kiln/tensor_io.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "graph/onnx_tensor.h"

namespace kiln {
namespace {

constexpr char kNpyMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
constexpr size_t kNpyPreambleV1 = 10;  // magic, 2 version bytes, uint16 length
constexpr size_t kNpyPreambleV2 = 12;  // magic, 2 version bytes, uint32 length
// numpy itself refuses headers above 10000 bytes by default; a real header of
// any sane rank is far below this cap, which bounds what a file can make us read.
constexpr uint64_t kMaxNpyHeaderBytes = 1 << 20;

struct NpyType {
  char kind;  // 'f', 'i', 'u', 'b' as in numpy's descr
  int size;
  DataType dtype;
};

constexpr NpyType kNpyTypes[] = {
    {'f', 2, DataType::kFloat16}, {'f', 4, DataType::kFloat32}, {'f', 8, DataType::kFloat64},
    {'i', 1, DataType::kInt8},    {'i', 2, DataType::kInt16},   {'i', 4, DataType::kInt32},
    {'i', 8, DataType::kInt64},   {'u', 1, DataType::kUInt8},   {'u', 2, DataType::kUInt16},
    {'u', 4, DataType::kUInt32},  {'u', 8, DataType::kUInt64},  {'b', 1, DataType::kBool},
};

std::string io_error_text() { return errno ? std::strerror(errno) : "I/O error"; }

// Maps a descr string ("<f4", "|u1", "|b1") to a DataType.
DataType dtype_from_descr(const std::string& descr, const std::string& path) {
  std::string_view rest = descr;
  char order = 0;
  if (!rest.empty() && std::strchr("<>|=", rest.front())) {
    order = rest.front();
    rest.remove_prefix(1);
  }
  if (!rest.empty() && rest.front() == 'O')
    fail("'", path, "': object arrays (dtype '", descr, "') are not supported");
  if (rest.size() >= 2 && std::isdigit(static_cast<unsigned char>(rest[1])) &&
      std::all_of(rest.begin() + 1, rest.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    char kind = rest[0];
    int size = std::atoi(std::string(rest.substr(1)).c_str());
    for (const NpyType& t : kNpyTypes) {
      if (t.kind != kind || t.size != size) continue;
      if (order == '>' && size > 1)
        fail("'", path, "': big-endian data (dtype '", descr, "') is not supported; save it little-endian");
      if (order == '=' && size > 1)
        fail("'", path, "': native byte order (dtype '", descr, "') is ambiguous in a file; save it with '<'");
      return t.dtype;
    }
  }
  fail("'", path, "': unsupported dtype '", descr,
       "' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)");
}

// A strict reader for the one dict literal numpy writes as a header.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  struct Header {
    std::string descr;
    bool fortran_order = false;
    Shape shape;
  };

  Header parse() {
    Header header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        if (seen_descr) error("key 'descr' appears twice");
        skip_space();
        if (peek() == '[') error("structured dtypes (a list as 'descr') are not supported");
        header.descr = parse_string();
        seen_descr = true;
      } else if (key == "fortran_order") {
        if (seen_order) error("key 'fortran_order' appears twice");
        header.fortran_order = parse_bool();
        seen_order = true;
      } else if (key == "shape") {
        if (seen_shape) error("key 'shape' appears twice");
        header.shape = parse_shape();
        seen_shape = true;
      } else {
        error("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') error("expected ',' or '}'");
    }
    expect('}');
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the closing '}'");
    if (!seen_descr || !seen_order || !seen_shape)
      error("it needs the keys 'descr', 'fortran_order' and 'shape'");
    return header;
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail("'", path_, "': malformed .npy header: ", what, " (at byte ", pos_, " of the header)");
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\n'))
      ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string() {
    skip_space();
    char quote = peek();
    if (quote != '\'' && quote != '"') error("expected a quoted string");
    ++pos_;
    size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) error("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    if (value.find('\\') != std::string::npos) error("escapes in strings are not supported");
    pos_ = end + 1;
    return value;
  }
  bool parse_bool() {
    skip_space();
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    error("expected True or False");
  }
  int64_t parse_dim() {
    skip_space();
    if (!std::isdigit(static_cast<unsigned char>(peek()))) error("expected a non-negative integer dimension");
    int64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      int digit = peek() - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) error("dimension does not fit in 64 bits");
      value = value * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // Python 2 long suffix
    return value;
  }
  Shape parse_shape() {
    Shape shape;
    expect('(');
    skip_space();
    if (peek() == ')') {
      ++pos_;
      return shape;
    }
    while (true) {
      shape.push_back(parse_dim());
      skip_space();
      if (peek() == ')') {
        // Python needs a trailing comma for a 1-tuple: "(3)" is the int 3.
        if (shape.size() == 1) error("a one-dimensional shape must be written '(n,)'");
        ++pos_;
        return shape;
      }
      if (peek() != ',') error("expected ',' or ')' in the shape");
      ++pos_;
      skip_space();
      if (peek() == ')') {
        ++pos_;
        return shape;
      }
    }
  }

  std::string_view text_;
  const std::string& path_;
  size_t pos_ = 0;
};

uint32_t read_le(const unsigned char* bytes, int count) {
  uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = value << 8 | bytes[i];
  return value;
}

std::string npy_descr(DataType dtype) {
  for (const NpyType& t : kNpyTypes)
    if (t.dtype == dtype) return std::string(t.size == 1 ? "|" : "<") + t.kind + std::to_string(t.size);
  fail("tensors of type ", dtype_name(dtype), " cannot be saved as .npy (numpy has no such dtype)");
}

std::string npy_header_dict(const Tensor& tensor) {
  std::ostringstream dict;
  dict << "{'descr': '" << npy_descr(tensor.dtype()) << "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.rank(); ++i) dict << (i ? ", " : "") << tensor.dim(i);
  if (tensor.rank() == 1) dict << ",";
  dict << "), }";
  return dict.str();
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// splitmix64: a small, well-mixed generator with a 64-bit state.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1) on a grid of 2^-(bits-1), exact in any float type with
  // at least `bits` significant bits.
  double next_signed_unit(int bits) {
    return static_cast<double>(next() >> (64 - bits)) * std::ldexp(1.0, 1 - bits) - 1.0;
  }

 private:
  uint64_t state_;
};

template <class T>
void fill_small_ints(Tensor& tensor, SplitMix64& rng) {
  T* out = static_cast<T*>(tensor.raw());
  for (int64_t i = 0; i < tensor.size(); ++i) out[i] = static_cast<T>(rng.next() % 8);
}

}  // namespace

Tensor load_npy(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) fail("cannot open '", path, "': no such file");
  if (std::filesystem::is_directory(status)) fail("cannot read '", path, "': it is a directory");
  uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) fail("cannot read '", path, "': ", ec.message());

  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '", path, "': ", io_error_text());

  unsigned char preamble[kNpyPreambleV2] = {};
  size_t have = static_cast<size_t>(std::min<uint64_t>(file_size, sizeof(preamble)));
  in.read(reinterpret_cast<char*>(preamble), static_cast<std::streamsize>(have));
  if (static_cast<size_t>(in.gcount()) != have) fail("cannot read '", path, "': ", io_error_text());
  if (have < sizeof(kNpyMagic) || std::memcmp(preamble, kNpyMagic, sizeof(kNpyMagic)) != 0)
    fail("'", path, "' is not a .npy file (it does not start with \\x93NUMPY)");
  if (have < kNpyPreambleV1) fail("'", path, "' is truncated: ", file_size, " bytes end inside the .npy preamble");
  int major = preamble[6], minor = preamble[7];
  if (major < 1 || major > 3 || minor != 0)
    fail("'", path, "': unsupported .npy format version ", major, ".", minor, " (kiln reads 1.0, 2.0 and 3.0)");
  size_t preamble_size = major == 1 ? kNpyPreambleV1 : kNpyPreambleV2;
  if (have < preamble_size)
    fail("'", path, "' is truncated: ", file_size, " bytes end inside the .npy preamble");
  uint64_t header_size = read_le(preamble + 8, major == 1 ? 2 : 4);
  if (header_size > kMaxNpyHeaderBytes)
    fail("'", path, "': .npy header of ", header_size, " bytes is larger than the ", kMaxNpyHeaderBytes,
         " bytes kiln accepts");
  uint64_t data_offset = preamble_size + header_size;
  if (data_offset > file_size)
    fail("'", path, "' is truncated: the header declares ", header_size, " bytes but the file has only ",
         file_size - preamble_size, " after the preamble");

  std::string header_text(static_cast<size_t>(header_size), '\0');
  in.seekg(static_cast<std::streamoff>(preamble_size));
  in.read(header_text.data(), static_cast<std::streamsize>(header_size));
  if (static_cast<uint64_t>(in.gcount()) != header_size) fail("cannot read '", path, "': ", io_error_text());
  if (header_text.find('\0') != std::string::npos) fail("'", path, "': malformed .npy header: it contains a NUL byte");

  NpyHeaderParser::Header header = NpyHeaderParser(header_text, path).parse();
  DataType dtype = dtype_from_descr(header.descr, path);
  if (header.fortran_order)
    fail("'", path, "': Fortran-order arrays are not supported; save a C-order array (numpy.ascontiguousarray)");

  // Size the data from the header without trusting it: overflow-checked, then
  // compared with what the file really holds before any allocation.
  std::string shape_text = shape_to_string(header.shape);
  int64_t count = 0;
  try {
    count = element_count(header.shape);
  } catch (const Error& e) {
    fail("'", path, "': the header's shape ", shape_text, " is too large: ", e.what());
  }
  uint64_t item = element_size(dtype);
  if (static_cast<uint64_t>(count) > std::numeric_limits<uint64_t>::max() / item)
    fail("'", path, "': the header's shape ", shape_text, " is too large");
  uint64_t data_bytes = static_cast<uint64_t>(count) * item;
  uint64_t file_data_bytes = file_size - data_offset;
  if (file_data_bytes < data_bytes)
    fail("'", path, "' is truncated: its header declares ", dtype_name(dtype), " ", shape_text, " (", data_bytes,
         " bytes) but only ", file_data_bytes, " bytes of data follow");
  if (file_data_bytes > data_bytes)
    fail("'", path, "': ", file_data_bytes - data_bytes, " unexpected bytes after the data of ", dtype_name(dtype),
         " ", shape_text, " (", data_bytes, " bytes)");

  Tensor tensor(dtype, header.shape);
  in.seekg(static_cast<std::streamoff>(data_offset));
  in.read(static_cast<char*>(tensor.raw()), static_cast<std::streamsize>(data_bytes));
  if (static_cast<uint64_t>(in.gcount()) != data_bytes) fail("cannot read '", path, "': ", io_error_text());
  if (dtype == DataType::kBool) {  // any byte but 0 means true; store a valid bool
    auto* bytes = static_cast<unsigned char*>(tensor.raw());
    for (int64_t i = 0; i < count; ++i) bytes[i] = bytes[i] != 0;
  }
  return tensor;
}

void save_npy(const std::string& path, const Tensor& tensor) {
  if (!tensor.defined()) fail("cannot save '", path, "': the tensor is undefined");
  std::string dict = npy_header_dict(tensor);
  // Header = dict + spaces + '\n', so that preamble + header is a multiple of 64.
  size_t preamble_size = kNpyPreambleV1;
  size_t unpadded = preamble_size + dict.size() + 1;
  size_t header_size = dict.size() + 1 + (64 - unpadded % 64) % 64;
  if (header_size > std::numeric_limits<uint16_t>::max()) {
    preamble_size = kNpyPreambleV2;
    unpadded = preamble_size + dict.size() + 1;
    header_size = dict.size() + 1 + (64 - unpadded % 64) % 64;
  }
  std::string header = dict;
  header.append(header_size - dict.size() - 1, ' ');
  header.push_back('\n');

  std::string preamble(kNpyMagic, sizeof(kNpyMagic));
  preamble.push_back(static_cast<char>(preamble_size == kNpyPreambleV1 ? 1 : 2));
  preamble.push_back(0);
  for (size_t i = 0; i < preamble_size - 8; ++i) preamble.push_back(static_cast<char>((header_size >> (8 * i)) & 0xff));

  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("cannot write '", path, "': ", io_error_text());
  out.write(preamble.data(), static_cast<std::streamsize>(preamble.size()));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(tensor.raw()), static_cast<std::streamsize>(tensor.nbytes()));
  out.close();
  if (!out) fail("cannot write '", path, "': ", io_error_text());
}

Tensor load_tensor_file(const std::string& path) {
  std::string extension = lowercase(std::filesystem::path(path).extension().string());
  if (extension == ".npy") return load_npy(path);
  if (extension == ".pb") {
    try {
      return graph::load_tensor_pb(path);
    } catch (const Error& e) {
      std::string message = e.what();
      if (message.find(path) != std::string::npos) throw;
      fail("'", path, "': ", message);
    }
  }
  fail("cannot read '", path, "': unknown tensor file extension '", extension, "' (use .npy or .pb)");
}

Tensor random_tensor(DataType dtype, const Shape& shape, uint64_t seed) {
  Tensor tensor(dtype, shape);
  SplitMix64 rng(seed);
  const int64_t n = tensor.size();
  switch (dtype) {
    case DataType::kFloat32: {
      float* out = tensor.data<float>();
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(rng.next_signed_unit(24));
      break;
    }
    case DataType::kFloat64: {
      double* out = tensor.data<double>();
      for (int64_t i = 0; i < n; ++i) out[i] = rng.next_signed_unit(53);
      break;
    }
    case DataType::kFloat16: {
      auto* out = static_cast<uint16_t*>(tensor.raw());
      for (int64_t i = 0; i < n; ++i) out[i] = float_to_half(static_cast<float>(rng.next_signed_unit(11)));
      break;
    }
    case DataType::kBFloat16: {
      auto* out = static_cast<uint16_t*>(tensor.raw());
      for (int64_t i = 0; i < n; ++i) out[i] = float_to_bfloat16(static_cast<float>(rng.next_signed_unit(8)));
      break;
    }
    case DataType::kBool: {
      bool* out = tensor.data<bool>();
      for (int64_t i = 0; i < n; ++i) out[i] = (rng.next() >> 63) != 0;
      break;
    }
    case DataType::kInt8: fill_small_ints<int8_t>(tensor, rng); break;
    case DataType::kUInt8: fill_small_ints<uint8_t>(tensor, rng); break;
    case DataType::kInt16: fill_small_ints<int16_t>(tensor, rng); break;
    case DataType::kUInt16: fill_small_ints<uint16_t>(tensor, rng); break;
    case DataType::kInt32: fill_small_ints<int32_t>(tensor, rng); break;
    case DataType::kUInt32: fill_small_ints<uint32_t>(tensor, rng); break;
    case DataType::kInt64: fill_small_ints<int64_t>(tensor, rng); break;
    case DataType::kUInt64: fill_small_ints<uint64_t>(tensor, rng); break;
    default: fail("cannot make random data of type ", dtype_name(dtype));
  }
  return tensor;
}

uint64_t seed_from_name(std::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace kiln
