#include "kiln/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#include "platform/checked_math.h"
#include "platform/memory_budget.h"

namespace kiln {

size_t element_size(DataType type) {
  switch (type) {
    case DataType::kFloat32: case DataType::kInt32: case DataType::kUInt32: return 4;
    case DataType::kUInt8: case DataType::kInt8: case DataType::kBool: return 1;
    case DataType::kUInt16: case DataType::kInt16: case DataType::kFloat16:
    case DataType::kBFloat16: return 2;
    case DataType::kInt64: case DataType::kFloat64: case DataType::kUInt64: return 8;
    case DataType::kUndefined: case DataType::kString: return 0;
  }
  return 0;
}

const char* dtype_name(DataType type) {
  switch (type) {
    case DataType::kUndefined: return "undefined";
    case DataType::kFloat32: return "float32";
    case DataType::kUInt8: return "uint8";
    case DataType::kInt8: return "int8";
    case DataType::kUInt16: return "uint16";
    case DataType::kInt16: return "int16";
    case DataType::kInt32: return "int32";
    case DataType::kInt64: return "int64";
    case DataType::kString: return "string";
    case DataType::kBool: return "bool";
    case DataType::kFloat16: return "float16";
    case DataType::kFloat64: return "float64";
    case DataType::kUInt32: return "uint32";
    case DataType::kUInt64: return "uint64";
    case DataType::kBFloat16: return "bfloat16";
  }
  return "unknown";
}

bool is_supported_dtype(DataType type) { return element_size(type) != 0; }

int64_t element_count(const Shape& shape) {
  for (int64_t d : shape) {
    if (d < 0) fail("negative dimension ", d, " in shape ", shape_to_string(shape));
    if (d > kMaxDimension)
      fail("dimension ", d, " in shape ", shape_to_string(shape), " is absurdly large (more than 2^40)");
  }
  // A 0 anywhere makes the count 0, however large the other dims are.
  std::optional<int64_t> count = checked::try_product(shape);
  if (!count) fail("shape ", shape_to_string(shape), " has more elements than fit in 64 bits");
  return *count;
}

std::string shape_to_string(const Shape& shape) {
  if (shape.empty()) return "scalar";
  // A hostile rank (thousands of dims) would make every message naming the
  // shape that long: past 12 dims, the first 8 and the rank.
  constexpr size_t kShown = 8, kMaxWhole = 12;
  const size_t shown = shape.size() > kMaxWhole ? kShown : shape.size();
  std::ostringstream out;
  for (size_t i = 0; i < shown; ++i) out << (i ? "x" : "") << shape[i];
  if (shown < shape.size()) out << "x... (rank " << shape.size() << ")";
  return out.str();
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do { ++e; mantissa <<= 1; } while ((mantissa & 0x400u) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mantissa & 0x3ffu) << 13;
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | mantissa << 13;
  } else {
    bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u)  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow to inf
  if (abs < 0x38800000u) {  // subnormal or zero in half
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    // value = mantissa_with_implicit_bit * 2^(e - 150) / 2^-24 = m >> (126 - e)
    uint32_t e = abs >> 23;
    uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    uint32_t dropped_bits = 126 - e;  // 14..24
    uint32_t value = m >> dropped_bits;
    uint32_t rem = m & ((1u << dropped_bits) - 1);
    uint32_t half = 1u << (dropped_bits - 1);
    if (rem > half || (rem == half && (value & 1))) ++value;
    return static_cast<uint16_t>(sign | value);
  }
  uint32_t value = ((abs >> 13) - (112u << 10));
  uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (value & 1))) ++value;
  return static_cast<uint16_t>(sign | value);
}

float bfloat16_to_float(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_bfloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);
  uint32_t rounding = 0x7fffu + ((x >> 16) & 1);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

namespace {
// Allocates 64-byte-aligned storage, counted against the thread's memory
// budget (platform/memory_budget.h) until the last owner lets go of it.
std::shared_ptr<void> allocate_aligned(size_t nbytes, DataType type, const Shape& shape) {
  size_t rounded = (nbytes + Tensor::kAlignment - 1) / Tensor::kAlignment * Tensor::kAlignment;
  if (rounded == 0) rounded = Tensor::kAlignment;
  const std::shared_ptr<MemoryBudget>& budget = current_memory_budget();
  if (budget && !budget->try_reserve(rounded))
    budget->fail_over_budget(rounded, std::string("a ") + dtype_name(type) + " tensor of shape " + shape_to_string(shape));
  void* p = std::aligned_alloc(Tensor::kAlignment, rounded);
  if (!p) {
    if (budget) budget->release(rounded);
    fail("out of memory allocating ", nbytes, " bytes for a ", dtype_name(type), " tensor of shape ",
         shape_to_string(shape));
  }
  if (!budget) return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  return std::shared_ptr<void>(p, [budget, rounded](void* q) {
    std::free(q);
    budget->release(rounded);
  });
}
}  // namespace

