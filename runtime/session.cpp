#include "kiln/session.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "graph/onnx_loader.h"
#include "graph/optimizer.h"
#include "kernels/kernel_table.h"
#include "kiln/model_info.h"
#include "platform/memory_budget.h"
#include "runtime/executor.h"
#include "runtime/model_impl.h"
#include "runtime/prepare_graph.h"

namespace kiln {

std::string TensorInfo::shape_string() const {
  if (!has_shape) return "?";
  if (dims.empty()) return "scalar";
  std::ostringstream out;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out << "x";
    if (dims[i] >= 0) out << dims[i];
    else out << (dim_names[i].empty() ? "?" : dim_names[i]);
  }
  return out.str();
}

int physical_core_count() {
  // Count distinct (package, core) pairs from sysfs; fall back to the logical count.
  std::set<std::pair<std::string, std::string>> cores;
  for (unsigned cpu = 0; cpu < 4096; ++cpu) {
    std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream package(base + "physical_package_id"), core(base + "core_id");
    if (!package || !core) break;
    std::string p, c;
    package >> p;
    core >> c;
    cores.emplace(p, c);
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

struct Session::Impl {
  graph::Graph graph;
  Executor executor;
  std::vector<TensorInfo> inputs, outputs;
  int threads = 1;
  OptimizeReport optimize_report;
  std::shared_ptr<MemoryBudget> budget;
  kernels::KernelTable kernels;  // picked once, from SessionOptions::isa or its default
};

namespace {

// A session opened from a kiln::Model shares the model's weights, which were
// allocated before its memory budget existed. They stay alive as long as the
// session, so they count against its budget as if it had loaded them: the
// bytes of every initializer and tensor attribute (each allocation once,
// rounded as the allocator rounds), held until the session and its budget go.
void charge_shared_weights(const graph::Graph& g) {
  const std::shared_ptr<MemoryBudget>& budget = current_memory_budget();
  if (!budget) return;
  std::set<const void*> seen;
  uint64_t bytes = 0;
  auto charge = [&](const Tensor& t) {
    if (!t.defined() || !seen.insert(t.storage().get()).second) return;
    const uint64_t alignment = Tensor::kAlignment;
    bytes += std::max<uint64_t>(alignment, (t.nbytes() + alignment - 1) / alignment * alignment);
  };
  for (const auto& [name, tensor] : g.initializers) charge(tensor);
  for (const graph::Node& node : g.nodes)
    for (const auto& [key, attr] : node.attrs) {
      charge(attr.t);
      for (const Tensor& t : attr.tensors) charge(t);
    }
  if (!budget->try_reserve(bytes)) budget->fail_over_budget(bytes, "the model's weights");
}

// Without an explicit budget the limit is all the memory available, which a
// plan can take from everything else on the machine: more than half of it
// earns a warning in the memory summary.
void warn_if_large(Executor& executor, uint64_t available) {
  const MemorySummary& memory = executor.memory_summary();
  const uint64_t needed = uint64_t{memory.arena_bytes} + memory.constant_bytes;
  if (needed <= available / 2) return;
  std::string warning = "the model needs " + bytes_to_string(needed) + " (memory arena " +
                        bytes_to_string(memory.arena_bytes) + ", weights " + bytes_to_string(memory.constant_bytes) +
                        "), more than half of the " + bytes_to_string(available) + " available";
  if (!executor.largest_planned().empty()) warning += "; largest planned values " + executor.largest_planned();
  executor.set_memory_warning(warning + "; SessionOptions::max_memory_bytes bounds it");
}

// Loads with `load` and builds the session, every tensor counted against the budget.
template <class Load>
std::unique_ptr<Session::Impl> build(const Load& load, const SessionOptions& options) {
  auto impl = std::make_unique<Session::Impl>();
  // The kernels first: an unusable isa fails before the model is read.
  const Isa isa = options.isa.empty() ? selected_isa()
                                      : select_isa(cpu_info(), options.isa.c_str(), "SessionOptions::isa");
  impl->kernels = kernels::KernelTable::for_isa(isa);
  impl->budget = std::make_shared<MemoryBudget>(options.max_memory_bytes);
  MemoryBudgetScope budget_scope(impl->budget);
  graph::Graph g = load();
  if (options.threads < 0) fail("threads must be >= 0 (0 = one per physical core), got ", options.threads);
  impl->threads = options.threads > 0 ? options.threads : physical_core_count();
  graph::OptimizeOptions optimize_options;
  optimize_options.level = options.opt_level;
  impl->optimize_report =
      prepare_graph(g, options.input_shapes, options.dim_values, options.batch, optimize_options, &impl->kernels);
  impl->graph = std::move(g);
  for (const auto& v : impl->graph.inputs) impl->inputs.push_back(to_tensor_info(v));
  for (const auto& v : impl->graph.outputs) impl->outputs.push_back(to_tensor_info(v));
  impl->executor.prepare(impl->graph, impl->threads, impl->kernels, options.node_observer);
  if (options.max_memory_bytes == 0) warn_if_large(impl->executor, impl->budget->limit());
  return impl;
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

Session Session::open(const std::string& model_path, const SessionOptions& options) {
  return Session(build([&] { return graph::load_onnx_file(model_path); }, options));
}

Session Session::from_bytes(const std::string& model_bytes, const SessionOptions& options,
                            const std::string& base_dir) {
  return Session(build([&] { return graph::load_onnx_bytes(model_bytes, base_dir); }, options));
}

Session Session::open(const Model& model, const SessionOptions& options) {
  return Session(build(
      [&] {
        // A copy of the graph: the optimizer rewrites it, the tensors stay shared.
        graph::Graph g = model.impl().graph;
        charge_shared_weights(g);
        return g;
      },
      options));
}

const std::vector<TensorInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Session::outputs() const { return impl_->outputs; }
int Session::threads() const { return impl_->threads; }
const OptimizeReport& Session::optimization_summary() const { return impl_->optimize_report; }
const MemorySummary& Session::memory_summary() const { return impl_->executor.memory_summary(); }

uint64_t Session::memory_budget_bytes() const { return impl_->budget->limit(); }
uint64_t Session::peak_memory_bytes() const { return impl_->budget->peak(); }
uint64_t Session::memory_in_use_bytes() const { return impl_->budget->in_use(); }

void Session::reserve_memory(uint64_t bytes, const std::string& what) {
  // Held until the session ends: the budget goes with it.
  if (!impl_->budget->try_reserve(bytes)) impl_->budget->fail_over_budget(bytes, what);
}

NamedTensors Session::run(const NamedTensors& inputs) {
  MemoryBudgetScope budget_scope(impl_->budget);
  return impl_->executor.run(impl_->graph, inputs);
}

}  // namespace kiln
