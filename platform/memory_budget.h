// The memory budget of a session (SessionOptions::max_memory_bytes).
//
// While a MemoryBudgetScope is alive on a thread, every Tensor allocated on
// that thread counts against its budget until the tensor's storage is freed,
// and an allocation that would go over the budget throws kiln::Error saying
// how much was needed and how much the budget allows, before any memory is
// taken. Session installs the scope while it loads, optimizes, builds and
// runs a model, so a hostile model (an absurd ConstantOfShape, Expand, Tile,
// Range, Resize ...) fails cleanly instead of exhausting the machine.
// Kernels' own scratch buffers (std::vector workspaces) go through
// check_workspace_bytes().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace kiln {

class MemoryBudget {
 public:
  // limit_bytes 0 means the machine's available memory (available_memory_bytes()).
  explicit MemoryBudget(uint64_t limit_bytes);

  uint64_t limit() const { return limit_; }
  uint64_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  uint64_t peak() const { return peak_.load(std::memory_order_relaxed); }

  // Counts nbytes as in use, or returns false (counting nothing) when that
  // would exceed the limit.
  bool try_reserve(uint64_t nbytes);
  void release(uint64_t nbytes);
  // Throws kiln::Error: "<what> needs <n>, but the memory budget is <limit>
  // (<in use> already in use)".
  [[noreturn]] void fail_over_budget(uint64_t nbytes, const std::string& what) const;

 private:
  uint64_t limit_;
  std::atomic<uint64_t> in_use_{0};
  std::atomic<uint64_t> peak_{0};
};

// Makes `budget` the current one on this thread; the previous one comes back
// when the scope ends. A null budget means "no limit".
class MemoryBudgetScope {
 public:
  explicit MemoryBudgetScope(std::shared_ptr<MemoryBudget> budget);
  ~MemoryBudgetScope();
  MemoryBudgetScope(const MemoryBudgetScope&) = delete;
  MemoryBudgetScope& operator=(const MemoryBudgetScope&) = delete;

 private:
  std::shared_ptr<MemoryBudget> previous_;
};

// The budget of this thread's innermost scope, or null.
const std::shared_ptr<MemoryBudget>& current_memory_budget();

// MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read.
uint64_t available_memory_bytes();

// For scratch memory a kernel allocates outside tensors: throws like a tensor
// allocation would when nbytes is more than the current budget has left. It
// only checks (scratch buffers are short-lived), it does not count them.
void check_workspace_bytes(uint64_t nbytes, const std::string& what);

// "1.5 GiB (1610612736 bytes)" for messages.
std::string bytes_to_string(uint64_t nbytes);

}  // namespace kiln
