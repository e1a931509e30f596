#include <gtest/gtest.h>

#include <random>

#include "runtime/memory_plan.h"

namespace kiln {
namespace {

// No two buffers alive at the same step may share a byte.
void expect_no_overlap(const std::vector<BufferRequest>& requests, const ArenaLayout& plan) {
  ASSERT_EQ(plan.offsets.size(), requests.size());
  for (size_t a = 0; a < requests.size(); ++a) {
    EXPECT_EQ(plan.offsets[a] % ArenaLayout::kAlignment, 0u);
    EXPECT_LE(plan.offsets[a] + requests[a].bytes, plan.arena_bytes);
    for (size_t b = a + 1; b < requests.size(); ++b) {
      bool same_time = requests[a].first_step <= requests[b].last_step && requests[b].first_step <= requests[a].last_step;
      bool same_bytes = plan.offsets[a] < plan.offsets[b] + requests[b].bytes &&
                        plan.offsets[b] < plan.offsets[a] + requests[a].bytes;
      EXPECT_FALSE(same_time && same_bytes && requests[a].bytes && requests[b].bytes)
          << "buffers " << a << " and " << b << " overlap";
    }
  }
}

TEST(MemoryPlan, ChainReusesTwoBuffers) {
  // A chain: each buffer is read only by the next step.
  std::vector<BufferRequest> chain;
  for (int i = 0; i < 10; ++i) chain.push_back({1024, i, i + 1});
  ArenaLayout plan = place_buffers(chain);
  expect_no_overlap(chain, plan);
  EXPECT_EQ(plan.arena_bytes, 2048u);
  EXPECT_EQ(plan.peak_live_bytes, 2048u);
  EXPECT_EQ(plan.total_bytes, 10240u);
}

TEST(MemoryPlan, LongLivedBufferKeepsItsPlace) {
  std::vector<BufferRequest> r = {{4096, 0, 9}, {1000, 1, 2}, {1000, 3, 4}, {5000, 5, 6}};
  ArenaLayout plan = place_buffers(r);
  expect_no_overlap(r, plan);
  EXPECT_EQ(plan.peak_live_bytes, 9096u);
  EXPECT_LE(plan.arena_bytes, 4096u + 5056u);
}

TEST(MemoryPlan, RandomLifetimesNeverOverlapAndStayNearTheBound) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferRequest> r;
    int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      int first = static_cast<int>(rng() % 40);
      r.push_back({static_cast<size_t>(rng() % 100000), first, first + static_cast<int>(rng() % 8)});
    }
    ArenaLayout plan = place_buffers(r);
    expect_no_overlap(r, plan);
    EXPECT_GE(plan.arena_bytes, plan.peak_live_bytes);
    EXPECT_LE(plan.arena_bytes, 2 * plan.peak_live_bytes + n * ArenaLayout::kAlignment) << "trial " << trial;
  }
}

}  // namespace
}  // namespace kiln
