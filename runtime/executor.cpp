#include "runtime/executor.h"

#include <chrono>
#include <map>
#include <sstream>

#include "graph/shape_inference.h"
#include "platform/memory_budget.h"
#include "runtime/memory_plan.h"
#include "runtime/node_arity.h"
#include "runtime/op_registry.h"

namespace kiln {

namespace {

// Prefixes a kernel's message with the node unless it already names it.
[[noreturn]] void rethrow_for_node(const graph::Node& node, const std::exception& e, bool unsupported) {
  std::string message = e.what();
  if (message.find(node.describe()) == std::string::npos) message = node.describe() + ": " + message;
  if (unsupported) throw UnsupportedError(message);
  throw Error(message);
}

void check_op_support(const graph::Graph& g) {
  const OpRegistry& registry = OpRegistry::global();
  // "Op (domain, opset N)" -> node names
  std::map<std::string, std::vector<std::string>> missing;
  for (const auto& node : g.nodes) {
    if (registry.kernel(node.domain, node.op_type, node.opset)) continue;
    std::ostringstream key;
    key << (node.domain.empty() ? "" : node.domain + ".") << node.op_type;
    bool has_subgraph = false;
    for (const auto& [name, attr] : node.attrs)
      has_subgraph = has_subgraph || attr.kind == graph::Attribute::Kind::kGraph ||
                     attr.kind == graph::Attribute::Kind::kGraphs;
    if (has_subgraph) key << " (control flow with a subgraph; kiln does not run subgraphs)";
    else if (registry.knows(node.domain, node.op_type)) key << " (opset " << node.opset << ")";
    else if (!node.domain.empty() && !g.opsets.count(node.domain)) key << " (domain not imported)";
    missing[key.str()].push_back(node.name);
  }
  if (missing.empty()) return;
  size_t nodes = 0;
  for (const auto& [op, names] : missing) nodes += names.size();
  std::ostringstream msg;
  msg << "the model uses " << missing.size() << " unsupported operator" << (missing.size() > 1 ? "s" : "")
      << " (" << nodes << " node" << (nodes > 1 ? "s" : "") << "): ";
  bool first = true;
  for (const auto& [op, names] : missing) {
    msg << (first ? "" : "; ") << op << " in ";
    first = false;
    for (size_t i = 0; i < names.size() && i < 5; ++i) msg << (i ? ", " : "") << "'" << names[i] << "'";
    if (names.size() > 5) msg << " and " << names.size() - 5 << " more";
  }
  throw UnsupportedError(msg.str());
}

void check_input(const graph::ValueInfo& declared, const Tensor& given, std::map<std::string, int64_t>& symbols) {
  if (given.dtype() != declared.dtype)
    fail("input '", declared.name, "' has type ", dtype_name(given.dtype()), ", the model expects ",
         dtype_name(declared.dtype));
  if (!declared.has_shape) return;
  bool ok = given.rank() == declared.dims.size();
  for (size_t i = 0; ok && i < declared.dims.size(); ++i) {
    const graph::Dim& d = declared.dims[i];
    if (d.is_fixed()) ok = d.value == given.dim(i);
    else if (!d.symbol.empty()) {
      auto [it, inserted] = symbols.emplace(d.symbol, given.dim(i));
      if (!inserted && it->second != given.dim(i))
        fail("input '", declared.name, "' has shape ", shape_to_string(given.shape()), ", but dimension '", d.symbol,
             "' was ", it->second, " in an earlier input");
    }
  }
  if (!ok)
    fail("input '", declared.name, "' has shape ", shape_to_string(given.shape()), ", the model expects ",
         declared.shape_string());
}

}  // namespace

// An output inside the arena must sit where the plan put it, unless the kernel
// declared that it hands out views of its inputs. Anything else would let a
// later value overwrite it: fail loudly instead of computing garbage.
void Executor::check_arena_use(const Step& step, const std::vector<Tensor>& outputs, const Tensor& arena,
                               const uint8_t* arena_base) const {
  if (step.kernel->may_alias_inputs()) return;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].defined() || !outputs[i].shares_storage_with(arena)) continue;
    if (step.arena_offset[i] < 0 || static_cast<const uint8_t*>(outputs[i].raw()) != arena_base + step.arena_offset[i])
      fail("internal error: ", step.node->describe(), " output ", i, " landed in the memory arena outside its planned place");
  }
}

