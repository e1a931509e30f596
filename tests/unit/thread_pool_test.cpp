// kiln's intra-op thread pool: every item runs exactly once, errors come
// back to the caller, nested and concurrent loops stay correct.
#include "platform/thread_pool.h"

#include "kiln/error.h"
#include "kiln/tensor.h"
#include "platform/memory_budget.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace kiln {
namespace {

TEST(ThreadPool, EveryItemRunsExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    for (int64_t items : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> runs(static_cast<size_t>(items));
      parallel_for(items, threads, [&](int64_t i) { runs[static_cast<size_t>(i)].fetch_add(1); });
      for (int64_t i = 0; i < items; ++i)
        ASSERT_EQ(runs[static_cast<size_t>(i)].load(), 1) << "item " << i << " of " << items << ", threads " << threads;
    }
  }
}

TEST(ThreadPool, UsesASecondThread) {
  // Whichever thread takes item 0 waits until item 1 has run elsewhere: with
  // one thread this would never end, so it gives up after 20 s and fails.
  std::atomic<bool> item1_done{false};
  std::atomic<bool> gave_up{false};
  std::thread::id item0_thread, item1_thread;
  parallel_for(2, 2, [&](int64_t i) {
    if (i == 1) {
      item1_thread = std::this_thread::get_id();
      item1_done.store(true);
      return;
    }
    item0_thread = std::this_thread::get_id();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!item1_done.load())
      if (std::chrono::steady_clock::now() > deadline) {
        gave_up.store(true);
        return;
      }
  });
  EXPECT_FALSE(gave_up.load()) << "item 1 never ran while item 0 waited";
  EXPECT_NE(item0_thread, item1_thread);
  EXPECT_GE(thread_pool_worker_count(), 1);
}

TEST(ThreadPool, FirstExceptionReachesTheCallerAndThePoolStaysUsable) {
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(100, 2,
                            [&](int64_t i) {
                              ran.fetch_add(1);
                              if (i == 3) throw std::runtime_error("item 3 failed");
                            }),
               std::runtime_error);
  EXPECT_GE(ran.load(), 4);
  std::atomic<int64_t> sum{0};
  parallel_for(100, 2, [&](int64_t i) { sum.fetch_add(i); });
  EXPECT_EQ(sum.load(), 4950);
}

TEST(ThreadPool, NestedLoopsRunInline) {
  std::vector<std::atomic<int>> runs(40);
  parallel_for(8, 2, [&](int64_t outer) {
    parallel_for(5, 2, [&](int64_t inner) { runs[static_cast<size_t>(outer * 5 + inner)].fetch_add(1); });
  });
  for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << i;
}

TEST(ThreadPool, ConcurrentCallersBothFinish) {
  std::vector<std::atomic<int>> a(5000), b(5000);
  std::thread other([&] {
    for (int round = 0; round < 20; ++round) parallel_for(250, 2, [&](int64_t i) { b[static_cast<size_t>(round * 250 + i)]++; });
  });
  for (int round = 0; round < 20; ++round) parallel_for(250, 2, [&](int64_t i) { a[static_cast<size_t>(round * 250 + i)]++; });
  other.join();
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].load(), 1) << i;
    ASSERT_EQ(b[i].load(), 1) << i;
  }
}

TEST(ThreadPool, RangesCoverTheIntervalOnceWithTheMinimumSize) {
  for (int threads : {1, 2, 4}) {
    for (int64_t total : {1, 5, 100, 12345}) {
      for (int64_t min_range : {1, 7, 1000}) {
        std::mutex mutex;
        std::vector<std::pair<int64_t, int64_t>> ranges;
        parallel_ranges(total, threads, min_range, [&](int64_t begin, int64_t end) {
          std::lock_guard<std::mutex> lock(mutex);
          ranges.emplace_back(begin, end);
        });
        std::sort(ranges.begin(), ranges.end());
        ASSERT_FALSE(ranges.empty());
        EXPECT_EQ(ranges.front().first, 0);
        EXPECT_EQ(ranges.back().second, total);
        for (size_t i = 0; i < ranges.size(); ++i) {
          EXPECT_LT(ranges[i].first, ranges[i].second);
          if (i > 0) {
            EXPECT_EQ(ranges[i].first, ranges[i - 1].second);
          }
          if (ranges.size() > 1) {
            EXPECT_GE(ranges[i].second - ranges[i].first, min_range);
          }
        }
        EXPECT_LE(static_cast<int64_t>(ranges.size()), 4 * threads);
      }
    }
  }
}

// Tensors and workspaces made by items on pool workers count against the
// caller's budget: an item over it fails the loop with the budget's message.
TEST(ThreadPool, WorkersUseTheCallersMemoryBudget) {
  MemoryBudgetScope scope(std::make_shared<MemoryBudget>(uint64_t{1} << 20));
  std::atomic<int> allocated{0};
  parallel_for(8, 2, [&](int64_t) {
    Tensor small(DataType::kFloat32, {1024});
    allocated.fetch_add(1);
  });
  EXPECT_EQ(allocated.load(), 8);
  // Only an item on a pool worker allocates; the caller's item waits (up to
  // 20 s) until the worker's item is done, so the error can only come from
  // the worker.
  const std::thread::id caller = std::this_thread::get_id();
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::atomic<bool> worker_done{false};
    try {
      parallel_for(2, 2, [&](int64_t) {
        if (std::this_thread::get_id() == caller) {
          const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
          while (!worker_done.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
          return;
        }
        struct Done {
          std::atomic<bool>& flag;
          ~Done() { flag.store(true); }
        } done{worker_done};
        if (attempt == 0) Tensor big(DataType::kFloat32, {int64_t{1} << 20});  // 4 MiB
        else check_workspace_bytes(uint64_t{8} << 20, "a worker's scratch");
      });
      ADD_FAILURE() << "no error for attempt " << attempt;
    } catch (const Error& e) {
      EXPECT_TRUE(worker_done.load());
      EXPECT_NE(std::string(e.what()).find("budget"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace kiln
