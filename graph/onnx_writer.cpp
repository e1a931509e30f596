#include "graph/onnx_writer.h"

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include <algorithm>
#include <climits>
#include <fstream>
#include <unordered_set>

#include "graph/onnx_tensor.h"
#include "graph/pass.h"

namespace kiln::graph {

namespace {

void write_value_info(const ValueInfo& info, onnx::ValueInfoProto* proto) {
  proto->set_name(info.name);
  if (info.dtype == DataType::kUndefined && !info.has_shape) return;
  auto* tensor_type = proto->mutable_type()->mutable_tensor_type();
  if (info.dtype != DataType::kUndefined) tensor_type->set_elem_type(static_cast<int>(info.dtype));
  if (!info.has_shape) return;
  auto* shape = tensor_type->mutable_shape();
  for (const Dim& d : info.dims) {
    auto* dim = shape->add_dim();
    if (d.is_fixed()) dim->set_dim_value(d.value);
    else if (!d.symbol.empty()) dim->set_dim_param(d.symbol);
  }
}

void write_attribute(const Node& node, const std::string& name, const Attribute& a, onnx::AttributeProto* proto) {
  using A = onnx::AttributeProto;
  proto->set_name(name);
  switch (a.kind) {
    case Attribute::Kind::kFloat: proto->set_type(A::FLOAT); proto->set_f(a.f); break;
    case Attribute::Kind::kInt: proto->set_type(A::INT); proto->set_i(a.i); break;
    case Attribute::Kind::kString: proto->set_type(A::STRING); proto->set_s(a.s); break;
    case Attribute::Kind::kTensor: proto->set_type(A::TENSOR); tensor_to_proto(a.t, proto->mutable_t()); break;
    case Attribute::Kind::kFloats:
      proto->set_type(A::FLOATS);
      for (float f : a.floats) proto->add_floats(f);
      break;
    case Attribute::Kind::kInts:
      proto->set_type(A::INTS);
      for (int64_t i : a.ints) proto->add_ints(i);
      break;
    case Attribute::Kind::kStrings:
      proto->set_type(A::STRINGS);
      for (const std::string& s : a.strings) proto->add_strings(s);
      break;
    case Attribute::Kind::kTensors:
      proto->set_type(A::TENSORS);
      for (const Tensor& t : a.tensors) tensor_to_proto(t, proto->add_tensors());
      break;
    case Attribute::Kind::kGraph:
    case Attribute::Kind::kGraphs:
      fail_unsupported(node.describe(), ": attribute '", name, "' holds a subgraph, which kiln cannot write");
  }
}

void write_node(const Node& node, onnx::NodeProto* proto) {
  proto->set_name(node.name);
  proto->set_op_type(node.op_type);
  if (!node.domain.empty()) proto->set_domain(node.domain);
  for (const std::string& in : node.inputs) proto->add_input(in);
  for (const std::string& out : node.outputs) proto->add_output(out);
  for (const auto& [name, attr] : node.attrs) write_attribute(node, name, attr, proto->add_attribute());
}

}  // namespace

std::string write_onnx_bytes(const Graph& g) {
  onnx::ModelProto model;
  // Initializers need not be listed as graph inputs from IR version 4 on.
  model.set_ir_version(std::max<int64_t>(g.ir_version, 4));
  if (!g.producer_name.empty()) model.set_producer_name(g.producer_name);
  if (!g.producer_version.empty()) model.set_producer_version(g.producer_version);
  for (const auto& [key, value] : g.metadata_props) {
    auto* entry = model.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  std::map<std::string, int64_t> opsets = g.opsets;
  for (const Node& node : g.nodes)
    if (node.domain == kKilnDomain) opsets.emplace(kKilnDomain, kKilnOpset);
  for (const auto& [domain, version] : opsets) {
    auto* op = model.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }

  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(g.name);
  std::unordered_set<std::string> produced;
  for (const Node& node : g.nodes) {
    write_node(node, graph->add_node());
    produced.insert(node.outputs.begin(), node.outputs.end());
  }
  std::vector<std::string> names;
  for (const auto& [name, t] : g.initializers) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    onnx::TensorProto* t = graph->add_initializer();
    tensor_to_proto(g.initializers.at(name), t);
    t->set_name(name);
  }
  for (const ValueInfo& in : g.inputs) write_value_info(in, graph->add_input());
  for (const ValueInfo& out : g.outputs) write_value_info(out, graph->add_output());
  names.clear();
  for (const auto& [name, info] : g.value_info)
    if (produced.count(name)) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) write_value_info(g.value_info.at(name), graph->add_value_info());

  if (model.ByteSizeLong() > static_cast<size_t>(INT_MAX))
    fail("the model is larger than 2 GiB, which ONNX files cannot hold without external data (not written by kiln)");
  return model.SerializeAsString();
}

void write_onnx_file(const Graph& g, const std::string& path) {
  std::string bytes = write_onnx_bytes(g);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("cannot open '", path, "' for writing");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail("writing '", path, "' failed");
}

}  // namespace kiln::graph