int Executor::slot_of(const std::string& name) {
  auto [it, inserted] = slots_.emplace(name, static_cast<int>(slots_.size()));
  if (inserted) constants_.emplace_back();
  return it->second;
}

void Executor::prepare(const graph::Graph& g, int threads, const kernels::KernelTable& kernels,
                       std::function<void(const NodeRunInfo&)> observer) {
  threads_ = threads;
  observer_ = std::move(observer);
  check_op_support(g);
  for (const auto& node : g.nodes) check_node_arity(node);
  // Give every value its slot first: constants_ must not grow while kernels
  // are built, since KernelInit holds pointers into it.
  for (const auto& node : g.nodes) {
    for (const std::string& name : node.inputs)
      if (!name.empty()) slot_of(name);
    for (const std::string& name : node.outputs)
      if (!name.empty()) slot_of(name);
  }
  for (const auto& out : g.outputs) slot_of(out.name);
  for (const auto& [name, tensor] : g.initializers) constants_[static_cast<size_t>(slot_of(name))] = tensor;
  for (const auto& in : g.inputs) input_slots_.push_back(slot_of(in.name));
  const size_t slot_count = constants_.size();

  // What the memory planner needs to know of each node's kernel.
  std::vector<NodeMemoryFacts> facts(g.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const graph::Node& node = g.nodes[n];
    Step step;
    step.node = &node;
    std::vector<const Tensor*> constant_inputs;
    bool all_constant = true;
    for (const std::string& in : node.inputs) {
      int slot = in.empty() ? -1 : slot_of(in);
      step.inputs.push_back(slot);
      const Tensor* c = slot >= 0 && constants_[static_cast<size_t>(slot)].defined() ? &constants_[static_cast<size_t>(slot)] : nullptr;
      constant_inputs.push_back(c);
      if (slot >= 0 && !c) all_constant = false;
    }
    for (const std::string& out : node.outputs) step.outputs.push_back(out.empty() ? -1 : slot_of(out));
    try {
      KernelFactory factory = OpRegistry::global().kernel(node.domain, node.op_type, node.opset);
      step.kernel = factory(KernelInit(node, constant_inputs, threads_, kernels));
      if (all_constant) {
        // Every input is known now: evaluate once, keep the results as constants.
        std::vector<Tensor> outputs(node.outputs.size());
        KernelContext ctx(node, constant_inputs, outputs, threads_);
        step.kernel->run(ctx);
        for (size_t i = 0; i < outputs.size(); ++i)
          if (step.outputs[i] >= 0) constants_[static_cast<size_t>(step.outputs[i])] = std::move(outputs[i]);
        ++folded_;
        facts[n].folded = true;
        continue;
      }
    } catch (const UnsupportedError& e) {
      rethrow_for_node(node, e, true);
    } catch (const std::exception& e) {
      rethrow_for_node(node, e, false);
    }
    step.kernel_name = step.kernel->kernel_name();
    facts[n].may_alias_inputs = step.kernel->may_alias_inputs();
    facts[n].concatenation_axis = step.kernel->concatenation_axis();
    for (size_t i = 0; i < node.inputs.size(); ++i)
      facts[n].may_write_over_input.push_back(step.kernel->may_write_over_input(i));
    steps_.push_back(std::move(step));
  }
  for (const auto& out : g.outputs) output_slots_.push_back(slot_of(out.name));
  if (constants_.size() != slot_count) fail("internal error: executor slots grew while kernels were built");

  bind_memory_plan(g, facts);
}

