// How many threads a parallel loop should use for a given amount of work.
//
// OpenMP teams cost microseconds to start and spin while they wait; for small
// operators that is more than the work itself, so they run on one thread.
#pragma once

#include <cstdint>

namespace kiln {

// Roughly the number of multiply-adds (or element visits) below which a
// parallel loop is not worth starting.
constexpr int64_t kMinWorkPerParallelLoop = int64_t{1} << 15;

inline int threads_for_work(int threads, int64_t work) {
  return work < kMinWorkPerParallelLoop ? 1 : threads;
}

}  // namespace kiln
