// Static memory planning: place buffers with known sizes and lifetimes in one
// arena so that buffers alive at the same time never overlap.
#pragma once

#include <cstddef>
#include <vector>

namespace kiln {

struct BufferRequest {
  size_t bytes = 0;
  int first_step = 0;  // the step that writes it
  int last_step = 0;   // the last step that reads it (>= first_step)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request, multiples of kAlignment
  size_t arena_bytes = 0;       // size of the arena the offsets fit in
  size_t peak_live_bytes = 0;   // max over steps of the bytes alive at once (the lower bound)
  size_t total_bytes = 0;       // sum of all requests (what no reuse would need)

  static constexpr size_t kAlignment = 64;
};

// Greedy best-fit by decreasing size: each buffer goes at the lowest offset
// where it overlaps no already placed buffer whose lifetime intersects its own.
MemoryPlan plan_memory(const std::vector<BufferRequest>& requests);

}  // namespace kiln
