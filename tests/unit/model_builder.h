// Builds small ONNX models in code (as serialized bytes) for loader and session tests.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

namespace kiln::testing {

class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 17) {
    model_.set_ir_version(8);
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }
  onnx::ModelProto& proto() { return model_; }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  // dims: >= 0 fixed, -1 unknown; symbols[i] non-empty makes dim i symbolic.
  onnx::ValueInfoProto* input(const std::string& name, std::vector<int64_t> dims,
                              int elem_type = onnx::TensorProto::FLOAT, std::vector<std::string> symbols = {}) {
    return fill_value(graph().add_input(), name, dims, elem_type, symbols);
  }
  onnx::ValueInfoProto* output(const std::string& name, std::vector<int64_t> dims = {},
                               int elem_type = onnx::TensorProto::FLOAT) {
    return fill_value(graph().add_output(), name, dims, elem_type, {});
  }
  onnx::NodeProto* node(const std::string& op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                        const std::string& name = "") {
    auto* n = graph().add_node();
    n->set_op_type(op_type);
    n->set_name(name);
    for (auto& i : inputs) n->add_input(i);
    for (auto& o : outputs) n->add_output(o);
    return n;
  }
  onnx::TensorProto* initializer(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& values) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (float v : values) t->add_float_data(v);
    return t;
  }
  std::string bytes() const { return model_.SerializeAsString(); }

 private:
  static onnx::ValueInfoProto* fill_value(onnx::ValueInfoProto* v, const std::string& name,
                                          const std::vector<int64_t>& dims, int elem_type,
                                          const std::vector<std::string>& symbols) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem_type);
    auto* shape = tt->mutable_shape();
    for (size_t i = 0; i < dims.size(); ++i) {
      auto* d = shape->add_dim();
      if (i < symbols.size() && !symbols[i].empty()) d->set_dim_param(symbols[i]);
      else if (dims[i] >= 0) d->set_dim_value(dims[i]);
    }
    return v;
  }
  onnx::ModelProto model_;
};

}  // namespace kiln::testing
