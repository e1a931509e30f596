#include "runtime/executor.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <sstream>

#include "graph/shape_inference.h"
#include "runtime/memory_plan.h"
#include "runtime/node_arity.h"
#include "runtime/op_registry.h"

namespace kiln {

namespace {

// No single planned value may exceed this (1 TiB); larger ones are not planned.
constexpr uint64_t kMaxPlannedBytes = uint64_t{1} << 40;

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
    if (registry.find(node.domain, node.op_type, node.opset)) continue;
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

  for (const auto& node : g.nodes) {
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
      KernelFactory factory = OpRegistry::global().find(node.domain, node.op_type, node.opset);
      step.kernel = factory(KernelInit(node, constant_inputs, threads_, kernels));
      if (all_constant) {
        // Every input is known now: evaluate once, keep the results as constants.
        std::vector<Tensor> outputs(node.outputs.size());
        KernelContext ctx(node, constant_inputs, outputs, threads_);
        step.kernel->run(ctx);
        for (size_t i = 0; i < outputs.size(); ++i)
          if (step.outputs[i] >= 0) constants_[static_cast<size_t>(step.outputs[i])] = std::move(outputs[i]);
        ++folded_;
        continue;
      }
    } catch (const UnsupportedError& e) {
      rethrow_for_node(node, e, true);
    } catch (const std::exception& e) {
      rethrow_for_node(node, e, false);
    }
    step.kernel_name = step.kernel->kernel_name();
    steps_.push_back(std::move(step));
  }
  for (const auto& out : g.outputs) output_slots_.push_back(slot_of(out.name));
  if (constants_.size() != slot_count) fail("internal error: executor slots grew while kernels were built");

  // Release each non-constant value after its last reader, unless it is a graph output.
  std::set<int> keep(output_slots_.begin(), output_slots_.end());
  std::map<int, size_t> last_reader;
  for (size_t s = 0; s < steps_.size(); ++s)
    for (int slot : steps_[s].inputs)
      if (slot >= 0) last_reader[slot] = s;
  for (const auto& [slot, s] : last_reader)
    if (!keep.count(slot) && !constants_[static_cast<size_t>(slot)].defined()) steps_[s].release.push_back(slot);
  plan_memory_for(g);
}

