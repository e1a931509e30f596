#include "graph/onnx_loader.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include <climits>
#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "graph/onnx_tensor.h"
#include "graph/topological_sort.h"
#include "graph/validate_graph.h"

namespace kiln::graph {

namespace {

constexpr int kMaxNestingDepth = 64;  // protobuf message nesting (default is 100)

ValueInfo convert_value_info(const onnx::ValueInfoProto& proto) {
  ValueInfo info;
  info.name = proto.name();
  if (!proto.has_type()) return info;
  const onnx::TypeProto& type = proto.type();
  if (!type.has_tensor_type()) {
    const char* kind = type.has_sequence_type() ? "sequence" : type.has_map_type() ? "map"
                       : type.has_optional_type() ? "optional" : type.has_sparse_tensor_type() ? "sparse tensor"
                       : "non-tensor";
    fail_unsupported("value '", proto.name(), "' is of kind ", kind, "; kiln supports dense tensors only");
  }
  const auto& tensor_type = type.tensor_type();
  info.dtype = static_cast<DataType>(tensor_type.elem_type());
  if (tensor_type.elem_type() == onnx::TensorProto::STRING)
    fail_unsupported("value '", proto.name(), "' is a string tensor; kiln does not support strings");
  if (tensor_type.has_shape()) {
    info.has_shape = true;
    for (const auto& d : tensor_type.shape().dim()) {
      Dim dim;
      if (d.has_dim_value()) {
        if (d.dim_value() < 0) fail("value '", proto.name(), "' declares negative dimension ", d.dim_value());
        dim.value = d.dim_value();
      } else if (d.has_dim_param()) {
        dim.symbol = d.dim_param();
      }
      info.dims.push_back(dim);
    }
    Shape fixed;
    for (const Dim& d : info.dims)
      if (d.is_fixed()) fixed.push_back(d.value);
    try {
      element_count(fixed);
    } catch (const Error& e) {
      fail("value '", proto.name(), "' declares an impossible shape: ", e.what());
    }
  }
  return info;
}

Attribute convert_attribute(const onnx::AttributeProto& proto, const std::string& base_dir, const std::string& node_desc) {
  Attribute a;
  using A = onnx::AttributeProto;
  std::string what = node_desc + " attribute '" + proto.name() + "'";
  switch (proto.type()) {
    case A::FLOAT: a.kind = Attribute::Kind::kFloat; a.f = proto.f(); break;
    case A::INT: a.kind = Attribute::Kind::kInt; a.i = proto.i(); break;
    case A::STRING: a.kind = Attribute::Kind::kString; a.s = proto.s(); break;
    case A::TENSOR: a.kind = Attribute::Kind::kTensor; a.t = tensor_from_proto(proto.t(), base_dir, what); break;
    case A::GRAPH: a.kind = Attribute::Kind::kGraph; break;  // kept as a marker; subgraphs are unsupported
    case A::FLOATS: a.kind = Attribute::Kind::kFloats; a.floats.assign(proto.floats().begin(), proto.floats().end()); break;
    case A::INTS: a.kind = Attribute::Kind::kInts; a.ints.assign(proto.ints().begin(), proto.ints().end()); break;
    case A::STRINGS: a.kind = Attribute::Kind::kStrings; a.strings.assign(proto.strings().begin(), proto.strings().end()); break;
    case A::TENSORS:
      a.kind = Attribute::Kind::kTensors;
      for (const auto& t : proto.tensors()) a.tensors.push_back(tensor_from_proto(t, base_dir, what));
      break;
    case A::GRAPHS: a.kind = Attribute::Kind::kGraphs; break;
    case A::UNDEFINED:
      // Old exporters leave the type unset; infer it from the populated field.
      if (proto.has_f()) { a.kind = Attribute::Kind::kFloat; a.f = proto.f(); }
      else if (proto.has_i()) { a.kind = Attribute::Kind::kInt; a.i = proto.i(); }
      else if (proto.has_s()) { a.kind = Attribute::Kind::kString; a.s = proto.s(); }
      else if (proto.has_t()) { a.kind = Attribute::Kind::kTensor; a.t = tensor_from_proto(proto.t(), base_dir, what); }
      else if (proto.ints_size()) { a.kind = Attribute::Kind::kInts; a.ints.assign(proto.ints().begin(), proto.ints().end()); }
      else if (proto.floats_size()) { a.kind = Attribute::Kind::kFloats; a.floats.assign(proto.floats().begin(), proto.floats().end()); }
      else if (proto.strings_size()) { a.kind = Attribute::Kind::kStrings; a.strings.assign(proto.strings().begin(), proto.strings().end()); }
      else fail(what, " has no type and no value");
      break;
    default:
      fail_unsupported(what, " has unsupported type ", static_cast<int>(proto.type()));
  }
  return a;
}

Graph convert_model(const onnx::ModelProto& model, const std::string& base_dir) {
  if (!model.has_graph()) fail("the model has no graph");
  Graph g;
  g.ir_version = model.ir_version();
  g.producer_name = model.producer_name();
  g.producer_version = model.producer_version();
  for (const auto& entry : model.metadata_props()) g.metadata_props[entry.key()] = entry.value();
  for (const auto& op : model.opset_import()) {
    std::string domain = op.domain() == "ai.onnx" ? "" : op.domain();
    g.opsets[domain] = op.version();
  }
  // IR version 3 and later must declare opsets; older files imply opset 1.
  if (model.opset_import_size() == 0) g.opsets[""] = 1;

  const onnx::GraphProto& gp = model.graph();
  g.name = gp.name();
  if (!gp.sparse_initializer().empty())
    fail_unsupported("the model has sparse initializers, which kiln does not support");

  for (const auto& init : gp.initializer()) {
    if (init.name().empty()) fail("an initializer has no name");
    if (g.initializers.count(init.name())) fail("initializer '", init.name(), "' is defined twice");
    g.initializers.emplace(init.name(), tensor_from_proto(init, base_dir, init.name()));
  }
  std::unordered_set<std::string> input_names;
  for (const auto& in : gp.input()) {
    if (!input_names.insert(in.name()).second) fail("graph input '", in.name(), "' is declared twice");
    if (g.initializers.count(in.name())) continue;  // an overridable constant, not a real input
    g.inputs.push_back(convert_value_info(in));
    if (g.inputs.back().dtype == DataType::kUndefined)
      fail("graph input '", in.name(), "' has no tensor type");
  }
  for (const auto& out : gp.output()) g.outputs.push_back(convert_value_info(out));
  for (const auto& vi : gp.value_info()) {
    try {
      g.value_info.emplace(vi.name(), convert_value_info(vi));
    } catch (const UnsupportedError&) {
      // A non-tensor intermediate is reported by the node that makes it.
    }
  }

  g.nodes.reserve(static_cast<size_t>(gp.node_size()));
  for (int i = 0; i < gp.node_size(); ++i) {
    const onnx::NodeProto& np = gp.node(i);
    Node node;
    node.op_type = np.op_type();
    node.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    node.name = np.name().empty() ? np.op_type() + "_" + std::to_string(i) : np.name();
    if (node.op_type.empty()) fail("node ", i, " ('", node.name, "') has no op_type");
    auto opset = g.opsets.find(node.domain);
    node.opset = opset == g.opsets.end() ? 0 : opset->second;
    node.inputs.assign(np.input().begin(), np.input().end());
    node.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& attr : np.attribute()) {
      if (attr.name().empty()) fail(node.describe(), " has an attribute without a name");
      if (!attr.ref_attr_name().empty())
        fail_unsupported(node.describe(), ": attribute references (functions) are not supported");
      node.attrs.emplace(attr.name(), convert_attribute(attr, base_dir, node.describe()));
    }
    g.nodes.push_back(std::move(node));
  }
  sort_topologically(g);
  validate_graph(g);  // graph outputs nobody provides, undeclared domains, ...
  return g;
}

}  // namespace

Graph load_onnx_bytes(const std::string& bytes, const std::string& base_dir, const std::string& what) {
  if (bytes.empty()) fail(what, " is empty, not an ONNX model");
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX)));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT_MAX);  // models > 64 MiB must load; > 2 GiB need external data anyway
  coded.SetRecursionLimit(kMaxNestingDepth);
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    fail(what, " is larger than 2 GiB; store its weights as ONNX external data");
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    fail(what, " is not a valid ONNX model (protobuf parsing failed: truncated or not an ONNX file)");
  return convert_model(model, base_dir);
}

Graph load_onnx_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("model file '", path, "' does not exist");
  if (fs::is_directory(path, ec)) fail("'", path, "' is a folder, not a model file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open model file '", path, "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string base = fs::path(path).parent_path().string();
  return load_onnx_bytes(bytes, base.empty() ? "." : base, "'" + path + "'");
}

}  // namespace kiln::graph
