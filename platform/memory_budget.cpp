#include "platform/memory_budget.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "kiln/error.h"

namespace kiln {

namespace {
thread_local std::shared_ptr<MemoryBudget> current_budget;
}  // namespace

MemoryBudget::MemoryBudget(uint64_t limit_bytes) : limit_(limit_bytes) {
  if (limit_ == 0) limit_ = available_memory_bytes();
  if (limit_ == 0) fail("max_memory_bytes is 0 (the available memory), but /proc/meminfo cannot be read; give a limit");
}

bool MemoryBudget::try_reserve(uint64_t nbytes) {
  uint64_t used = in_use_.load(std::memory_order_relaxed);
  do {
    if (nbytes > limit_ || used > limit_ - nbytes) return false;
  } while (!in_use_.compare_exchange_weak(used, used + nbytes, std::memory_order_relaxed));
  uint64_t now = used + nbytes;
  uint64_t peak = peak_.load(std::memory_order_relaxed);
  while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
  return true;
}

void MemoryBudget::release(uint64_t nbytes) { in_use_.fetch_sub(nbytes, std::memory_order_relaxed); }

void MemoryBudget::fail_over_budget(uint64_t nbytes, const std::string& what) const {
  fail(what, " needs ", bytes_to_string(nbytes), ", over the session's memory budget of ", bytes_to_string(limit_),
       " (", bytes_to_string(in_use()), " already in use; SessionOptions::max_memory_bytes)");
}

MemoryBudgetScope::MemoryBudgetScope(std::shared_ptr<MemoryBudget> budget) : previous_(std::move(current_budget)) {
  current_budget = std::move(budget);
}

MemoryBudgetScope::~MemoryBudgetScope() { current_budget = std::move(previous_); }

const std::shared_ptr<MemoryBudget>& current_memory_budget() { return current_budget; }

uint64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t value = 0;
  std::string unit;
  while (meminfo >> key >> value) {
    std::getline(meminfo, unit);
    if (key == "MemAvailable:") return value * 1024;  // reported in kB
  }
  return 0;
}

void check_workspace_bytes(uint64_t nbytes, const std::string& what) {
  const auto& budget = current_memory_budget();
  if (!budget) return;
  uint64_t used = budget->in_use();
  if (nbytes > budget->limit() || used > budget->limit() - nbytes) budget->fail_over_budget(nbytes, what);
}

std::string bytes_to_string(uint64_t nbytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::ostringstream out;
  if (nbytes < 1024) {
    out << nbytes << " bytes";
    return out.str();
  }
  double value = static_cast<double>(nbytes);
  int unit = -1;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  out << text << " (" << nbytes << " bytes)";
  return out.str();
}

}  // namespace kiln
