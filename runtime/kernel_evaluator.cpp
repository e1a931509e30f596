#include "runtime/kernel_evaluator.h"

#include <exception>
#include <memory>

namespace kiln {

graph::NodeEvaluator kernel_evaluator(const OpRegistry& registry, std::optional<kernels::KernelTable> kernels) {
  // Chosen here, not per node: an invalid KILN_ISA is the caller's error, not
  // a reason to leave every node unfolded.
  const kernels::KernelTable table = kernels ? *kernels : kernels::KernelTable::for_isa(selected_isa());
  return [&registry, table](const graph::Node& node,
                              const std::vector<const Tensor*>& inputs) -> std::optional<std::vector<Tensor>> {
    KernelFactory factory = registry.kernel(node.domain, node.op_type, node.opset);
    if (!factory) return std::nullopt;
    std::vector<Tensor> outputs(node.outputs.size());
    try {
      std::unique_ptr<OpKernel> kernel = factory(KernelInit(node, inputs, 1, table));
      KernelContext ctx(node, inputs, outputs, 1);
      kernel->run(ctx);
    } catch (const std::exception&) {
      return std::nullopt;  // left for the executor, which reports the error with the node's name
    }
    return outputs;
  };
}

graph::KernelQuery kernel_query(const OpRegistry& registry) {
  return [&registry](const std::string& domain, const std::string& op_type, int64_t opset) {
    return registry.kernel(domain, op_type, opset) != nullptr;
  };
}

graph::OptimizeOptions with_kernels(graph::OptimizeOptions options, const OpRegistry& registry,
                                    std::optional<kernels::KernelTable> kernels) {
  options.evaluate = kernel_evaluator(registry, kernels);
  options.has_kernel = kernel_query(registry);
  options.ops = &registry;
  return options;
}

}  // namespace kiln
