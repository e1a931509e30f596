#include "platform/thread_pool.h"

#include "platform/memory_budget.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kiln {
namespace {

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// How long an idle worker keeps polling for the next loop before it sleeps:
// long enough to bridge the gap between two nodes of a network, short enough
// not to steal a busy machine's cores.
constexpr auto kWorkerSpin = std::chrono::microseconds(50);

// One parallel loop.
struct Job {
  const std::function<void(int64_t)>* body = nullptr;
  int64_t items = 0;
  int helpers = 0;                       // pool workers allowed to join
  std::atomic<int> joined{0};            // workers that asked to join
  std::atomic<int64_t> next{0};          // the next item to hand out
  std::atomic<int64_t> finished{0};      // items done (run or skipped)
  std::atomic<bool> failed{false};
  std::shared_ptr<MemoryBudget> budget;  // the caller's: workers count their allocations against it
  std::mutex error_mutex;
  std::exception_ptr error;
};

// Set while a thread runs items, so loops nested inside run serially.
thread_local bool t_inside_loop = false;

void run_items(Job& job) {
  t_inside_loop = true;
  for (int64_t item = job.next.fetch_add(1, std::memory_order_relaxed); item < job.items;
       item = job.next.fetch_add(1, std::memory_order_relaxed)) {
    if (!job.failed.load(std::memory_order_relaxed)) {
      try {
        (*job.body)(item);
      } catch (...) {
        std::lock_guard<std::mutex> lock(job.error_mutex);
        if (!job.error) job.error = std::current_exception();
        job.failed.store(true, std::memory_order_relaxed);
      }
    }
    job.finished.fetch_add(1, std::memory_order_acq_rel);
  }
  t_inside_loop = false;
}

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }

  int worker_count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(threads_.size());
  }

  // Publishes `job` unless another loop holds the pool; false if it does.
  bool start(const std::shared_ptr<Job>& job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (job_ || stopping_) return false;
      while (static_cast<int>(threads_.size()) < job->helpers)
        threads_.emplace_back([this, index = threads_.size()] { work(index); });
      job_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) wake_.notify_all();
    return true;
  }

  void finish(const std::shared_ptr<Job>& job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (job_ == job) job_.reset();
  }

 private:
  void work(size_t index) {
    uint64_t seen = 0;
    while (true) {
      const auto spin_until = std::chrono::steady_clock::now() + kWorkerSpin;
      for (int polls = 0; generation_.load(std::memory_order_acquire) == seen; ++polls) {
        cpu_relax();
        if (polls % 64 == 63 && std::chrono::steady_clock::now() > spin_until) break;
      }
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (generation_.load(std::memory_order_acquire) == seen) {
          sleeping_.fetch_add(1, std::memory_order_acq_rel);
          wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
          sleeping_.fetch_sub(1, std::memory_order_acq_rel);
        }
        if (stopping_) return;
        seen = generation_.load(std::memory_order_acquire);
        job = job_;
      }
      if (!job || static_cast<size_t>(job->helpers) <= index) continue;
      if (job->joined.fetch_add(1, std::memory_order_acq_rel) >= job->helpers) continue;
      MemoryBudgetScope budget_scope(job->budget);
      run_items(*job);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<Job> job_;  // the loop being run, guarded by mutex_
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleeping_{0};
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void parallel_for(int64_t items, int threads, const std::function<void(int64_t)>& body) {
  if (items <= 0) return;
  if (threads <= 1 || items == 1 || t_inside_loop) {
    for (int64_t item = 0; item < items; ++item) body(item);
    return;
  }
  auto job = std::make_shared<Job>();
  job->body = &body;
  job->items = items;
  job->helpers = static_cast<int>(std::min<int64_t>(threads - 1, items - 1));
  job->budget = current_memory_budget();
  if (!pool().start(job)) {  // another thread's loop holds the pool
    for (int64_t item = 0; item < items; ++item) body(item);
    return;
  }
  run_items(*job);
  // Every item is handed out; wait for the ones still running elsewhere.
  for (int polls = 0; job->finished.load(std::memory_order_acquire) < items; ++polls) {
    if (polls < 4096)
      cpu_relax();
    else
      std::this_thread::yield();
  }
  pool().finish(job);
  if (job->error) std::rethrow_exception(job->error);
}

void parallel_ranges(int64_t total, int threads, int64_t min_range,
                     const std::function<void(int64_t begin, int64_t end)>& body) {
  if (total <= 0) return;
  min_range = std::max<int64_t>(min_range, 1);
  const int64_t ranges = std::clamp<int64_t>(total / min_range, 1, 4 * static_cast<int64_t>(std::max(threads, 1)));
  if (ranges == 1 || threads <= 1) {
    body(0, total);
    return;
  }
  parallel_for(ranges, threads, [&](int64_t range) { body(total * range / ranges, total * (range + 1) / ranges); });
}

int thread_pool_worker_count() { return pool().worker_count(); }

}  // namespace kiln
