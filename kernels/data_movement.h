// Byte-moving kernels shared by the shape and layout operators (Transpose,
// Slice, Expand, Tile, DepthToSpace, Concat, Split, Gather, ...).
//
// Everything here works on raw bytes and an element size (1, 2, 4 or 8), so
// one kernel serves every data type a Tensor holds. Strides are counted in
// elements, not bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "platform/thread_pool.h"

namespace kiln::kernels {

// Copies the N-d view of `src` described by `shape` and `src_strides` into the
// contiguous row-major `dst`:
//   dst[i0, i1, ...] = src[i0 * src_strides[0] + i1 * src_strides[1] + ...]
// Strides may be 0 (broadcast) or negative (reversed slices); `src` points at
// the view's first element. Adjacent dims that are contiguous in `src` are
// merged first, and runs with source stride 1 are copied with memcpy.
// Threaded over rows when the copy is large.
void copy_view_to_contiguous(void* dst, const void* src, size_t element_bytes, std::vector<int64_t> shape,
                             std::vector<int64_t> src_strides, int threads);

// Builds the output from one index table per axis:
//   dst[o0, o1, ...] = src[tables[0][o0], tables[1][o1], ...]
// The output shape is the table sizes; src is contiguous with `src_shape`.
// A table entry of -1 means "outside the input": that output element is a
// copy of `fill` (which must then be non-null). Serves Pad (every mode),
// Tile, and nearest-neighbour Resize. Consecutive output rows that read the
// same input row are copied from the row just written.
void gather_by_axis_tables(void* dst, const void* src, size_t element_bytes, const std::vector<int64_t>& src_shape,
                           const std::vector<std::vector<int64_t>>& tables, const void* fill, int threads);

// Fills `count` elements with copies of the `element_bytes` bytes at `element`.
void fill_elements(void* dst, const void* element, size_t element_bytes, int64_t count);

// Row-major element strides of a contiguous tensor of this shape. A shape
// with a 0 dim holds no element to address: its strides are all 1 (the
// products of its other dims may not fit in int64).
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape);

// Runs body(begin, end) over [0, total) cut into contiguous ranges on the
// intra-op thread pool (platform/thread_pool.h); runs on the calling thread
// when threads <= 1 or the work (total * bytes_per_item) is too small to be
// worth waking threads (under 64 KiB per thread).
template <class Body>
void parallel_byte_ranges(int64_t total, int threads, int64_t bytes_per_item, Body&& body) {
  constexpr int64_t kMinBytesPerThread = 64 * 1024;
  const int64_t useful = bytes_per_item > 0 ? total * bytes_per_item / kMinBytesPerThread : total;
  const int workers = static_cast<int>(std::min<int64_t>({static_cast<int64_t>(threads), total, useful}));
  if (workers <= 1) {
    if (total > 0) body(int64_t{0}, total);
    return;
  }
  const int64_t min_range = bytes_per_item > 0 ? std::max<int64_t>(1, kMinBytesPerThread / bytes_per_item) : 1;
  parallel_ranges(total, workers, min_range, body);
}

}  // namespace kiln::kernels
