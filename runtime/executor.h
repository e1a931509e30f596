// Runs a graph node by node: kernels built once, values freed after their last use.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/ir.h"
#include "kiln/session.h"
#include "runtime/op_kernel.h"

namespace kiln {

struct NodeMemoryFacts;

class Executor {
 public:
  // Checks op support (listing every unsupported op at once), evaluates nodes
  // whose inputs are all constant, and builds one kernel per remaining node
  // with the microkernels of `kernels`.
  void prepare(const graph::Graph& g, int threads, const kernels::KernelTable& kernels,
               std::function<void(const NodeRunInfo&)> observer = {});
  NamedTensors run(const graph::Graph& g, const NamedTensors& inputs) const;

  // Number of nodes evaluated at build time because all their inputs were constant.
  size_t folded_node_count() const { return folded_; }
  const MemorySummary& memory_summary() const { return memory_; }
  // The largest values in the arena with their types, shapes and sizes
  // ("'a' float32 1x64x512x512 64.0 MiB, ..."); empty without a plan.
  const std::string& largest_planned() const { return largest_planned_; }
  void set_memory_warning(std::string warning) { memory_.warning = std::move(warning); }

 private:
  struct Step {
    const graph::Node* node;
    std::unique_ptr<OpKernel> kernel;
    std::string kernel_name;     // kernel->kernel_name(), for the observer
    std::vector<int> inputs;     // slot per input, -1 for omitted
    std::vector<int> outputs;    // slot per output, -1 for omitted
    std::vector<int> release;    // slots whose last reader is this step
    std::vector<int64_t> arena_offset;  // per output: offset in the arena, -1 = not planned
    std::vector<size_t> arena_bytes;    // per output: planned size
  };
  void bind_memory_plan(const graph::Graph& g, const std::vector<NodeMemoryFacts>& facts);
  void check_arena_use(const Step& step, const std::vector<Tensor>& outputs, const Tensor& arena,
                       const uint8_t* arena_base) const;
  int slot_of(const std::string& name);
  Tensor take_arena() const;
  void return_arena(Tensor arena) const;
  std::vector<Tensor> take_free_outputs() const;
  void keep_outputs(const std::vector<Tensor>& outputs) const;

  std::unordered_map<std::string, int> slots_;
  std::vector<Tensor> constants_;   // by slot; undefined when not constant
  std::vector<Step> steps_;
  std::vector<int> input_slots_;    // parallel to g.inputs
  std::vector<int> output_slots_;   // parallel to g.outputs
  int threads_ = 1;
  size_t folded_ = 0;
  MemorySummary memory_;
  std::string largest_planned_;
  std::function<void(const NodeRunInfo&)> observer_;
  // The arena of the last run, kept for the next one: a fresh allocation of
  // tens or hundreds of MiB comes from mmap and costs a page fault per 4 KiB
  // on every run. A run that finds it taken (another thread is running)
  // allocates its own.
  mutable std::mutex arena_mutex_;
  mutable Tensor spare_arena_;
  // The graph outputs of the last run (parallel to output_slots_), for the
  // same reason: once the caller has let go of one, the next run writes that
  // output into its buffer instead of a fresh one. Guarded by arena_mutex_.
  mutable std::vector<Tensor> last_outputs_;
};

}  // namespace kiln