Tensor::Tensor(DataType type, Shape shape) : dtype_(type), shape_(std::move(shape)) {
  if (!is_supported_dtype(type)) fail("tensors of type ", dtype_name(type), " are not supported");
  size_ = element_count(shape_);
  if (static_cast<uint64_t>(size_) > (uint64_t{1} << 63) / element_size(type))
    fail("a ", dtype_name(type), " tensor of shape ", shape_to_string(shape_), " needs more than 2^63 bytes");
  data_ = allocate_aligned(nbytes(), type, shape_);
}

Tensor Tensor::zeros(DataType type, Shape shape) {
  Tensor t(type, std::move(shape));
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::from_floats(Shape shape, const std::vector<float>& values) {
  Tensor t(DataType::kFloat32, std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.size())
    fail("from_floats: ", values.size(), " values for shape ", shape_to_string(t.shape()));
  if (t.nbytes() != 0) std::memcpy(t.raw(), values.data(), t.nbytes());  // an empty vector's data() may be null
  return t;
}

Tensor Tensor::from_int64s(Shape shape, const std::vector<int64_t>& values) {
  Tensor t(DataType::kInt64, std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.size())
    fail("from_int64s: ", values.size(), " values for shape ", shape_to_string(t.shape()));
  if (t.nbytes() != 0) std::memcpy(t.raw(), values.data(), t.nbytes());  // an empty vector's data() may be null
  return t;
}

Tensor Tensor::view(DataType type, Shape shape, std::shared_ptr<void> owner, void* data) {
  Tensor t;
  if (!is_supported_dtype(type)) fail("tensors of type ", dtype_name(type), " are not supported");
  t.dtype_ = type;
  t.shape_ = std::move(shape);
  t.size_ = element_count(t.shape_);
  t.data_ = std::shared_ptr<void>(std::move(owner), data);
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (element_count(shape) != size_)
    fail("cannot reshape ", shape_to_string(shape_), " (", size_, " elements) to ",
         shape_to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  if (!defined()) return Tensor();
  Tensor t(dtype_, shape_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

void Tensor::check_type(DataType wanted) const {
  if (wanted != dtype_)
    fail("tensor holds ", dtype_name(dtype_), ", accessed as ", dtype_name(wanted));
}

double Tensor::value_as_double(int64_t i) const {
  const void* p = raw();
  switch (dtype_) {
    case DataType::kFloat32: return static_cast<const float*>(p)[i];
    case DataType::kFloat64: return static_cast<const double*>(p)[i];
    case DataType::kFloat16: return half_to_float(static_cast<const uint16_t*>(p)[i]);
    case DataType::kBFloat16: return bfloat16_to_float(static_cast<const uint16_t*>(p)[i]);
    case DataType::kInt8: return static_cast<const int8_t*>(p)[i];
    case DataType::kUInt8: return static_cast<const uint8_t*>(p)[i];
    case DataType::kInt16: return static_cast<const int16_t*>(p)[i];
    case DataType::kUInt16: return static_cast<const uint16_t*>(p)[i];
    case DataType::kInt32: return static_cast<const int32_t*>(p)[i];
    case DataType::kUInt32: return static_cast<const uint32_t*>(p)[i];
    case DataType::kInt64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DataType::kUInt64: return static_cast<double>(static_cast<const uint64_t*>(p)[i]);
    case DataType::kBool: return static_cast<const bool*>(p)[i] ? 1.0 : 0.0;
    default: fail("cannot read a value from a ", dtype_name(dtype_), " tensor");
  }
}

int64_t Tensor::value_as_int64(int64_t i) const {
  const void* p = raw();
  switch (dtype_) {
    case DataType::kInt64: return static_cast<const int64_t*>(p)[i];
    case DataType::kInt32: return static_cast<const int32_t*>(p)[i];
    case DataType::kUInt64: return static_cast<int64_t>(static_cast<const uint64_t*>(p)[i]);
    default: {
      // Saturating, NaN -> 0: a float cast outside int64's range is undefined.
      const double v = value_as_double(i);
      if (!(v == v)) return 0;
      if (v >= 0x1p63) return std::numeric_limits<int64_t>::max();
      if (v < -0x1p63) return std::numeric_limits<int64_t>::min();
      return static_cast<int64_t>(v);
    }
  }
}

std::vector<int64_t> Tensor::to_int64_vector() const {
  std::vector<int64_t> out(static_cast<size_t>(size_));
  for (int64_t i = 0; i < size_; ++i) out[static_cast<size_t>(i)] = value_as_int64(i);
  return out;
}

}  // namespace kiln
