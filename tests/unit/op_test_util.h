// Runs one operator through the registry, the way the executor does.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/ir.h"
#include "runtime/op_registry.h"

namespace kiln::testing {

// A node with the given op type, `inputs.size()` inputs named in0, in1, ...
// and `num_outputs` outputs. Set attributes on the returned node.
inline graph::Node make_node(const std::string& op_type, size_t num_inputs, size_t num_outputs = 1,
                             int64_t opset = 17) {
  graph::Node node;
  node.name = op_type + "_under_test";
  node.op_type = op_type;
  node.opset = opset;
  for (size_t i = 0; i < num_inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < num_outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  return node;
}

inline graph::Attribute int_attr(int64_t v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kInt; a.i = v; return a; }
inline graph::Attribute float_attr(float v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kFloat; a.f = v; return a; }
inline graph::Attribute string_attr(std::string v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kString; a.s = std::move(v); return a; }
inline graph::Attribute ints_attr(std::vector<int64_t> v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kInts; a.ints = std::move(v); return a; }
inline graph::Attribute floats_attr(std::vector<float> v) { graph::Attribute a; a.kind = graph::Attribute::Kind::kFloats; a.floats = std::move(v); return a; }

// The kernels a session gets by default (KILN_ISA or the best the CPU has):
// CTest runs some suites again with KILN_ISA set to test the lower levels.
inline kernels::KernelTable default_kernels() { return kernels::KernelTable::for_isa(selected_isa()); }

// Runs `node` on `inputs` (an undefined Tensor = omitted optional input).
// When `inputs_are_constant`, the kernel also sees them as constants at build
// time (as weights are).
inline std::vector<Tensor> run_op(const graph::Node& node, const std::vector<Tensor>& inputs,
                                  bool inputs_are_constant = false, int threads = 1) {
  KernelFactory factory = OpRegistry::global().kernel(node.domain, node.op_type, node.opset);
  if (!factory) throw Error("no kernel for " + node.op_type);
  std::vector<const Tensor*> constants, pointers;
  for (const Tensor& t : inputs) {
    pointers.push_back(t.defined() ? &t : nullptr);
    constants.push_back(inputs_are_constant && t.defined() ? &t : nullptr);
  }
  const kernels::KernelTable table = default_kernels();
  auto kernel = factory(KernelInit(node, constants, threads, table));
  std::vector<Tensor> outputs(node.outputs.size());
  KernelContext ctx(node, pointers, outputs, threads);
  kernel->run(ctx);
  return outputs;
}

inline std::vector<float> to_floats(const Tensor& t) {
  const float* p = t.data<float>();
  return std::vector<float>(p, p + t.size());
}

}  // namespace kiln::testing