// Plans memory (runtime/memory_plan.h) from the graph, the inferred shapes and
// what each step's kernel allows, and binds the plan to the steps.
void Executor::bind_memory_plan(const graph::Graph& g, const std::vector<NodeMemoryFacts>& facts) {
  for (const Tensor& c : constants_)
    if (c.defined()) memory_.constant_bytes += c.nbytes();
  graph::ValueInfoMap infos;
  bool inferred = true;
  try {
    infos = graph::infer_shapes(g, OpRegistry::global());
  } catch (const std::exception& e) {
    memory_.note = std::string("no memory plan: shape inference failed: ") + e.what();
    inferred = false;
  }
  const MemoryPlan plan = plan_memory(g, inferred ? &infos : nullptr, facts);
  for (Step& step : steps_) {
    const NodeMemory& planned = plan.nodes[static_cast<size_t>(step.node - g.nodes.data())];
    step.arena_offset = planned.arena_offset;
    step.arena_bytes = planned.arena_bytes;
    for (const std::string& name : planned.release) step.release.push_back(slots_.at(name));
  }
  memory_.arena_bytes = plan.arena_bytes;
  memory_.peak_live_bytes = plan.peak_live_bytes;
  memory_.unplanned_bytes = plan.unplanned_bytes;
  memory_.planned_values = plan.planned_values;
  memory_.in_place_values = plan.in_place_values;
  memory_.concat_slice_values = plan.concat_slice_values;
  memory_.dynamic_values = plan.dynamic_values;
  for (const auto& [name, bytes] : plan.largest) {
    auto info = infos.find(name);
    std::string size = bytes_to_string(bytes);
    size = size.substr(0, size.find(" ("));  // "6.0 GiB", without the exact count
    largest_planned_ += (largest_planned_.empty() ? "'" : ", '") + name + "' ";
    if (info != infos.end()) largest_planned_ += std::string(dtype_name(info->second.dtype)) + " " + info->second.shape_string() + " ";
    largest_planned_ += size;
  }
  // The first run allocates the arena; a plan that cannot fit in what the
  // weights left of the budget fails now, before any input is made or node runs.
  const std::shared_ptr<MemoryBudget>& budget = current_memory_budget();
  if (budget && memory_.arena_bytes) {
    const uint64_t arena = memory_.arena_bytes, used = budget->in_use();
    if (arena > budget->limit() || used > budget->limit() - arena)
      budget->fail_over_budget(arena, "the memory arena of the model's " + std::to_string(memory_.planned_values) +
                                          " planned intermediate values (largest " + largest_planned_ + ")");
  }
}

Tensor Executor::take_arena() const {
  if (!memory_.arena_bytes) return Tensor();
  {
    std::lock_guard<std::mutex> lock(arena_mutex_);
    if (spare_arena_.storage()) {
      Tensor spare = std::move(spare_arena_);
      spare_arena_ = Tensor();  // a moved-from Tensor may still say defined()
      return spare;
    }
  }
  try {
    return Tensor(DataType::kUInt8, {static_cast<int64_t>(memory_.arena_bytes)});
  } catch (const Error& e) {
    fail("the memory arena for the model's intermediate values (", memory_.planned_values,
         " values, sized by shape inference) cannot be allocated: ", e.what());
  }
}

// The last run's graph outputs that nobody else holds any more (undefined
// where the caller still does), handed to this run to write over.
std::vector<Tensor> Executor::take_free_outputs() const {
  std::vector<Tensor> free(output_slots_.size());
  std::lock_guard<std::mutex> lock(arena_mutex_);
  for (size_t k = 0; k < last_outputs_.size() && k < free.size(); ++k)
    if (last_outputs_[k].storage() && last_outputs_[k].storage().use_count() == 1) {
      free[k] = std::move(last_outputs_[k]);
      last_outputs_[k] = Tensor();
    }
  return free;
}

void Executor::keep_outputs(const std::vector<Tensor>& outputs) const {
  std::lock_guard<std::mutex> lock(arena_mutex_);
  last_outputs_ = outputs;
}

// Keeps the arena for the next run unless something still holds a view into
// it or another run already returned one.
void Executor::return_arena(Tensor arena) const {
  if (!arena.storage() || arena.storage().use_count() != 1) return;
  std::lock_guard<std::mutex> lock(arena_mutex_);
  if (!spare_arena_.storage()) spare_arena_ = std::move(arena);
}

