#include "runtime/memory_plan.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>

namespace kiln {

namespace {
size_t align_up(size_t n) { return (n + MemoryPlan::kAlignment - 1) / MemoryPlan::kAlignment * MemoryPlan::kAlignment; }
bool lifetimes_overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}
}  // namespace

MemoryPlan plan_memory(const std::vector<BufferRequest>& requests) {
  MemoryPlan plan;
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

}  // namespace kiln
