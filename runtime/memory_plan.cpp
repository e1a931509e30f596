#include "runtime/memory_plan.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "kiln/error.h"

namespace kiln {

namespace {

// No single planned value may exceed this (1 TiB); larger ones are not planned.
constexpr uint64_t kMaxPlannedBytes = uint64_t{1} << 40;

size_t align_up(size_t n) {
  return (n + ArenaLayout::kAlignment - 1) / ArenaLayout::kAlignment * ArenaLayout::kAlignment;
}
bool lifetimes_overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

// The planned size of a value: nullopt when its shape or type is not known
// statically, or its inferred size is absurd (left to its kernel, whose
// allocation then fails against the memory budget naming the node).
std::optional<size_t> planned_bytes(const graph::ValueInfoMap& infos, const std::string& name) {
  auto it = infos.find(name);
  std::optional<Shape> shape = it == infos.end() ? std::nullopt : it->second.static_shape();
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
}

}  // namespace

ArenaLayout place_buffers(const std::vector<BufferRequest>& requests) {
  ArenaLayout plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });

  std::vector<size_t> placed;  // request indices already given an offset
  for (size_t r : order) {
    const size_t bytes = align_up(requests[r].bytes);
    // Busy ranges of placed buffers alive at the same time, by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t p : placed)
      if (lifetimes_overlap(requests[p], requests[r])) busy.emplace_back(plan.offsets[p], plan.offsets[p] + align_up(requests[p].bytes));
    std::sort(busy.begin(), busy.end());
    // Best fit: the smallest gap that holds it; else the end.
    size_t best = SIZE_MAX, best_gap = SIZE_MAX, cursor = 0;
    for (const auto& [begin, end] : busy) {
      if (begin > cursor && begin - cursor >= bytes && begin - cursor < best_gap) {
        best = cursor;
        best_gap = begin - cursor;
      }
      cursor = std::max(cursor, end);
    }
    if (best == SIZE_MAX) best = cursor;
    plan.offsets[r] = best;
    plan.arena_bytes = std::max(plan.arena_bytes, best + bytes);
    placed.push_back(r);
  }

  std::map<int, long long> delta;  // step -> change in live bytes
  for (const BufferRequest& r : requests) {
    plan.total_bytes += r.bytes;
    delta[r.first_step] += static_cast<long long>(r.bytes);
    delta[r.last_step + 1] -= static_cast<long long>(r.bytes);
  }
  long long live = 0;
  for (const auto& [step, change] : delta) {
    live += change;
    plan.peak_live_bytes = std::max(plan.peak_live_bytes, static_cast<size_t>(std::max(0LL, live)));
  }
  return plan;
}