NamedTensors Executor::run(const graph::Graph& g, const NamedTensors& inputs) const {
  for (const auto& [name, t] : inputs) {
    bool known = false;
    for (const auto& in : g.inputs) known = known || in.name == name;
    if (!known) {
      std::string names;
      for (const auto& in : g.inputs) names += (names.empty() ? "" : ", ") + in.name;
      fail("the model has no input named '", name, "' (inputs: ", names, ")");
    }
  }
  std::vector<Tensor> values = constants_;
  std::map<std::string, int64_t> symbols;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    auto it = inputs.find(g.inputs[i].name);
    if (it == inputs.end()) fail("input '", g.inputs[i].name, "' was not given");
    check_input(g.inputs[i], it->second, symbols);
    values[static_cast<size_t>(input_slots_[i])] = it->second;
  }

  // One arena per run (reused from the previous run when free); planned
  // outputs are views into it.
  Tensor arena = take_arena();
  struct ArenaReturn {
    const Executor& executor;
    Tensor& arena;
    ~ArenaReturn() { executor.return_arena(std::move(arena)); }
  } arena_return{*this, arena};
  auto* arena_base = static_cast<uint8_t*>(arena.raw());
  std::shared_ptr<void> arena_owner = arena.defined() ? arena.storage() : nullptr;
  std::vector<OutputPlacement> placements;
  // A free buffer of the last run's output k, for the step that makes it.
  std::vector<Tensor> free_outputs = take_free_outputs();
  auto free_output_for = [&](int slot) -> Tensor* {
    for (size_t k = 0; k < output_slots_.size(); ++k)
      if (output_slots_[k] == slot && free_outputs[k].defined()) return &free_outputs[k];
    return nullptr;
  };

  std::vector<const Tensor*> in_ptrs;
  for (const Step& step : steps_) {
    const graph::Node& node = *step.node;
    in_ptrs.clear();
    for (int slot : step.inputs) {
      const Tensor* t = slot >= 0 ? &values[static_cast<size_t>(slot)] : nullptr;
      if (t && !t->defined()) fail(node.describe(), ": input '", node.inputs[in_ptrs.size()], "' has no value");
      in_ptrs.push_back(t);
    }
    std::vector<Tensor> outputs(node.outputs.size());
    auto start = std::chrono::steady_clock::now();
    try {
      KernelContext ctx(node, in_ptrs, outputs, threads_);
      placements.assign(outputs.size(), OutputPlacement{});
      for (size_t i = 0; i < outputs.size(); ++i) {
        if (arena_owner && step.arena_offset[i] >= 0)
          placements[i] = OutputPlacement{arena_owner, arena_base + step.arena_offset[i], step.arena_bytes[i]};
        else if (Tensor* previous = step.outputs[i] >= 0 ? free_output_for(step.outputs[i]) : nullptr)
          placements[i] = OutputPlacement{previous->storage(), previous->raw(), previous->nbytes()};
      }
      ctx.set_placements(&placements);
      step.kernel->run(ctx);
    } catch (const UnsupportedError& e) {
      rethrow_for_node(node, e, true);
    } catch (const std::exception& e) {
      rethrow_for_node(node, e, false);
    }
    if (arena_owner) check_arena_use(step, outputs, arena, arena_base);
    if (observer_) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      static const std::string kNoActivation;
      auto activation = node.attrs.find("activation");
      const std::string& activation_name =
          activation != node.attrs.end() && node.op_type == "FusedConv" ? activation->second.s : kNoActivation;
      observer_(NodeRunInfo{node.name, node.op_type, in_ptrs, outputs, seconds, activation_name, step.kernel_name});
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (step.outputs[i] < 0) continue;
      if (!outputs[i].defined()) fail(node.describe(), ": output ", i, " ('", node.outputs[i], "') was not produced");
      values[static_cast<size_t>(step.outputs[i])] = std::move(outputs[i]);
    }
    for (int slot : step.release) values[static_cast<size_t>(slot)] = Tensor();
  }

  NamedTensors result;
  std::vector<Tensor> kept(output_slots_.size());
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const Tensor& t = values[static_cast<size_t>(output_slots_[i])];
    if (!t.defined()) fail("graph output '", g.outputs[i].name, "' was not produced by any node");
    result[g.outputs[i].name] = t;
    kept[i] = t;
  }
  keep_outputs(kept);
  return result;
}

}  // namespace kiln
