// Static memory planning, a pure function of the graph: from the nodes, the
// statically inferred value infos and a few facts about each node's kernel,
// decide when each value may be freed and where each intermediate lives in one
// arena, so that no buffer is written while a value in it is still to be read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/ir.h"
#include "graph/shape_inference.h"

namespace kiln {

// ---------------------------------------------------- placing in an arena --

struct BufferRequest {
  size_t bytes = 0;
  int first_step = 0;  // the step that writes it
  int last_step = 0;   // the last step that reads it (>= first_step)
};

struct ArenaLayout {
  std::vector<size_t> offsets;  // one per request, multiples of kAlignment
  size_t arena_bytes = 0;       // size of the arena the offsets fit in
  size_t peak_live_bytes = 0;   // max over steps of the bytes alive at once (the lower bound)
  size_t total_bytes = 0;       // sum of all requests (what no reuse would need)

  static constexpr size_t kAlignment = 64;
};

// Greedy best-fit by decreasing size: each buffer goes at the lowest offset
// where it overlaps no already placed buffer whose lifetime intersects its own.
ArenaLayout place_buffers(const std::vector<BufferRequest>& requests);

// ------------------------------------------------------ planning a graph --

// What the planner needs to know about one node's kernel, as plain data.
struct NodeMemoryFacts {
  // Evaluated once at build time: its outputs are constants and it runs no step.
  bool folded = false;
  // The kernel may hand out an input's storage as an output (OpKernel::may_alias_inputs).
  bool may_alias_inputs = false;
  // Per input: the kernel may write output 0 over it (OpKernel::may_write_over_input);
  // missing entries are false.
  std::vector<bool> may_write_over_input;
  // The kernel's OpKernel::concatenation_axis(): output 0 is the inputs laid
  // end to end along it, and inputs already in place are not copied.
  std::optional<int64_t> concatenation_axis;
};

// The plan for one node (parallel to its outputs).
struct NodeMemory {
  std::vector<int64_t> arena_offset;  // per output: its place in the arena, -1 = not in the arena
  std::vector<size_t> arena_bytes;    // per output: its planned size, 0 when not in the arena
  int in_place_input = -1;            // the input whose place output 0 takes (runs in place), -1 = none
  std::vector<std::string> release;   // values whose last reader is this node: free them after it
};

struct MemoryPlan {
  std::vector<NodeMemory> nodes;  // parallel to g.nodes; empty for folded nodes
  size_t arena_bytes = 0;         // see MemorySummary for these
  size_t peak_live_bytes = 0;
  size_t unplanned_bytes = 0;
  size_t planned_values = 0;
  size_t in_place_values = 0;
  size_t concat_slice_values = 0;
  size_t dynamic_values = 0;
  // The largest values placed in the arena (value name, bytes), largest first,
  // at most kLargestKept: what messages about the arena's size name.
  std::vector<std::pair<std::string, size_t>> largest;
  static constexpr size_t kLargestKept = 3;
};

// Plans `g`, whose nodes run in order (folded nodes excluded), given the value
// infos shape inference found (nullptr when it failed: the plan then only
// says when values are freed and places nothing) and one NodeMemoryFacts per
// node. The rules:
// - A value is freed after its last reader unless it is a graph output or a
//   constant (an initializer or a folded node's output).
// - Every intermediate with a static shape and type goes into the arena, kept
//   intact from the step that writes it to the last step that reads it.
// - An aliasing node's outputs share its inputs' buffer (views of constants
//   and graph inputs excepted); the buffer then lives until the last reader of
//   any of them, and only its first value gets a place.
// - A buffer that holds a graph output stays out of the arena: the caller keeps it.
// - An element-wise node writes output 0 over input i (takes its place) when
//   the kernel allows it, no later step reads that input, both have one static
//   shape and type, and that input's buffer is in the arena and not a view.
// - A concatenation whose output is one contiguous block per input (every dim
//   before the axis is 1: a channel concat at batch 1) has each input's
//   producer write straight into the input's slice of the output, so no
//   copy is made, when: the output is in the arena and no view or in-place
//   result; the input is read by this step only, is made by an earlier step
//   that is no view and writes no input over, and its slice starts at a
//   multiple of the arena alignment. The output's buffer then lives from the
//   first such producer on.
MemoryPlan plan_memory(const graph::Graph& g, const graph::ValueInfoMap* infos,
                       const std::vector<NodeMemoryFacts>& facts);

}  // namespace kiln
