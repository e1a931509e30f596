// Conversion between onnx::TensorProto and kiln::Tensor.
#pragma once

#include <string>

#include "kiln/tensor.h"

namespace onnx {
class TensorProto;
}

namespace kiln::graph {

// Decodes every encoding exporters write: raw_data, float_data, int32_data
// (also float16/bfloat16/int8/uint8/int16/uint16/bool), int64_data,
// double_data, uint64_data, and external_data (relative to base_dir, which
// must keep the file inside that folder). Checks byte counts against dims.
// `what` names the tensor in error messages.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir, const std::string& what);

// Encodes as raw_data.
void tensor_to_proto(const Tensor& tensor, onnx::TensorProto* proto);

// Parses a serialized TensorProto (the backend test-data .pb format) from
// untrusted bytes; `what` names them in messages, external data is resolved
// in base_dir.
Tensor tensor_from_pb_bytes(const std::string& bytes, const std::string& base_dir, const std::string& what);

// Reads a serialized TensorProto file.
Tensor load_tensor_pb(const std::string& path);

}  // namespace kiln::graph
