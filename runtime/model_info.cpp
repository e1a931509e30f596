#include "kiln/model_info.h"

#include <utility>

#include "graph/fix_input_shapes.h"
#include "graph/onnx_loader.h"
#include "graph/optimizer.h"
#include "graph/shape_inference.h"
#include "kiln/error.h"
#include "platform/cpu_info.h"
#include "runtime/kernel_evaluator.h"
#include "runtime/model_impl.h"
#include "runtime/op_registry.h"

namespace kiln {

TensorInfo to_tensor_info(const graph::ValueInfo& v) {
  TensorInfo info;
  info.name = v.name;
  info.dtype = v.dtype;
  info.has_shape = v.has_shape;
  for (const graph::Dim& d : v.dims) {
    info.dims.push_back(d.value);
    info.dim_names.push_back(d.symbol);
  }
  return info;
}

namespace {

int64_t product(const Shape& shape, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < shape.size(); ++i) p *= shape[i];
  return p;
}

std::optional<Shape> static_shape(const TensorInfo& info) {
  if (!info.has_shape) return std::nullopt;
  for (int64_t d : info.dims)
    if (d < 0) return std::nullopt;
  return info.dims;
}

// The inferred info of each named value of `names`; has_shape false (and the
// name kept) where inference found nothing or the value is omitted.
std::vector<TensorInfo> value_infos(const std::vector<std::string>& names, const graph::ValueInfoMap& inferred) {
  std::vector<TensorInfo> infos;
  for (const std::string& name : names) {
    auto it = name.empty() ? inferred.end() : inferred.find(name);
    if (it == inferred.end()) {
      TensorInfo unknown;
      unknown.name = name;
      infos.push_back(std::move(unknown));
    } else {
      infos.push_back(to_tensor_info(it->second));
      infos.back().name = name;
    }
  }
  return infos;
}

std::optional<int64_t> macs_of(const std::string& op_type, const std::vector<TensorInfo>& inputs,
                               const std::vector<TensorInfo>& outputs) {
  if (!counts_macs(op_type)) return std::nullopt;
  std::vector<std::optional<Shape>> in, out;
  for (const TensorInfo& v : inputs) in.push_back(static_shape(v));
  for (const TensorInfo& v : outputs) out.push_back(static_shape(v));
  return count_macs(op_type, in, out);
}

// Static inference alone cannot see through Constant nodes and Shape chains,
// so these MACs are counted on a copy with those folded (fold_constants,
// fold_static_shapes): the same counted nodes, now with known shapes. Unknown
// when folding removed one of them (all its inputs were constant) or a shape
// stays unknown.
std::optional<int64_t> count_macs_after_folding(const graph::Graph& g, std::string* error) {
  auto counted_nodes = [](const graph::Graph& graph) {
    int64_t n = 0;
    for (const graph::Node& node : graph.nodes) n += counts_macs(node.op_type);
    return n;
  };
  try {
    graph::Graph folded = g;
    std::vector<graph::Pass> folding;
    for (const graph::Pass& pass : graph::all_passes())
      if (std::string(pass.name) == "fold_constants" || std::string(pass.name) == "fold_static_shapes")
        folding.push_back(pass);
    graph::OptimizeOptions options;
    options.validate = false;
    // Folding here only makes shapes known, which no ISA changes: the best
    // level's kernels, so that an invalid KILN_ISA (reported by whatever
    // builds a session) does not turn the count into "unknown".
    graph::run_passes(folded, folding,
                      with_kernels(options, OpRegistry::global(), kernels::KernelTable::for_isa(cpu_info().best_isa())));
    if (counted_nodes(folded) != counted_nodes(g)) return std::nullopt;
    const graph::ValueInfoMap inferred = graph::infer_shapes(folded, OpRegistry::global());
    int64_t macs = 0;
    for (const graph::Node& node : folded.nodes) {
      if (!counts_macs(node.op_type)) continue;
      std::optional<int64_t> node_macs =
          macs_of(node.op_type, value_infos(node.inputs, inferred), value_infos(node.outputs, inferred));
      if (!node_macs) return std::nullopt;
      macs += *node_macs;
    }
    return macs;
  } catch (const Error& e) {
    *error = e.what();  // inference or folding refused the graph
    return std::nullopt;
  }
}

}  // namespace

std::string NodeDescription::qualified_op_type() const {
  return domain.empty() ? op_type : domain + "." + op_type;
}

std::vector<const NodeDescription*> ModelDescription::unsupported_nodes() const {
  std::vector<const NodeDescription*> unsupported;
  for (const NodeDescription& node : nodes)
    if (!node.supported) unsupported.push_back(&node);
  return unsupported;
}

