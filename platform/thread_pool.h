// kiln's intra-op threads: one process-wide pool of worker threads that
// parallel loops borrow.
//
// Why not an OpenMP team: an OpenMP parallel region ends in a barrier that
// waits for every thread of the team, including one the OS has not scheduled
// yet. On a busy two-core machine (a browser, a compiler, another model) that
// happens at nearly every region, and a network of a hundred small nodes
// then took 30 to 150 times longer with two threads than with one. Here the
// calling thread takes items as well, items are handed out one at a time,
// and the call returns as soon as every item is done: a worker that wakes up
// late finds nothing left and goes back to sleep, so it can delay the call
// by at most the one item it is running.
//
// Items run on pool workers count their allocations against the caller's
// memory budget (platform/memory_budget.h), as if the caller had made them.
//
// Workers spin briefly (tens of microseconds) after their last item, then
// sleep on a condition variable. A loop started from inside another parallel
// loop, or while another thread's loop holds the pool, runs on the calling
// thread alone.
#pragma once

#include <cstdint>
#include <functional>

namespace kiln {

// Runs body(i) for every i in [0, items) on up to `threads` threads (the
// caller and threads - 1 pool workers), in no particular order. If bodies
// throw, the first exception is rethrown here after every started item has
// finished (items not yet started are skipped).
void parallel_for(int64_t items, int threads, const std::function<void(int64_t)>& body);

// Cuts [0, total) into contiguous ranges of at least min_range elements
// (about four per thread, so a late thread's share is picked up by the
// others) and runs body(begin, end) for each with parallel_for.
void parallel_ranges(int64_t total, int threads, int64_t min_range,
                     const std::function<void(int64_t begin, int64_t end)>& body);

// How many pool workers exist now (for tests and `kiln info`).
int thread_pool_worker_count();

}  // namespace kiln