// Places every intermediate whose size shape inference knows in one arena.
// A kernel that may hand out an input as its output (a view) joins that input's
// buffer: the buffer then lives until the last reader of any of them, and only
// the value that really allocates (the group's first) gets a place.
void Executor::plan_memory_for(const graph::Graph& g) {
  for (const Tensor& c : constants_)
    if (c.defined()) memory_.constant_bytes += c.nbytes();
  for (Step& step : steps_) {
    step.arena_offset.assign(step.outputs.size(), -1);
    step.arena_bytes.assign(step.outputs.size(), 0);
  }
  graph::ValueInfoMap info;
  try {
    info = graph::infer_shapes(g);
  } catch (const std::exception& e) {
    memory_.note = std::string("no memory plan: shape inference failed: ") + e.what();
    return;
  }
  const size_t slots = constants_.size();
  std::vector<int> parent(slots);
  for (size_t i = 0; i < slots; ++i) parent[i] = static_cast<int>(i);
  auto find = [&](int x) {
    while (parent[static_cast<size_t>(x)] != x) x = parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    return x;
  };
  std::vector<int> producer(slots, -1);  // step index
  for (size_t s = 0; s < steps_.size(); ++s) {
    for (int out : steps_[s].outputs)
      if (out >= 0) producer[static_cast<size_t>(out)] = static_cast<int>(s);
    if (!steps_[s].kernel->may_alias_inputs()) continue;
    // Views of constants and graph inputs never touch the arena: only join
    // outputs to inputs that steps produce.
    for (int out : steps_[s].outputs)
      for (int in : steps_[s].inputs)
        if (out >= 0 && in >= 0 && !constants_[static_cast<size_t>(in)].defined() &&
            std::find(input_slots_.begin(), input_slots_.end(), in) == input_slots_.end())
          parent[static_cast<size_t>(find(out))] = find(in);
  }
  // A group that holds a graph output is not planned: the caller keeps it.
  std::vector<bool> excluded(slots, false);
  for (int slot : output_slots_) excluded[static_cast<size_t>(find(slot))] = true;
  std::vector<int> group_last(slots, -1);
  for (size_t s = 0; s < steps_.size(); ++s) {
    for (int in : steps_[s].inputs)
      if (in >= 0) group_last[static_cast<size_t>(find(in))] = std::max(group_last[static_cast<size_t>(find(in))], static_cast<int>(s));
    for (int out : steps_[s].outputs)
      if (out >= 0) group_last[static_cast<size_t>(find(out))] = std::max(group_last[static_cast<size_t>(find(out))], static_cast<int>(s));
  }

  std::vector<std::string> slot_names(slots);
  for (const auto& [name, slot] : slots_) slot_names[static_cast<size_t>(slot)] = name;
  // The planned size of a value: nullopt when its shape or type is not known
  // statically, or its inferred size is absurd (left to its kernel, whose
  // allocation then fails against the memory budget naming the node).
  auto planned_bytes = [&](int slot) -> std::optional<size_t> {
    auto it = info.find(slot_names[static_cast<size_t>(slot)]);
    std::optional<Shape> shape = it == info.end() ? std::nullopt : it->second.static_shape();
    if (!shape || !is_supported_dtype(it->second.dtype)) return std::nullopt;
    int64_t count = 0;
    try {
      count = element_count(*shape);
    } catch (const Error&) {
      return std::nullopt;
    }
    const size_t esize = element_size(it->second.dtype);
    if (static_cast<uint64_t>(count) > kMaxPlannedBytes / esize) return std::nullopt;
    return static_cast<size_t>(count) * esize;
  };

  // In place: an element-wise step whose input is read by no later step
  // writes its output over that input (OpKernel::may_write_over_input). The
  // output joins the input's group and takes its root's place; the input must
  // start where the root does (the root itself, or an earlier in-place output)
  // and have the output's static shape and type.
  std::vector<int> written_over(slots, -1);  // output slot -> root slot whose place it takes
  for (size_t s = 0; s < steps_.size(); ++s) {
    const Step& step = steps_[s];
    if (step.outputs.empty() || step.outputs[0] < 0 || step.kernel->may_alias_inputs()) continue;
    const int out = step.outputs[0];
    if (find(out) != out || excluded[static_cast<size_t>(out)]) continue;
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int in = step.inputs[i];
      if (in < 0 || !step.kernel->may_write_over_input(i)) continue;
      const int root = find(in);
      const int root_producer = producer[static_cast<size_t>(root)];
      if (excluded[static_cast<size_t>(root)] || group_last[static_cast<size_t>(root)] != static_cast<int>(s) ||
          root_producer < 0 || steps_[static_cast<size_t>(root_producer)].kernel->may_alias_inputs())
        continue;
      if (in != root && written_over[static_cast<size_t>(in)] != root) continue;
      auto in_info = info.find(slot_names[static_cast<size_t>(in)]);
      auto out_info = info.find(slot_names[static_cast<size_t>(out)]);
      if (in_info == info.end() || out_info == info.end() || in_info->second.dtype != out_info->second.dtype ||
          !in_info->second.static_shape() || in_info->second.static_shape() != out_info->second.static_shape())
        continue;
      const std::optional<size_t> bytes = planned_bytes(out);
      if (!bytes || *bytes == 0 || bytes != planned_bytes(root)) continue;
      parent[static_cast<size_t>(out)] = root;
      group_last[static_cast<size_t>(root)] = std::max(group_last[static_cast<size_t>(root)], group_last[static_cast<size_t>(out)]);
      written_over[static_cast<size_t>(out)] = root;
      break;
    }
  }

  std::vector<BufferRequest> requests;
  std::vector<std::pair<size_t, size_t>> owners;  // (step, output index) per request
  std::vector<int> request_of(slots, -1);         // root slot -> its request
  for (size_t slot = 0; slot < slots; ++slot) {
    int s = producer[slot];
    if (s < 0 || written_over[slot] >= 0) continue;
    const Step& step = steps_[static_cast<size_t>(s)];
    const int root = find(static_cast<int>(slot));
    // Only the group's root allocates; views made by aliasing kernels do not.
    if (excluded[static_cast<size_t>(root)] || step.kernel->may_alias_inputs()) continue;
    const std::optional<size_t> bytes = planned_bytes(static_cast<int>(slot));
    if (!bytes) {
      ++memory_.dynamic_values;
      continue;
    }
    if (*bytes == 0) continue;
    size_t output_index = 0;
    while (step.outputs[output_index] != static_cast<int>(slot)) ++output_index;
    request_of[slot] = static_cast<int>(requests.size());
    requests.push_back({*bytes, s, std::max(s, group_last[static_cast<size_t>(root)])});
    owners.emplace_back(static_cast<size_t>(s), output_index);
  }
  MemoryPlan plan = plan_memory(requests);
  for (size_t r = 0; r < requests.size(); ++r) {
    Step& step = steps_[owners[r].first];
    step.arena_offset[owners[r].second] = static_cast<int64_t>(plan.offsets[r]);
    step.arena_bytes[owners[r].second] = requests[r].bytes;
  }
  for (size_t slot = 0; slot < slots; ++slot) {
    const int root = written_over[slot];
    if (root < 0 || request_of[static_cast<size_t>(root)] < 0) continue;
    const size_t r = static_cast<size_t>(request_of[static_cast<size_t>(root)]);
    Step& step = steps_[static_cast<size_t>(producer[slot])];
    step.arena_offset[0] = static_cast<int64_t>(plan.offsets[r]);
    step.arena_bytes[0] = requests[r].bytes;
    ++memory_.in_place_values;
    memory_.unplanned_bytes += requests[r].bytes;
  }
  memory_.arena_bytes = plan.arena_bytes;
  memory_.peak_live_bytes = plan.peak_live_bytes;
  memory_.unplanned_bytes += plan.total_bytes;
  memory_.planned_values = requests.size() + memory_.in_place_values;
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
