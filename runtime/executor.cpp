#include "runtime/executor.h"

#include <chrono>
#include <map>
#include <set>
#include <sstream>

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
    if (registry.find(node.domain, node.op_type, node.opset)) continue;
    std::ostringstream key;
    key << (node.domain.empty() ? "" : node.domain + ".") << node.op_type;
    if (registry.knows(node.domain, node.op_type)) key << " (opset " << node.opset << ")";
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

int Executor::slot_of(const std::string& name) {
  auto [it, inserted] = slots_.emplace(name, static_cast<int>(slots_.size()));
  if (inserted) constants_.emplace_back();
  return it->second;
}

void Executor::prepare(const graph::Graph& g, int threads, std::function<void(const NodeRunInfo&)> observer) {
  threads_ = threads;
  observer_ = std::move(observer);
  check_op_support(g);
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
      step.kernel = factory(KernelInit(node, constant_inputs, threads_));
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
      step.kernel->run(ctx);
    } catch (const UnsupportedError& e) {
      rethrow_for_node(node, e, true);
    } catch (const std::exception& e) {
      rethrow_for_node(node, e, false);
    }
    if (observer_) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      observer_(NodeRunInfo{node.name, node.op_type, in_ptrs, outputs, seconds});
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (step.outputs[i] < 0) continue;
      if (!outputs[i].defined()) fail(node.describe(), ": output ", i, " ('", node.outputs[i], "') was not produced");
      values[static_cast<size_t>(step.outputs[i])] = std::move(outputs[i]);
    }
    for (int slot : step.release) values[static_cast<size_t>(slot)] = Tensor();
  }

  NamedTensors result;
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const Tensor& t = values[static_cast<size_t>(output_slots_[i])];
    if (!t.defined()) fail("graph output '", g.outputs[i].name, "' was not produced by any node");
    result[g.outputs[i].name] = t;
  }
  return result;
}

}  // namespace kiln
