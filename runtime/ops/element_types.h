// Element types for the element-wise kernels: how each storage type is loaded
// into a value to compute with, and how a kernel picks its C++ type from a
// tensor's DataType.
//
// float16 and bfloat16 are stored as 16-bit patterns (Float16, BFloat16 below)
// and computed in float; every other type computes in itself.
//
// Dispatch: visit_type(TypeList<float, int32_t>{}, dtype, visitor) calls
// visitor(TypeTag<T>{}) for the T whose DataType is dtype.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "graph/ir.h"
#include "kiln/error.h"
#include "kiln/tensor.h"

namespace kiln {

// Storage of one IEEE half / bfloat16 element (same size and layout as uint16_t).
struct Float16 {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};
static_assert(sizeof(Float16) == 2 && sizeof(BFloat16) == 2);

// The DataType of a storage type (kiln::dtype_of plus the 16-bit float tags).
template <class T>
constexpr DataType data_type_of() {
  if constexpr (std::is_same_v<T, Float16>) return DataType::kFloat16;
  else if constexpr (std::is_same_v<T, BFloat16>) return DataType::kBFloat16;
  else return dtype_of<T>();
}

// Element<T>::Value is what a kernel computes with; load/store convert.
template <class T>
struct Element {
  using Value = T;
  static T load(T x) { return x; }
  static T store(T v) { return v; }
};
template <>
struct Element<Float16> {
  using Value = float;
  static float load(Float16 x) { return half_to_float(x.bits); }
  static Float16 store(float v) { return Float16{float_to_half(v)}; }
};
template <>
struct Element<BFloat16> {
  using Value = float;
  static float load(BFloat16 x) { return bfloat16_to_float(x.bits); }
  static BFloat16 store(float v) { return BFloat16{float_to_bfloat16(v)}; }
};

// Typed views of a tensor's bytes; the caller has dispatched on its dtype.
template <class T>
const T* elements(const Tensor& tensor) {
  return static_cast<const T*>(tensor.raw());
}
template <class T>
T* elements(Tensor& tensor) {
  return static_cast<T*>(tensor.raw());
}

template <class... Ts>
struct TypeList {};
template <class T>
struct TypeTag {
  using type = T;
};

template <class... Ls>
struct ConcatTypes;
template <class... As, class... Bs>
struct ConcatTypes<TypeList<As...>, TypeList<Bs...>> {
  using type = TypeList<As..., Bs...>;
};
template <class A, class B, class C, class... Rest>
struct ConcatTypes<A, B, C, Rest...> {
  using type = typename ConcatTypes<typename ConcatTypes<A, B>::type, C, Rest...>::type;
};

using FloatTypes = TypeList<float, double, Float16, BFloat16>;
using SignedIntTypes = TypeList<int8_t, int16_t, int32_t, int64_t>;
using UnsignedIntTypes = TypeList<uint8_t, uint16_t, uint32_t, uint64_t>;
using IntTypes = ConcatTypes<SignedIntTypes, UnsignedIntTypes>::type;
using SignedTypes = ConcatTypes<FloatTypes, SignedIntTypes>::type;
using NumericTypes = ConcatTypes<FloatTypes, IntTypes>::type;
using NumericAndBoolTypes = ConcatTypes<NumericTypes, TypeList<bool>>::type;
using BoolTypes = TypeList<bool>;

// Calls visitor(TypeTag<T>{}) for the T in the list whose DataType is dtype.
// Returns false when no type matches.
template <class... Ts, class Visitor>
bool visit_type(TypeList<Ts...>, DataType dtype, Visitor&& visitor) {
  return ((dtype == data_type_of<Ts>() && (visitor(TypeTag<Ts>{}), true)) || ...);
}

// "float32, float64, ..." for messages.
template <class... Ts>
std::string type_names(TypeList<Ts...>) {
  std::string names;
  ((names += (names.empty() ? "" : ", ") + std::string(dtype_name(data_type_of<Ts>()))), ...);
  return names;
}

// visit_type, or a kiln::Error naming the node, `what` and the types it takes.
template <class List, class Visitor>
void visit_type_or_fail(List list, DataType dtype, const graph::Node& node, const char* what,
                        Visitor&& visitor) {
  if (!visit_type(list, dtype, visitor))
    fail(node.describe(), ": ", what, " of type ", dtype_name(dtype), " is not supported (supported: ",
         type_names(list), ")");
}

// Wrapping (two's complement) integer arithmetic without signed-overflow UB:
// small types are widened to unsigned int, 64-bit types to uint64_t.
template <class V>
using WrapUnsigned = std::common_type_t<std::make_unsigned_t<V>, unsigned>;

template <class V>
V wrapping_add(V a, V b) {
  if constexpr (std::is_integral_v<V>) return static_cast<V>(WrapUnsigned<V>(a) + WrapUnsigned<V>(b));
  else return a + b;
}
template <class V>
V wrapping_sub(V a, V b) {
  if constexpr (std::is_integral_v<V>) return static_cast<V>(WrapUnsigned<V>(a) - WrapUnsigned<V>(b));
  else return a - b;
}
template <class V>
V wrapping_mul(V a, V b) {
  if constexpr (std::is_integral_v<V>) return static_cast<V>(WrapUnsigned<V>(a) * WrapUnsigned<V>(b));
  else return a * b;
}
template <class V>
V wrapping_neg(V a) {
  return wrapping_sub(V(0), a);
}

}  // namespace kiln
