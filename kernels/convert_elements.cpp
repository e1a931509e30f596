#include "kernels/convert_elements.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/data_movement.h"

namespace kiln::kernels {

namespace {

// Tags for the two 16-bit float formats, which are stored as uint16_t.
struct Float16 {};
struct BFloat16 {};

template <class T> struct StorageOf { using type = T; };
template <> struct StorageOf<Float16> { using type = uint16_t; };
template <> struct StorageOf<BFloat16> { using type = uint16_t; };
template <> struct StorageOf<bool> { using type = uint8_t; };  // read bytes, never a bool with another value

template <class T> struct TypeTag { using type = T; };

template <class F>
void visit_dtype(DataType type, F&& f) {
  switch (type) {
    case DataType::kFloat32: f(TypeTag<float>{}); return;
    case DataType::kFloat64: f(TypeTag<double>{}); return;
    case DataType::kFloat16: f(TypeTag<Float16>{}); return;
    case DataType::kBFloat16: f(TypeTag<BFloat16>{}); return;
    case DataType::kInt8: f(TypeTag<int8_t>{}); return;
    case DataType::kUInt8: f(TypeTag<uint8_t>{}); return;
    case DataType::kInt16: f(TypeTag<int16_t>{}); return;
    case DataType::kUInt16: f(TypeTag<uint16_t>{}); return;
    case DataType::kInt32: f(TypeTag<int32_t>{}); return;
    case DataType::kUInt32: f(TypeTag<uint32_t>{}); return;
    case DataType::kInt64: f(TypeTag<int64_t>{}); return;
    case DataType::kUInt64: f(TypeTag<uint64_t>{}); return;
    case DataType::kBool: f(TypeTag<bool>{}); return;
    case DataType::kUndefined: case DataType::kString: break;
  }
  fail("cannot convert elements of type ", dtype_name(type));
}

// The arithmetic value of a stored element (16-bit floats widen to float).
template <class T>
auto load(typename StorageOf<T>::type stored) {
  if constexpr (std::is_same_v<T, Float16>) return half_to_float(stored);
  else if constexpr (std::is_same_v<T, BFloat16>) return bfloat16_to_float(stored);
  else if constexpr (std::is_same_v<T, bool>) return stored != 0;
  else return stored;
}

// Truncates a floating value toward zero into the integer type To.
template <class To>
To float_to_integer(double value) {
  if (std::isnan(value)) return To{0};
  double t = std::trunc(value);
  if constexpr (std::is_same_v<To, uint64_t>) {
    if (t >= 18446744073709551616.0) return std::numeric_limits<uint64_t>::max();
    if (t >= 0) return static_cast<uint64_t>(t);
  }
  int64_t wide;
  if (t >= 9223372036854775808.0) wide = std::numeric_limits<int64_t>::max();
  else if (t < -9223372036854775808.0) wide = std::numeric_limits<int64_t>::min();
  else wide = static_cast<int64_t>(t);
  return static_cast<To>(wide);  // modular for narrower types (C++20)
}

// Stores an arithmetic value V as type To.
template <class To, class V>
typename StorageOf<To>::type store(V value) {
  if constexpr (std::is_same_v<To, bool>) {
    return value != 0 ? 1 : 0;
  } else if constexpr (std::is_same_v<To, Float16>) {
    if constexpr (std::is_same_v<V, float>) return float_to_half(value);
    else return float_to_half(double_to_float_round_to_odd(static_cast<double>(value)));
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    if constexpr (std::is_same_v<V, float>) return float_to_bfloat16(value);
    else return float_to_bfloat16(double_to_float_round_to_odd(static_cast<double>(value)));
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(value);
  } else if constexpr (std::is_floating_point_v<V>) {
    return float_to_integer<To>(static_cast<double>(value));
  } else {
    return static_cast<To>(value);
  }
}

template <class To, class From>
void convert_run(const void* src, void* dst, int64_t begin, int64_t end) {
  using FromStorage = typename StorageOf<From>::type;
  using ToStorage = typename StorageOf<To>::type;
  const FromStorage* in = static_cast<const FromStorage*>(src);
  ToStorage* out = static_cast<ToStorage*>(dst);
  for (int64_t i = begin; i < end; ++i) out[i] = store<To>(load<From>(in[i]));
}

}  // namespace

float double_to_float_round_to_odd(double value) {
  float f = static_cast<float>(value);
  if (std::isnan(value) || std::isinf(value) || static_cast<double>(f) == value) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(value)) f = std::nextafter(f, 0.0f);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= 1u;
  std::memcpy(&f, &bits, 4);
  return f;
}

void convert_elements(const void* src, DataType from, void* dst, DataType to, int64_t count, int threads) {
  if (from == to) {
    std::memcpy(dst, src, static_cast<size_t>(count) * element_size(from));
    return;
  }
  visit_dtype(from, [&](auto from_tag) {
    visit_dtype(to, [&](auto to_tag) {
      using From = typename decltype(from_tag)::type;
      using To = typename decltype(to_tag)::type;
      parallel_byte_ranges(count, threads, static_cast<int64_t>(sizeof(typename StorageOf<To>::type)),
                      [&](int64_t begin, int64_t end) { convert_run<To, From>(src, dst, begin, end); });
    });
  });
}

void store_double_as(double value, DataType type, void* dst) {
  visit_dtype(type, [&](auto tag) {
    using To = typename decltype(tag)::type;
    typename StorageOf<To>::type stored = store<To>(value);
    std::memcpy(dst, &stored, sizeof(stored));
  });
}

}  // namespace kiln::kernels