MemoryPlan plan_memory(const graph::Graph& g, const graph::ValueInfoMap* infos,
                       const std::vector<NodeMemoryFacts>& facts) {
  if (facts.size() != g.nodes.size())
    fail("internal error: the memory planner got facts for ", facts.size(), " nodes, the graph has ", g.nodes.size());
  MemoryPlan plan;
  plan.nodes.resize(g.nodes.size());

  // Values are numbered by first appearance (each node's inputs, then its
  // outputs): group roots and the order of equal-sized requests follow it.
  std::unordered_map<std::string, int> ids;
  std::vector<std::string> names;
  auto id_of = [&](const std::string& name) {
    auto [it, inserted] = ids.emplace(name, static_cast<int>(names.size()));
    if (inserted) names.push_back(name);
    return it->second;
  };
  struct Step {
    size_t node;              // index in g.nodes
    std::vector<int> inputs;  // value id per input, -1 for omitted
    std::vector<int> outputs;
    bool may_alias_inputs;
  };
  std::vector<Step> steps;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const graph::Node& node = g.nodes[n];
    Step step{n, {}, {}, facts[n].may_alias_inputs};
    for (const std::string& name : node.inputs) step.inputs.push_back(name.empty() ? -1 : id_of(name));
    for (const std::string& name : node.outputs) step.outputs.push_back(name.empty() ? -1 : id_of(name));
    if (!facts[n].folded) steps.push_back(std::move(step));
  }
  std::vector<int> output_ids;
  for (const auto& out : g.outputs) output_ids.push_back(id_of(out.name));
  std::vector<int> constant_ids, input_ids;
  for (const auto& [name, tensor] : g.initializers) constant_ids.push_back(id_of(name));
  for (size_t n = 0; n < g.nodes.size(); ++n)
    if (facts[n].folded)
      for (const std::string& name : g.nodes[n].outputs)
        if (!name.empty()) constant_ids.push_back(id_of(name));
  for (const auto& in : g.inputs) input_ids.push_back(id_of(in.name));
  const size_t count = names.size();
  std::vector<bool> is_constant(count, false), is_graph_input(count, false), is_graph_output(count, false);
  for (int id : constant_ids) is_constant[static_cast<size_t>(id)] = true;
  for (int id : input_ids) is_graph_input[static_cast<size_t>(id)] = true;
  for (int id : output_ids) is_graph_output[static_cast<size_t>(id)] = true;

  for (const Step& step : steps) {
    plan.nodes[step.node].arena_offset.assign(step.outputs.size(), -1);
    plan.nodes[step.node].arena_bytes.assign(step.outputs.size(), 0);
  }
  // Free each value after its last reader, unless it is a graph output or a constant.
  std::vector<int> last_reader(count, -1);  // step index
  for (size_t s = 0; s < steps.size(); ++s)
    for (int in : steps[s].inputs)
      if (in >= 0) last_reader[static_cast<size_t>(in)] = static_cast<int>(s);
  for (size_t v = 0; v < count; ++v)
    if (last_reader[v] >= 0 && !is_graph_output[v] && !is_constant[v])
      plan.nodes[steps[static_cast<size_t>(last_reader[v])].node].release.push_back(names[v]);
  if (!infos) return plan;

  // Buffers shared through aliasing kernels: one union-find group per buffer.
  std::vector<int> parent(count);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[static_cast<size_t>(x)] != x)
      x = parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    return x;
  };
  std::vector<int> producer(count, -1);  // step index
  for (size_t s = 0; s < steps.size(); ++s) {
    for (int out : steps[s].outputs)
      if (out >= 0) producer[static_cast<size_t>(out)] = static_cast<int>(s);
    if (!steps[s].may_alias_inputs) continue;
    // Views of constants and graph inputs never touch the arena: only join
    // outputs to inputs that steps produce.
    for (int out : steps[s].outputs)
      for (int in : steps[s].inputs)
        if (out >= 0 && in >= 0 && !is_constant[static_cast<size_t>(in)] && !is_graph_input[static_cast<size_t>(in)])
          parent[static_cast<size_t>(find(out))] = find(in);
  }
  // A group that holds a graph output is not planned: the caller keeps it.
  std::vector<bool> excluded(count, false);
  for (int id : output_ids) excluded[static_cast<size_t>(find(id))] = true;
  // The last step that reads or writes any value of a group.
  std::vector<int> group_last(count, -1);
  auto touch = [&](int v, size_t s) {
    int& last = group_last[static_cast<size_t>(find(v))];
    last = std::max(last, static_cast<int>(s));
  };
  for (size_t s = 0; s < steps.size(); ++s) {
    for (int in : steps[s].inputs)
      if (in >= 0) touch(in, s);
    for (int out : steps[s].outputs)
      if (out >= 0) touch(out, s);
  }
  auto bytes_of = [&](int v) { return planned_bytes(*infos, names[static_cast<size_t>(v)]); };

  // In place: output 0 joins the group of an input it may be written over
  // and takes its root's place. The input must be read by no later step, start
  // where the root does (the root itself, or an earlier in-place output), and
  // have the output's static shape and type.
  std::vector<int> written_over(count, -1);        // output id -> root id whose place it takes
  std::vector<int> written_over_input(count, -1);  // output id -> index of that input on its node
  for (size_t s = 0; s < steps.size(); ++s) {
    const Step& step = steps[s];
    if (step.outputs.empty() || step.outputs[0] < 0 || step.may_alias_inputs) continue;
    const int out = step.outputs[0];
    if (find(out) != out || excluded[static_cast<size_t>(out)]) continue;
    const std::vector<bool>& over = facts[step.node].may_write_over_input;
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int in = step.inputs[i];
      if (in < 0 || i >= over.size() || !over[i]) continue;
      const int root = find(in);
      const int root_producer = producer[static_cast<size_t>(root)];
      if (excluded[static_cast<size_t>(root)] || group_last[static_cast<size_t>(root)] != static_cast<int>(s) ||
          root_producer < 0 || steps[static_cast<size_t>(root_producer)].may_alias_inputs)
        continue;
      if (in != root && written_over[static_cast<size_t>(in)] != root) continue;
      auto in_info = infos->find(names[static_cast<size_t>(in)]);
      auto out_info = infos->find(names[static_cast<size_t>(out)]);
      if (in_info == infos->end() || out_info == infos->end() || in_info->second.dtype != out_info->second.dtype ||
          !in_info->second.static_shape() || in_info->second.static_shape() != out_info->second.static_shape())
        continue;
      const std::optional<size_t> bytes = bytes_of(out);
      if (!bytes || *bytes == 0 || bytes != bytes_of(root)) continue;
      parent[static_cast<size_t>(out)] = root;
      int& root_last = group_last[static_cast<size_t>(root)];
      root_last = std::max(root_last, group_last[static_cast<size_t>(out)]);
      written_over[static_cast<size_t>(out)] = root;
      written_over_input[static_cast<size_t>(out)] = static_cast<int>(i);
      break;
    }
  }

  // Concatenations written in place: slice_of[v] = (the output, byte offset)
  // for an input v whose producer writes straight into the output.
  std::vector<int> uses(count, 0);
  for (const Step& step : steps)
    for (int in : step.inputs)
      if (in >= 0) ++uses[static_cast<size_t>(in)];
  std::vector<bool> written_over_root(count, false);  // some in-place output takes this value's place
  for (size_t v = 0; v < count; ++v)
    if (written_over[v] >= 0) written_over_root[static_cast<size_t>(written_over[v])] = true;
  std::vector<std::pair<int, size_t>> slice_of(count, {-1, 0});
  std::vector<int> holder_first(count, -1);  // the first step writing into a holder; -1: holds no slice
  for (size_t s = 0; s < steps.size(); ++s) {
    const Step& step = steps[s];
    const std::optional<int64_t>& axis = facts[step.node].concatenation_axis;
    if (!axis || step.outputs.empty() || step.outputs[0] < 0) continue;
    const int out = step.outputs[0];
    if (find(out) != out || excluded[static_cast<size_t>(out)] || written_over[static_cast<size_t>(out)] >= 0 ||
        written_over_root[static_cast<size_t>(out)] || slice_of[static_cast<size_t>(out)].first >= 0 ||
        step.may_alias_inputs || !bytes_of(out))
      continue;
    auto out_info = infos->find(names[static_cast<size_t>(out)]);
    const std::optional<Shape> out_shape =
        out_info == infos->end() ? std::nullopt : out_info->second.static_shape();
    if (!out_shape) continue;
    const int64_t rank = static_cast<int64_t>(out_shape->size());
    const int64_t a = *axis < 0 ? *axis + rank : *axis;
    if (a < 0 || a >= rank) continue;
    bool contiguous = true;  // each input one block: every dim before the axis is 1
    for (int64_t d = 0; d < a; ++d) contiguous = contiguous && (*out_shape)[static_cast<size_t>(d)] == 1;
    if (!contiguous) continue;
    // The inputs' byte offsets in the output, in order; all sizes must be known.
    std::vector<size_t> offsets;
    size_t offset = 0;
    bool sized = true;
    for (int in : step.inputs) {
      const std::optional<size_t> b = in >= 0 ? bytes_of(in) : std::nullopt;
      if (!b) {
        sized = false;
        break;
      }
      offsets.push_back(offset);
      offset += *b;
    }
    if (!sized || offset != *bytes_of(out)) continue;
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int in = step.inputs[i];
      const size_t vi = static_cast<size_t>(in);
      const int p = producer[vi];
      if (p < 0 || p >= static_cast<int>(s) || steps[static_cast<size_t>(p)].may_alias_inputs || uses[vi] != 1 ||
          find(in) != in || excluded[vi] || written_over[vi] >= 0 || written_over_root[vi] || holder_first[vi] >= 0 ||
          slice_of[vi].first >= 0 || offsets[i] % ArenaLayout::kAlignment != 0 || *bytes_of(in) == 0)
        continue;
      slice_of[vi] = {out, offsets[i]};
      int& first = holder_first[static_cast<size_t>(out)];
      first = first < 0 ? p : std::min(first, p);
    }
  }

  // One request per buffer that a step really allocates: the group's values
  // that are neither views nor written over an input.
  std::vector<BufferRequest> requests;
  std::vector<std::pair<size_t, size_t>> owners;  // (node, output index) per request
  std::vector<int> request_of(count, -1);         // root id -> its request
  for (size_t v = 0; v < count; ++v) {
    const int s = producer[v];
    if (s < 0 || written_over[v] >= 0 || slice_of[v].first >= 0) continue;
    const Step& step = steps[static_cast<size_t>(s)];
    const int root = find(static_cast<int>(v));
    if (excluded[static_cast<size_t>(root)] || step.may_alias_inputs) continue;
    const std::optional<size_t> bytes = bytes_of(static_cast<int>(v));
    if (!bytes) {
      ++plan.dynamic_values;
      continue;
    }
    if (*bytes == 0) continue;
    size_t output_index = 0;
    while (step.outputs[output_index] != static_cast<int>(v)) ++output_index;
    request_of[v] = static_cast<int>(requests.size());
    const int first = holder_first[v] >= 0 ? std::min(s, holder_first[v]) : s;
    requests.push_back({*bytes, first, std::max(s, group_last[static_cast<size_t>(root)])});
    owners.emplace_back(step.node, output_index);
  }
  const ArenaLayout layout = place_buffers(requests);
  for (size_t r = 0; r < requests.size(); ++r) {
    NodeMemory& node = plan.nodes[owners[r].first];
    node.arena_offset[owners[r].second] = static_cast<int64_t>(layout.offsets[r]);
    node.arena_bytes[owners[r].second] = requests[r].bytes;
  }
  for (size_t v = 0; v < count; ++v) {
    const int root = written_over[v];
    if (root < 0 || request_of[static_cast<size_t>(root)] < 0) continue;
    const size_t r = static_cast<size_t>(request_of[static_cast<size_t>(root)]);
    NodeMemory& node = plan.nodes[steps[static_cast<size_t>(producer[v])].node];
    node.arena_offset[0] = static_cast<int64_t>(layout.offsets[r]);
    node.arena_bytes[0] = requests[r].bytes;
    node.in_place_input = written_over_input[v];
    ++plan.in_place_values;
    plan.unplanned_bytes += requests[r].bytes;
  }
  for (size_t v = 0; v < count; ++v) {
    const auto [holder, offset] = slice_of[v];
    if (holder < 0) continue;
    const int r = request_of[static_cast<size_t>(holder)];
    if (r < 0) fail("internal error: the memory planner put '", names[v], "' inside '", names[static_cast<size_t>(holder)],
                    "', which has no place in the arena");
    const Step& step = steps[static_cast<size_t>(producer[v])];
    size_t output_index = 0;
    while (step.outputs[output_index] != static_cast<int>(v)) ++output_index;
    NodeMemory& node = plan.nodes[step.node];
    node.arena_offset[output_index] = static_cast<int64_t>(layout.offsets[static_cast<size_t>(r)] + offset);
    node.arena_bytes[output_index] = *bytes_of(static_cast<int>(v));
    ++plan.concat_slice_values;
    plan.unplanned_bytes += node.arena_bytes[output_index];
  }
  std::vector<size_t> by_size(requests.size());
  std::iota(by_size.begin(), by_size.end(), size_t{0});
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });
  for (size_t k = 0; k < by_size.size() && k < MemoryPlan::kLargestKept; ++k) {
    const auto& [node, output] = owners[by_size[k]];
    plan.largest.emplace_back(g.nodes[node].outputs[output], requests[by_size[k]].bytes);
  }
  plan.arena_bytes = layout.arena_bytes;
  plan.peak_live_bytes = layout.peak_live_bytes;
  plan.unplanned_bytes += layout.total_bytes;
  plan.planned_values = requests.size() + plan.in_place_values + plan.concat_slice_values;
  return plan;
}

}  // namespace kiln
