// kiln::Tensor: a typed, shaped buffer with shared ownership, 64-byte aligned when kiln allocates it.
//
// Copying a Tensor is shallow (both copies see the same bytes); use clone()
// for a deep copy. Kernels never write into their input tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kiln/error.h"

namespace kiln {

// Values match ONNX TensorProto.DataType so the loader can cast directly.
enum class DataType : int {
  kUndefined = 0,
  kFloat32 = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,  // not supported as tensor data; listed for messages
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kBFloat16 = 16,
};

// Bytes per element; 0 for kUndefined and kString.
size_t element_size(DataType type);
// "float32", "int64", ... for messages.
const char* dtype_name(DataType type);
// True for the types a Tensor can hold.
bool is_supported_dtype(DataType type);

using Shape = std::vector<int64_t>;

// No tensor dim may exceed this (2^40): a larger one can only come from a
// broken or hostile model, and the bound keeps products of two dims in int64.
inline constexpr int64_t kMaxDimension = int64_t{1} << 40;

// Product of dims. Throws kiln::Error on a negative dim, a dim above
// kMaxDimension, or on overflow.
int64_t element_count(const Shape& shape);
// "1x3x224x224"; "scalar" for rank 0.
std::string shape_to_string(const Shape& shape);

// IEEE half <-> float conversions (round to nearest even).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bfloat16_to_float(uint16_t b);
uint16_t float_to_bfloat16(float f);

// Maps a C++ type to its DataType (float16/bfloat16 are stored as uint16_t and
// have no mapping here: use raw() with DataType checks for them).
template <class T> constexpr DataType dtype_of();
template <> constexpr DataType dtype_of<float>() { return DataType::kFloat32; }
template <> constexpr DataType dtype_of<double>() { return DataType::kFloat64; }
template <> constexpr DataType dtype_of<int8_t>() { return DataType::kInt8; }
template <> constexpr DataType dtype_of<uint8_t>() { return DataType::kUInt8; }
template <> constexpr DataType dtype_of<int16_t>() { return DataType::kInt16; }
template <> constexpr DataType dtype_of<uint16_t>() { return DataType::kUInt16; }
template <> constexpr DataType dtype_of<int32_t>() { return DataType::kInt32; }
template <> constexpr DataType dtype_of<uint32_t>() { return DataType::kUInt32; }
template <> constexpr DataType dtype_of<int64_t>() { return DataType::kInt64; }
template <> constexpr DataType dtype_of<uint64_t>() { return DataType::kUInt64; }
template <> constexpr DataType dtype_of<bool>() { return DataType::kBool; }

class Tensor {
 public:
  static constexpr size_t kAlignment = 64;

  Tensor() = default;
  Tensor(const Tensor&) = default;
  Tensor& operator=(const Tensor&) = default;
  // A moved-from Tensor is undefined (not a shape without storage).
  Tensor(Tensor&& other) noexcept { *this = std::move(other); }
  Tensor& operator=(Tensor&& other) noexcept {
    if (this == &other) return *this;
    data_ = std::move(other.data_);
    dtype_ = other.dtype_;
    shape_ = std::move(other.shape_);
    size_ = other.size_;
    other.dtype_ = DataType::kUndefined;
    other.shape_.clear();
    other.size_ = 0;
    return *this;
  }
  // Allocates uninitialized storage for element_count(shape) elements.
  Tensor(DataType type, Shape shape);
  // Allocates and fills with zero bytes.
  static Tensor zeros(DataType type, Shape shape);
  // A float32 / int64 tensor from values (handy in tests and folding).
  static Tensor from_floats(Shape shape, const std::vector<float>& values);
  static Tensor from_int64s(Shape shape, const std::vector<int64_t>& values);
  // A view of bytes someone else owns (`owner` keeps them alive): element_count(shape) elements at `data`, aligned for
  // the type; 64-byte alignment is not needed (kernels read inputs unaligned: tests/unit/unaligned_inputs_test.cpp).
  static Tensor view(DataType type, Shape shape, std::shared_ptr<void> owner, void* data);

  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_[i]; }
  size_t rank() const { return shape_.size(); }
  int64_t size() const { return size_; }  // number of elements
  size_t nbytes() const { return static_cast<size_t>(size_) * element_size(dtype_); }
  bool defined() const { return dtype_ != DataType::kUndefined; }
  // The allocation this tensor keeps alive (for making views of it).
  const std::shared_ptr<void>& storage() const { return data_; }
  // True when both tensors keep the same allocation alive (views included).
  bool shares_storage_with(const Tensor& other) const {
    return !data_.owner_before(other.data_) && !other.data_.owner_before(data_);
  }

  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }

  template <class T>
  T* data() {
    check_type(dtype_of<T>());
    return static_cast<T*>(data_.get());
  }
  template <class T>
  const T* data() const {
    check_type(dtype_of<T>());
    return static_cast<const T*>(data_.get());
  }

  // Same bytes, new shape (element count must match).
  Tensor reshaped(Shape shape) const;
  // Deep copy.
  Tensor clone() const;
  // Element i converted to double / int64 (any numeric type; for shape
  // inputs, attributes and tests, not for hot loops).
  double value_as_double(int64_t i) const;
  int64_t value_as_int64(int64_t i) const;
  // All elements as int64 (for shape-like inputs: Reshape's shape, Slice's starts, ...).
  std::vector<int64_t> to_int64_vector() const;

 private:
  void check_type(DataType wanted) const;

  DataType dtype_ = DataType::kUndefined;
  Shape shape_;
  int64_t size_ = 0;
  std::shared_ptr<void> data_;
};

}  // namespace kiln
