#include "fuzz/model_mutator.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace kiln::fuzz {

namespace {

using Random = std::mt19937_64;

int64_t edge_value(Random& rng) {
  static const int64_t values[] = {0, 1, -1, 2, 3, -2, 4, 7, 8, 16, 255, 65536, int64_t{1} << 31,
                                   (int64_t{1} << 31) - 1, int64_t{1} << 32, int64_t{1} << 40, int64_t{1} << 62,
                                   std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                                   1000000000, -1000000000};
  return values[rng() % (sizeof values / sizeof values[0])];
}

float edge_float(Random& rng) {
  static const float values[] = {0.f, -0.f, 1.f, -1.f, 0.5f, 2.f, 1e30f, -1e30f, 1e-30f,
                                 std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::quiet_NaN(), 65536.f, 3e9f};
  return values[rng() % (sizeof values / sizeof values[0])];
}

size_t pick(Random& rng, size_t n) { return static_cast<size_t>(rng() % n); }

const char* some_op(Random& rng) {
  static const char* const ops[] = {
      "Reshape", "Expand", "Tile", "Range", "ConstantOfShape", "Resize", "Upsample", "Conv", "ConvTranspose",
      "MaxPool", "AveragePool", "Gather", "GatherElements", "Slice", "Pad", "Concat", "Split", "Transpose",
      "Squeeze", "Unsqueeze", "MatMul", "Gemm", "Flatten", "Where", "Cast", "Softmax", "ReduceSum", "ReduceMean",
      "TopK", "ArgMax", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "DepthToSpace",
      "SpaceToDepth", "Einsum", "CumSum", "OneHot", "Trilu", "ScatterND", "GatherND", "NonZero", "If", "Loop",
      "Scan", "Add", "Mul", "Div", "Pow", "Clip", "Identity", "Shape", "Size", "Constant", "GlobalAveragePool",
      "PRelu", "Mod", "Dropout", "LRN", "Sum", "Mean", "Max", "Min", "Equal"};
  return ops[pick(rng, sizeof ops / sizeof ops[0])];
}

// Every value name in the graph, for rewiring inputs.
std::vector<std::string> value_names(const onnx::GraphProto& g) {
  std::vector<std::string> names;
  for (const auto& v : g.input()) names.push_back(v.name());
  for (const auto& t : g.initializer()) names.push_back(t.name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) names.push_back(o);
  return names;
}

void mutate_attribute(onnx::AttributeProto& a, Random& rng) {
  switch (pick(rng, 4)) {
    case 0:
      if (a.ints_size()) a.set_ints(static_cast<int>(pick(rng, static_cast<size_t>(a.ints_size()))), edge_value(rng));
      else a.set_i(edge_value(rng));
      break;
    case 1:
      if (rng() & 1) a.add_ints(edge_value(rng));
      else if (a.ints_size()) a.mutable_ints()->RemoveLast();
      break;
    case 2:
      if (a.floats_size()) a.set_floats(static_cast<int>(pick(rng, static_cast<size_t>(a.floats_size()))), edge_float(rng));
      else a.set_f(edge_float(rng));
      break;
    default:
      a.set_type(static_cast<onnx::AttributeProto::AttributeType>(pick(rng, 15)));
  }
}

void mutate_tensor(onnx::TensorProto& t, Random& rng) {
  switch (pick(rng, 5)) {
    case 0:
      if (t.dims_size()) t.set_dims(static_cast<int>(pick(rng, static_cast<size_t>(t.dims_size()))), edge_value(rng));
      else t.add_dims(edge_value(rng));
      break;
    case 1: t.set_data_type(static_cast<int>(pick(rng, 17))); break;
    case 2: {  // overwrite one 8-byte value in raw_data
      std::string* raw = t.mutable_raw_data();
      if (raw->size() >= 8) {
        int64_t v = edge_value(rng);
        size_t at = pick(rng, raw->size() / 8) * 8;
        std::memcpy(raw->data() + at, &v, 8);
      } else if (t.int64_data_size()) {
        t.set_int64_data(static_cast<int>(pick(rng, static_cast<size_t>(t.int64_data_size()))), edge_value(rng));
      } else if (t.float_data_size()) {
        t.set_float_data(static_cast<int>(pick(rng, static_cast<size_t>(t.float_data_size()))), edge_float(rng));
      }
      break;
    }
    case 3: {  // overwrite one 4-byte value
      std::string* raw = t.mutable_raw_data();
      if (raw->size() >= 4) {
        auto v = static_cast<int32_t>(edge_value(rng));
        size_t at = pick(rng, raw->size() / 4) * 4;
        std::memcpy(raw->data() + at, &v, 4);
      } else if (t.int32_data_size()) {
        t.set_int32_data(0, static_cast<int32_t>(edge_value(rng)));
      }
      break;
    }
    default:
      if (t.dims_size() && (rng() & 1)) t.mutable_dims()->RemoveLast();
      else t.add_dims(static_cast<int64_t>(pick(rng, 4)));
  }
}

void mutate_node(onnx::GraphProto& g, onnx::NodeProto& n, Random& rng) {
  switch (pick(rng, 6)) {
    case 0:
      if (n.attribute_size()) mutate_attribute(*n.mutable_attribute(static_cast<int>(pick(rng, static_cast<size_t>(n.attribute_size())))), rng);
      break;
    case 1: n.set_op_type(some_op(rng)); break;
    case 2: {  // rewire an input
      std::vector<std::string> names = value_names(g);
      std::string name = names.empty() || pick(rng, 5) == 0 ? std::string() : names[pick(rng, names.size())];
      if (n.input_size() && (rng() & 1)) n.set_input(static_cast<int>(pick(rng, static_cast<size_t>(n.input_size()))), name);
      else n.add_input(name);
      break;
    }
    case 3:
      if (n.input_size() && (rng() & 1)) n.mutable_input()->RemoveLast();
      else if (n.output_size()) n.mutable_output()->RemoveLast();
      break;
    case 4: {  // an output that clashes with another value, or an extra output
      std::vector<std::string> names = value_names(g);
      if (!names.empty() && n.output_size() && (rng() & 1))
        n.set_output(static_cast<int>(pick(rng, static_cast<size_t>(n.output_size()))), names[pick(rng, names.size())]);
      else n.add_output(n.output_size() && (rng() & 1) ? n.output(0) : "extra_" + std::to_string(rng() % 100));
      break;
    }
    default: {  // a tensor attribute or a new int attribute
      auto* a = n.add_attribute();
      static const char* const names[] = {"axis", "axes", "group", "kernel_shape", "strides", "pads", "dilations",
                                          "perm", "blocksize", "value", "to", "keepdims", "mode", "split"};
      a->set_name(names[pick(rng, sizeof names / sizeof names[0])]);
      if (rng() & 1) {
        a->set_type(onnx::AttributeProto::INTS);
        for (size_t i = pick(rng, 5); i > 0; --i) a->add_ints(edge_value(rng));
      } else {
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(edge_value(rng));
      }
    }
  }
}

void mutate_value_info(onnx::ValueInfoProto& v, Random& rng) {
  auto* tt = v.mutable_type()->mutable_tensor_type();
  switch (pick(rng, 3)) {
    case 0: {
      auto* shape = tt->mutable_shape();
      if (shape->dim_size() && (rng() & 1))
        shape->mutable_dim(static_cast<int>(pick(rng, static_cast<size_t>(shape->dim_size()))))->set_dim_value(edge_value(rng));
      else shape->add_dim()->set_dim_value(static_cast<int64_t>(pick(rng, 4)));
      break;
    }
    case 1: tt->set_elem_type(static_cast<int>(pick(rng, 17))); break;
    default: tt->clear_shape();
  }
}

}  // namespace

size_t mutate_model(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size)) || !model.has_graph()) return 0;
  Random rng(seed);
  onnx::GraphProto& g = *model.mutable_graph();
  switch (pick(rng, 6)) {
    case 0: case 1: case 2:
      if (g.node_size()) mutate_node(g, *g.mutable_node(static_cast<int>(pick(rng, static_cast<size_t>(g.node_size())))), rng);
      break;
    case 3:
      if (g.initializer_size()) mutate_tensor(*g.mutable_initializer(static_cast<int>(pick(rng, static_cast<size_t>(g.initializer_size())))), rng);
      else if (g.node_size()) mutate_node(g, *g.mutable_node(0), rng);
      break;
    case 4:
      if (g.input_size()) mutate_value_info(*g.mutable_input(static_cast<int>(pick(rng, static_cast<size_t>(g.input_size())))), rng);
      break;
    default:
      if (model.opset_import_size()) model.mutable_opset_import(0)->set_version(static_cast<int64_t>(pick(rng, 20)));
  }
  std::string out = model.SerializeAsString();
  if (out.empty() || out.size() > max_size) return 0;
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

}  // namespace kiln::fuzz