Model Model::open(const std::string& path) {
  auto impl = std::make_shared<Impl>();
  impl->graph = graph::load_onnx_file(path);
  return Model(std::move(impl));
}

Model Model::from_bytes(const std::string& model_bytes, const std::string& base_dir) {
  auto impl = std::make_shared<Impl>();
  impl->graph = graph::load_onnx_bytes(model_bytes, base_dir);
  return Model(std::move(impl));
}

ModelDescription Model::describe(const DescribeOptions& options) const {
  const graph::Graph& declared = impl_->graph;
  ModelDescription d;
  d.ir_version = declared.ir_version;
  d.producer_name = declared.producer_name;
  d.producer_version = declared.producer_version;
  d.metadata = declared.metadata_props;
  d.opsets = declared.opsets;
  for (const graph::ValueInfo& v : declared.inputs) d.inputs.push_back(to_tensor_info(v));
  for (const graph::ValueInfo& v : declared.outputs) d.outputs.push_back(to_tensor_info(v));
  d.initializers = declared.initializers.size();
  for (const auto& [name, tensor] : declared.initializers) {
    d.parameters += tensor.size();
    d.parameter_bytes += tensor.nbytes();
  }
  for (const graph::Node& node : declared.nodes) {
    const Tensor* value = node.op_type == "Constant" && node.domain.empty() ? node.attr_tensor("value") : nullptr;
    if (!value) continue;
    ++d.constant_nodes;
    d.parameters += value->size();
    d.parameter_bytes += value->nbytes();
  }

  graph::Graph g = declared;  // tensors are shared, not copied
  graph::fix_input_shapes(g, options.input_shapes, options.dim_values);
  for (const graph::ValueInfo& v : g.inputs) d.fixed_inputs.push_back(to_tensor_info(v));

  graph::ValueInfoMap inferred;
  if (options.infer_shapes) {
    try {
      inferred = graph::infer_shapes(g, OpRegistry::global());
    } catch (const Error& e) {
      d.shape_inference_error = e.what();
      inferred.clear();
    }
  }
  const OpRegistry& registry = OpRegistry::global();
  for (const graph::Node& node : g.nodes) {
    NodeDescription n;
    n.name = node.name;
    n.op_type = node.op_type;
    n.domain = node.domain;
    n.opset = node.opset;
    n.supported = registry.kernel(node.domain, node.op_type, node.opset) != nullptr;
    n.inputs = value_infos(node.inputs, inferred);
    n.outputs = value_infos(node.outputs, inferred);
    if (d.shape_inference_error.empty()) n.macs = macs_of(n.op_type, n.inputs, n.outputs);
    d.nodes.push_back(std::move(n));
  }
  if (options.infer_shapes && options.count_folded_macs) d.folded_macs = count_macs_after_folding(g, &d.folded_shape_inference_error);
  return d;
}

ModelDescription describe_model(const std::string& path, const DescribeOptions& options) {
  return Model::open(path).describe(options);
}

bool counts_macs(const std::string& op_type) {
  return op_type == "Conv" || op_type == "FusedConv" || op_type == "ConvTranspose" || op_type == "Gemm" ||
         op_type == "MatMul";
}

std::optional<int64_t> count_macs(const std::string& op_type, const std::vector<std::optional<Shape>>& inputs,
                                  const std::vector<std::optional<Shape>>& outputs) {
  if (!counts_macs(op_type)) return std::nullopt;
  auto in = [&](size_t i) -> const Shape* { return i < inputs.size() && inputs[i] ? &*inputs[i] : nullptr; };
  const Shape* out = !outputs.empty() && outputs[0] ? &*outputs[0] : nullptr;
  if (op_type == "ConvTranspose") {
    if (!in(0) || !in(1) || in(1)->size() < 2) return std::nullopt;
    return product(*in(0)) * product(*in(1), 1);
  }
  if (!out) return std::nullopt;
  if (op_type == "Conv" || op_type == "FusedConv") {
    if (!in(1) || in(1)->size() < 2) return std::nullopt;
    return product(*out) * product(*in(1), 1);
  }
  if (op_type == "MatMul") {
    if (!in(0) || in(0)->empty()) return std::nullopt;
    return product(*out) * in(0)->back();
  }
  // Gemm: A is MxK or KxM (transA), Y is MxN, so K = elements(A) / M.
  if (!in(0) || out->size() != 2) return std::nullopt;
  if ((*out)[0] == 0) return 0;
  return product(*out) * (product(*in(0)) / (*out)[0]);
}

}  // namespace kiln
