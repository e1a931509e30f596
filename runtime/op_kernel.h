// The interface every operator implementation follows.
//
// A kernel object is created once per node when the session is built (that is
// where attributes are parsed and validated, and where constant weights may be
// packed), then run() is called for every inference.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "kernels/kernel_table.h"
#include "kiln/tensor.h"

namespace kiln {

// What a kernel factory sees when the session is built.
class KernelInit {
 public:
  KernelInit(const graph::Node& node, std::vector<const Tensor*> constant_inputs, int threads,
             const kernels::KernelTable& kernels)
      : node_(node), constants_(std::move(constant_inputs)), threads_(threads), kernels_(kernels) {}

  const graph::Node& node() const { return node_; }
  int64_t opset() const { return node_.opset; }
  size_t num_inputs() const { return node_.inputs.size(); }
  bool has_input(size_t i) const { return i < node_.inputs.size() && !node_.inputs[i].empty(); }
  // The value of input i when it is a constant (an initializer that cannot be
  // overridden, or a folded constant); nullptr otherwise.
  const Tensor* constant_input(size_t i) const { return i < constants_.size() ? constants_[i] : nullptr; }
  int threads() const { return threads_; }
  // The session's kernels: the one place an operator picks its microkernels.
  const kernels::KernelTable& kernels() const { return kernels_; }

 private:
  const graph::Node& node_;
  std::vector<const Tensor*> constants_;
  int threads_;
  const kernels::KernelTable& kernels_;
};

// Where the memory plan put an output: `bytes` at `data` inside the arena
// that `arena` keeps alive. An output whose size differs at run time (shapes
// the plan could not know) falls back to its own allocation.
struct OutputPlacement {
  std::shared_ptr<void> arena;
  void* data = nullptr;
  size_t bytes = 0;
};

// What a kernel sees on each run.
class KernelContext {
 public:
  KernelContext(const graph::Node& node, std::vector<const Tensor*> inputs, std::vector<Tensor>& outputs,
                int threads)
      : node_(node), inputs_(std::move(inputs)), outputs_(outputs), threads_(threads) {}

  const graph::Node& node() const { return node_; }
  size_t num_inputs() const { return inputs_.size(); }
  // nullptr when the input is omitted (optional) or past the end.
  const Tensor* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  // The input, which must be present (kiln::Error naming the node otherwise).
  const Tensor& required_input(size_t i) const;
  size_t num_outputs() const { return outputs_.size(); }
  // Allocates output i with the given type and shape and returns it.
  Tensor& allocate_output(size_t i, DataType type, Shape shape);
  // Sets output i to an existing tensor (zero-copy views: Reshape, Identity, ...).
  void set_output(size_t i, Tensor tensor);
  int threads() const { return threads_; }
  // The executor's memory plan for this node's outputs (one entry per output,
  // nullptr data = not planned). Kernels never call this.
  void set_placements(const std::vector<OutputPlacement>* placements) { placements_ = placements; }

 private:
  const graph::Node& node_;
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor>& outputs_;
  int threads_;
  const std::vector<OutputPlacement>* placements_ = nullptr;
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual void run(KernelContext& ctx) = 0;
  // True when run() may hand out an input's storage as an output (a view made
  // with set_output). The memory planner then keeps the two in one buffer.
  virtual bool may_alias_inputs() const { return false; }
  // True when run() makes output 0 element by element from input `i` when
  // the two have the same shape and type: each output element is written
  // only after the input element at the same index was read, and nothing
  // else of input i is read after that. The memory planner may then give
  // output 0 the storage of input i when no later step reads input i (the
  // operation runs in place).
  virtual bool may_write_over_input(size_t /*i*/) const { return false; }
  // Set when output 0 is the inputs laid end to end along this axis (Concat)
  // and run() skips the copy of an input that already sits at its place in
  // output 0. The memory planner may then have an input's producer write it
  // straight into that place (see plan_memory).
  virtual std::optional<int64_t> concatenation_axis() const { return std::nullopt; }
  // The microkernel(s) run() calls, by their inventory names (e.g.
  // "f32_gemm_6x16_avx2"), for the profile; empty when the op has no named kernel.
  virtual std::string kernel_name() const { return {}; }
};

using KernelFactory = std::unique_ptr<OpKernel> (*)(const KernelInit& init);

}  // namespace kiln
