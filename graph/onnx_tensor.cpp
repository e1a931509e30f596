#include "graph/onnx_tensor.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace kiln::graph {

namespace fs = std::filesystem;

namespace {

// Resolves an external_data location inside base_dir, refusing anything that
// escapes it (absolute paths, "..", symlinks pointing outside).
fs::path resolve_external_path(const std::string& location, const std::string& base_dir, const std::string& what) {
  if (location.empty()) fail("tensor '", what, "': external data has no location");
  fs::path rel(location);
  if (rel.is_absolute()) fail("tensor '", what, "': external data location '", location, "' is an absolute path");
  for (const auto& part : rel)
    if (part == "..") fail("tensor '", what, "': external data location '", location, "' leaves the model's folder");
  std::error_code ec;
  fs::path base = fs::weakly_canonical(fs::path(base_dir.empty() ? "." : base_dir), ec);
  fs::path full = fs::weakly_canonical(base / rel, ec);
  if (ec) fail("tensor '", what, "': cannot resolve external data file '", location, "': ", ec.message());
  auto [base_end, full_it] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (base_end != base.end())
    fail("tensor '", what, "': external data file '", location, "' resolves outside the model's folder");
  return full;
}

struct ExternalData {
  std::string location;
  fs::path path;
  uint64_t offset = 0;
};

// Parses and checks a tensor's external_data entries: the file must lie in
// base_dir and hold nbytes at the offset.
ExternalData find_external(const onnx::TensorProto& proto, const std::string& base_dir, const std::string& what,
                           size_t nbytes) {
  ExternalData external;
  int64_t length = -1;
  for (const auto& entry : proto.external_data()) {
    const std::string& key = entry.key();
    const std::string& value = entry.value();
    auto parse_u64 = [&](const std::string& v) -> uint64_t {
      try {
        size_t used = 0;
        if (v.empty() || v[0] == '-' || v[0] == '+' || v[0] == ' ') throw std::invalid_argument(v);
        unsigned long long n = std::stoull(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
        return n;
      } catch (const std::exception&) {
        fail("tensor '", what, "': external data ", key, " '", v, "' is not a non-negative integer");
      }
    };
    if (key == "location") external.location = value;
    else if (key == "offset") external.offset = parse_u64(value);
    else if (key == "length") {
      uint64_t n = parse_u64(value);
      if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail("tensor '", what, "': external data length ", value, " is too large");
      length = static_cast<int64_t>(n);
    }
  }
  external.path = resolve_external_path(external.location, base_dir, what);
  std::error_code ec;
  if (!fs::is_regular_file(external.path, ec))
    fail("tensor '", what, "': external data file '", external.location, "' does not exist or is not a regular file");
  uint64_t file_size = fs::file_size(external.path, ec);
  if (ec) fail("tensor '", what, "': cannot open external data file '", external.location, "'");
  if (length >= 0 && static_cast<uint64_t>(length) != nbytes)
    fail("tensor '", what, "': external data length ", length, " does not match the ", nbytes,
         " bytes its type and dims need");
  if (external.offset > file_size || nbytes > file_size - external.offset)
    fail("tensor '", what, "': external data offset ", external.offset, " + ", nbytes, " bytes runs past the end of '",
         external.location, "' (", file_size, " bytes)");
  return external;
}

void read_external(const ExternalData& external, const std::string& what, void* dst, size_t nbytes) {
  std::ifstream in(external.path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(external.offset));
  in.read(static_cast<char*>(dst), static_cast<std::streamsize>(nbytes));
  if (!in) fail("tensor '", what, "': reading external data from '", external.location, "' failed");
}

template <class Field>
void check_count(const Field& field, int64_t expected, const char* field_name, const std::string& what) {
  if (static_cast<int64_t>(field.size()) != expected)
    fail("tensor '", what, "': ", field_name, " has ", field.size(), " values, its dims need ", expected);
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir, const std::string& what) {
  auto type = static_cast<DataType>(proto.data_type());
  if (proto.data_type() == onnx::TensorProto::STRING)
    fail_unsupported("tensor '", what, "': string tensors are not supported");
  if (!is_supported_dtype(type))
    fail_unsupported("tensor '", what, "': data type ", proto.data_type(), " is not supported");
  if (proto.has_segment()) fail_unsupported("tensor '", what, "': segmented tensors are not supported");
  Shape shape;
  for (int64_t d : proto.dims()) {
    if (d < 0) fail("tensor '", what, "' has negative dimension ", d);
    shape.push_back(d);
  }
  int64_t count = 0;
  try {
    count = element_count(shape);
  } catch (const Error& e) {
    fail("tensor '", what, "': ", e.what());
  }
  size_t esize = element_size(type);
  if (static_cast<uint64_t>(count) > (uint64_t{1} << 40) / esize)
    fail("tensor '", what, "' of shape ", shape_to_string(shape), " is larger than 1 TiB");
  const size_t nbytes = static_cast<size_t>(count) * esize;

  // Every size is checked against the data actually present before the
  // tensor is allocated: the dims of an untrusted file must not make kiln
  // allocate memory the file does not back.
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    ExternalData external = find_external(proto, base_dir, what, nbytes);
    Tensor tensor(type, shape);
    read_external(external, what, tensor.raw(), nbytes);
    return tensor;
  }
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != nbytes)
      fail("tensor '", what, "': raw_data has ", proto.raw_data().size(), " bytes, ", dtype_name(type), " ",
           shape_to_string(shape), " needs ", nbytes);
    Tensor tensor(type, shape);
    if (nbytes) std::memcpy(tensor.raw(), proto.raw_data().data(), nbytes);
    return tensor;
  }
  switch (type) {
    case DataType::kFloat32: check_count(proto.float_data(), count, "float_data", what); break;
    case DataType::kFloat64: check_count(proto.double_data(), count, "double_data", what); break;
    case DataType::kInt64: check_count(proto.int64_data(), count, "int64_data", what); break;
    case DataType::kUInt32: case DataType::kUInt64: check_count(proto.uint64_data(), count, "uint64_data", what); break;
    default: check_count(proto.int32_data(), count, "int32_data", what); break;
  }
  Tensor tensor(type, shape);
  switch (type) {
    case DataType::kFloat32:
      if (count) std::memcpy(tensor.raw(), proto.float_data().data(), nbytes);
      break;
    case DataType::kFloat64:
      if (count) std::memcpy(tensor.raw(), proto.double_data().data(), nbytes);
      break;
    case DataType::kInt64:
      if (count) std::memcpy(tensor.raw(), proto.int64_data().data(), nbytes);
      break;
    case DataType::kInt32:
      if (count) std::memcpy(tensor.raw(), proto.int32_data().data(), nbytes);
      break;
    case DataType::kUInt32:
    case DataType::kUInt64: {
      for (int64_t i = 0; i < count; ++i) {
        uint64_t v = proto.uint64_data(static_cast<int>(i));
        if (type == DataType::kUInt32) static_cast<uint32_t*>(tensor.raw())[i] = static_cast<uint32_t>(v);
        else static_cast<uint64_t*>(tensor.raw())[i] = v;
      }
      break;
    }
    case DataType::kInt8: case DataType::kUInt8: case DataType::kInt16: case DataType::kUInt16:
    case DataType::kBool: case DataType::kFloat16: case DataType::kBFloat16: {
      // These are stored one per int32 (16-bit types as their bit pattern).
      auto* bytes = static_cast<uint8_t*>(tensor.raw());
      for (int64_t i = 0; i < count; ++i) {
        int32_t v = proto.int32_data(static_cast<int>(i));
        if (esize == 1) {
          bytes[i] = type == DataType::kBool ? static_cast<uint8_t>(v != 0) : static_cast<uint8_t>(v);
        } else {
          uint16_t half = static_cast<uint16_t>(v);
          std::memcpy(bytes + 2 * i, &half, 2);
        }
      }
      break;
    }
    default:
      fail_unsupported("tensor '", what, "': data type ", dtype_name(type), " is not supported");
  }
  return tensor;
}

void tensor_to_proto(const Tensor& tensor, onnx::TensorProto* proto) {
  proto->set_data_type(static_cast<int>(tensor.dtype()));
  proto->clear_dims();
  for (int64_t d : tensor.shape()) proto->add_dims(d);
  proto->set_raw_data(tensor.raw(), tensor.nbytes());
}

Tensor tensor_from_pb_bytes(const std::string& bytes, const std::string& base_dir, const std::string& what) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) fail(what, " is larger than 2 GiB");
  if (bytes.empty()) fail(what, " is empty (an ONNX TensorProto file holds at least a data type)");
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT_MAX);
  onnx::TensorProto proto;
  if (!proto.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    fail(what, " is not a valid ONNX TensorProto (protobuf parsing failed: truncated or another format)");
  std::string name = proto.name().empty() ? what : proto.name();
  return tensor_from_proto(proto, base_dir, name);
}

Tensor load_tensor_pb(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open tensor file '", path, "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string base = fs::path(path).parent_path().string();
  return tensor_from_pb_bytes(bytes, base.empty() ? "." : base, "'" + path + "'");
}

}  // namespace kiln::graph
