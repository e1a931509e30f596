#include "kernels/f32_gemm_packed.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <numeric>
#include <sstream>

#include <xmmintrin.h>

#include "kiln/error.h"
#include "platform/memory_budget.h"
#include "platform/thread_pool.h"

namespace kiln::kernels {
namespace {

size_t round_down(size_t value, size_t multiple) { return value / multiple * multiple; }
size_t round_up(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }
size_t ceil_div(size_t value, size_t divisor) { return (value + divisor - 1) / divisor; }

// A 64-byte-aligned float buffer that only grows: one per thread for packed B,
// so repeated GEMM calls reuse it instead of allocating.
class AlignedFloatBuffer {
 public:
  AlignedFloatBuffer() = default;
  AlignedFloatBuffer(const AlignedFloatBuffer&) = delete;
  AlignedFloatBuffer& operator=(const AlignedFloatBuffer&) = delete;
  ~AlignedFloatBuffer() { std::free(data_); }

  float* reserve(size_t count) {
    if (count > capacity_) {
      check_workspace_bytes(count * sizeof(float), "the f32 GEMM's packed block of B");
      std::free(data_);
      data_ = static_cast<float*>(std::aligned_alloc(64, round_up(count * sizeof(float), 64)));
      capacity_ = data_ != nullptr ? count : 0;
      if (data_ == nullptr) throw std::bad_alloc();
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local AlignedFloatBuffer t_packed_b;

// Copies `rows` rows of one NR-wide column strip of B (columns past
// `columns` are zero) into a packed panel, rows NR floats apart.
template <size_t NR>
void copy_strip(const float* source, size_t ldb, size_t rows, size_t columns, float* destination) {
  for (size_t r = 0; r < rows; ++r) {
    std::memcpy(destination + r * NR, source + r * ldb, sizeof(float) * columns);
    std::fill(destination + r * NR + columns, destination + (r + 1) * NR, 0.0f);
  }
}

// Packs B[0:kc][0:nc] (rows ldb apart) into NR-column panels, k-major, the
// last panel zero-padded: panel q holds columns [q*NR, q*NR + NR). It walks
// eight rows of B side by side: eight streams keep more memory requests in
// flight than one row at a time, which about doubles the read bandwidth when
// B comes from DRAM (a conv's im2col buffer or feature map). While it copies
// a group of eight rows it prefetches the same columns of the next eight:
// each row's segment is only NC floats long, too short for the hardware
// prefetchers to get ahead of (measurements: docs/notes/f32_gemm.md).
template <size_t NR>
void pack_b_rows(const float* b, size_t ldb, size_t kc, size_t nc, float* packed) {
  constexpr size_t kRowsSideBySide = 8;
  constexpr size_t kFloatsPerLine = 16;
  const size_t full_panels = nc / NR, leftover = nc % NR;
  for (size_t p = 0; p < kc; p += kRowsSideBySide) {
    const size_t rows = std::min(kRowsSideBySide, kc - p);
    const bool prefetch_next = p + 2 * kRowsSideBySide <= kc;
    const float* source = b + p * ldb;
    float* destination = packed + p * NR;
    for (size_t q = 0; q < full_panels; ++q) {
      if (rows == kRowsSideBySide) {
        for (size_t r = 0; r < kRowsSideBySide; ++r)
          std::memcpy(destination + q * NR * kc + r * NR, source + r * ldb + q * NR, sizeof(float) * NR);
        if (prefetch_next)
          for (size_t r = kRowsSideBySide; r < 2 * kRowsSideBySide; ++r)
            for (size_t line = 0; line < NR; line += kFloatsPerLine)
              __builtin_prefetch(source + r * ldb + q * NR + line);
      } else {
        copy_strip<NR>(source + q * NR, ldb, rows, NR, destination + q * NR * kc);
      }
    }
    if (leftover != 0)
      copy_strip<NR>(source + full_panels * NR, ldb, rows, leftover, destination + full_panels * NR * kc);
  }
}

// The same panels from B stored transposed: element (p, j) at b[j * ldb + p].
template <size_t NR>
void pack_b_columns(const float* b, size_t ldb, size_t kc, size_t nc, float* packed) {
  for (size_t first = 0; first < nc; first += NR) {
    size_t columns = std::min(NR, nc - first);
    float* panel = packed + first * kc;
    for (size_t j = 0; j < columns; ++j) {
      const float* source = b + (first + j) * ldb;
      for (size_t p = 0; p < kc; ++p) panel[p * NR + j] = source[p];
    }
    for (size_t j = columns; j < NR; ++j)
      for (size_t p = 0; p < kc; ++p) panel[p * NR + j] = 0.0f;
  }
}

// B as a matrix in memory: element (p, j) at b[p * ldb + j], or transposed
// at b[j * ldb + p].
struct MatrixB {
  const float* b;
  size_t ldb;
};

template <size_t NR, bool kTransB>
void pack_matrix_b(const void* context, size_t k0, size_t kc, size_t j0, size_t nc, size_t, float* packed) {
  const MatrixB& m = *static_cast<const MatrixB*>(context);
  if constexpr (kTransB)
    pack_b_columns<NR>(m.b + j0 * m.ldb + k0, m.ldb, kc, nc, packed);
  else
    pack_b_rows<NR>(m.b + k0 * m.ldb + j0, m.ldb, kc, nc, packed);
}

// Row k of a row-major B, columns [j0, j0 + nc), toward L1 and L2 (T0: it
// measured better than T1, docs/notes/f32_gemm.md): one prefetch per 64-byte
// line. A transposed B has no such function: a row of it touches a line per
// column.
void prefetch_matrix_row(const void* context, size_t k, size_t j0, size_t nc) {
  const MatrixB& m = *static_cast<const MatrixB*>(context);
  constexpr uintptr_t kLineBytes = 64;
  const uintptr_t first = reinterpret_cast<uintptr_t>(m.b + k * m.ldb + j0);
  const uintptr_t end = first + nc * sizeof(float);
  for (uintptr_t line = first & ~(kLineBytes - 1); line < end; line += kLineBytes)
    _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
}

F32GemmBSource::PackFn pack_matrix_function(size_t nr, bool trans_b) {
  switch (nr) {
    case 8: return trans_b ? &pack_matrix_b<8, true> : &pack_matrix_b<8, false>;
    case 16: return trans_b ? &pack_matrix_b<16, true> : &pack_matrix_b<16, false>;
    case 32: return trans_b ? &pack_matrix_b<32, true> : &pack_matrix_b<32, false>;
  }
  fail("f32 GEMM: no B packing routine for NR=", nr);
}

// Packs `rows` rows (<= mr) of A, times alpha, into one k-major panel of mr
// rows with kCopies copies of each value; rows past `rows` are zeros.
// `a` points at the panel's first row (or, transposed, its first column).
template <size_t kCopies>
void pack_a_panel(const float* a, size_t lda, bool trans_a, size_t rows, size_t mr, size_t k, float alpha,
                  float* panel) {
  for (size_t p = 0; p < k; ++p)
    for (size_t r = 0; r < mr; ++r) {
      float value = r >= rows ? 0.0f : alpha * (trans_a ? a[p * lda + r] : a[r * lda + p]);
      for (size_t copy = 0; copy < kCopies; ++copy) *panel++ = value;
    }
}

// The common case of pack_a_panel: all MR rows present, A not transposed
// (weights: output channels x K). Each 4x4 block of A goes through one SSE
// transpose (SSE2 is part of x86-64, so this baseline file may use it): four
// k steps of four rows per load, instead of one scalar gather per value.
// Rows past a multiple of 4 (MR = 6) go two at a time; leftover k steps go
// through pack_a_panel.
template <size_t MR, size_t kCopies>
void pack_a_full_panel(const float* a, size_t lda, size_t k, float alpha, float* panel) {
  static_assert(MR % 2 == 0 && (kCopies == 1 || kCopies == 4));
  const __m128 scale = _mm_set1_ps(alpha);
  auto row4 = [&](size_t r, size_t p) { return _mm_mul_ps(_mm_loadu_ps(a + r * lda + p), scale); };
  // Stores the values of rows r..r+3 at k step p (lanes = rows).
  auto store_rows4 = [&](float* out, __m128 v) {
    if constexpr (kCopies == 1) {
      _mm_storeu_ps(out, v);
    } else {
      _mm_storeu_ps(out + 0, _mm_shuffle_ps(v, v, _MM_SHUFFLE(0, 0, 0, 0)));
      _mm_storeu_ps(out + 4, _mm_shuffle_ps(v, v, _MM_SHUFFLE(1, 1, 1, 1)));
      _mm_storeu_ps(out + 8, _mm_shuffle_ps(v, v, _MM_SHUFFLE(2, 2, 2, 2)));
      _mm_storeu_ps(out + 12, _mm_shuffle_ps(v, v, _MM_SHUFFLE(3, 3, 3, 3)));
    }
  };
  constexpr size_t kStep = MR * kCopies;  // floats per k step in the panel
  size_t p = 0;
  for (; p + 4 <= k; p += 4) {
    float* out = panel + p * kStep;
    size_t r = 0;
    for (; r + 4 <= MR; r += 4) {
      __m128 v0 = row4(r, p), v1 = row4(r + 1, p), v2 = row4(r + 2, p), v3 = row4(r + 3, p);
      _MM_TRANSPOSE4_PS(v0, v1, v2, v3);  // v_j: rows r..r+3 at k step p + j
      store_rows4(out + 0 * kStep + r * kCopies, v0);
      store_rows4(out + 1 * kStep + r * kCopies, v1);
      store_rows4(out + 2 * kStep + r * kCopies, v2);
      store_rows4(out + 3 * kStep + r * kCopies, v3);
    }
    if constexpr (MR % 4 != 0) {
      static_assert(kCopies == 1, "two-row tails are written for one copy per value");
      const __m128 x = row4(r, p), y = row4(r + 1, p);
      const __m128 low = _mm_unpacklo_ps(x, y), high = _mm_unpackhi_ps(x, y);  // x0 y0 x1 y1 | x2 y2 x3 y3
      _mm_storel_pi(reinterpret_cast<__m64*>(out + 0 * kStep + r), low);
      _mm_storeh_pi(reinterpret_cast<__m64*>(out + 1 * kStep + r), low);
      _mm_storel_pi(reinterpret_cast<__m64*>(out + 2 * kStep + r), high);
      _mm_storeh_pi(reinterpret_cast<__m64*>(out + 3 * kStep + r), high);
    }
  }
  pack_a_panel<kCopies>(a + p, lda, false, MR, MR, k - p, alpha, panel + p * kStep);
}

using PackAFn = void (*)(const float* a, size_t lda, bool trans_a, size_t rows, size_t mr, size_t k, float alpha,
                         float* panel);
using PackFullAFn = void (*)(const float* a, size_t lda, size_t k, float alpha, float* panel);

// The full-panel packer for a microkernel's tile, or nullptr for a shape
// without one (the general pack_a_panel then does all panels).
PackFullAFn full_panel_packer(size_t mr, size_t copies) {
  if (mr == 4 && copies == 4) return &pack_a_full_panel<4, 4>;
  if (mr == 6 && copies == 1) return &pack_a_full_panel<6, 1>;
  if (mr == 8 && copies == 1) return &pack_a_full_panel<8, 1>;
  return nullptr;
}

// The output affine map of rows row.. for a tile of the last K block (none
// before it: it comes after the activation).
void set_output_affine(F32GemmTileEpilogue& tile, const F32GemmEpilogue& epilogue, bool last_block, size_t row) {
  const bool affine = last_block && epilogue.output_scale != nullptr;
  tile.output_scale = affine ? epilogue.output_scale + row : nullptr;
  tile.output_shift = affine ? epilogue.output_shift + row : nullptr;
}

// Prefetches a block of B (rows [k0, k0 + kc), columns [j0, j0 + nc)) a
// few rows at a time, spread evenly over the `steps` tiles that compute the
// current block: call step() after each tile. Does nothing when `enabled` is
// false, the source cannot prefetch or the block is empty.
class BlockPrefetcher {
 public:
  BlockPrefetcher(bool enabled, const F32GemmBSource& b, size_t k0, size_t kc, size_t j0, size_t nc, size_t steps)
      : b_(b), k0_(k0), kc_(enabled && b.prefetch_row != nullptr && nc != 0 ? kc : 0), j0_(j0), nc_(nc),
        steps_(std::max<size_t>(steps, 1)) {}

  bool active() const { return kc_ != 0; }

  // Row r is due once step (r + 1) * steps / kc has been reached: a running
  // sum instead of a division per tile, which short-K tiles would feel.
  void step() {
    for (due_ += kc_; due_ >= steps_ && rows_done_ < kc_; due_ -= steps_, ++rows_done_)
      b_.prefetch_row(b_.context, k0_ + rows_done_, j0_, nc_);
  }

 private:
  const F32GemmBSource& b_;
  size_t k0_, kc_, j0_, nc_, steps_;
  size_t due_ = 0, rows_done_ = 0;
};

// One thread's share: panels [panel_begin, panel_end) of packed A (rows of
// C) and columns [col_begin, col_end) of C, the whole K.
struct GemmRange {
  size_t panel_begin, panel_end, col_begin, col_end;
};

void run_gemm_range(const F32PackedA& a, const F32GemmBlocking& blocking, const F32GemmBSource& b, float* c,
                    size_t ldc, const F32GemmEpilogue& epilogue, const GemmRange& range) {
  const F32GemmMicrokernel& kernel = a.kernel();
  const size_t mr = kernel.mr, nr = kernel.nr, k = a.k();
  const size_t panels_per_block = std::max<size_t>(1, blocking.mc / mr);
  float* packed_b = t_packed_b.reserve(blocking.kc * round_up(blocking.nc, nr));

  for (size_t jc = range.col_begin; jc < range.col_end; jc += blocking.nc) {
    size_t nc = std::min(blocking.nc, range.col_end - jc);
    size_t pc = 0;
    do {                                          // at least once, so K = 0 still writes bias + activation
      size_t kc = std::min(blocking.kc, k - pc);  // 0 only when K = 0
      b.pack(b.context, pc, kc, jc, nc, nr, packed_b);
      bool first_block = pc == 0, last_block = pc + kc >= k;
      F32GemmTileEpilogue tile_epilogue{nullptr, !first_block || epilogue.accumulate,
                                        last_block ? epilogue.activation : Activation::none, epilogue.param0,
                                        epilogue.param1};
      if (blocking.row_panels_outer) {
        // The block this range packs next (the next K block of these
        // columns, else the first K block of the next columns) is read from
        // memory while this one is computed, instead of stalling its pack.
        const size_t next_jc = last_block ? jc + blocking.nc : jc, next_pc = last_block ? 0 : pc + kc;
        const size_t next_nc = next_jc < range.col_end ? std::min(blocking.nc, range.col_end - next_jc) : 0;
        const size_t next_kc = std::min(blocking.kc, k - next_pc);
        const size_t tiles = (range.panel_end - range.panel_begin) * ceil_div(nc, nr);
        BlockPrefetcher prefetcher(blocking.prefetch_next_b, b, next_pc, next_kc, next_jc, next_nc, tiles);
        for (size_t ir = range.panel_begin; ir < range.panel_end; ++ir) {
          size_t row = a.first_row(ir), rows = a.first_row(ir + 1) - row;
          tile_epilogue.bias = first_block && epilogue.bias != nullptr ? epilogue.bias + row : nullptr;
          set_output_affine(tile_epilogue, epilogue, last_block, row);
          const float* a_panel = a.panel(ir) + pc * a.k_stride();
          float* c_row = c + row * ldc + jc;
          if (!prefetcher.active()) {  // (the short-K tiles are too quick for even a skipped step per tile)
            for (size_t jr = 0; jr < nc; jr += nr)
              kernel.tile(rows, std::min(nr, nc - jr), kc, a_panel, packed_b + jr * kc, c_row + jr, ldc, tile_epilogue);
            continue;
          }
          for (size_t jr = 0; jr < nc; jr += nr) {
            kernel.tile(rows, std::min(nr, nc - jr), kc, a_panel, packed_b + jr * kc, c_row + jr, ldc, tile_epilogue);
            prefetcher.step();
          }
        }
        pc += kc;
        continue;
      }
      for (size_t ic = range.panel_begin; ic < range.panel_end; ic += panels_per_block) {
        size_t ic_end = std::min(ic + panels_per_block, range.panel_end);
        for (size_t jr = 0; jr < nc; jr += nr) {
          const float* b_panel = packed_b + jr * kc;
          float* c_column = c + jc + jr;
          size_t tile_columns = std::min(nr, nc - jr);
          for (size_t ir = ic; ir < ic_end; ++ir) {
            size_t row = a.first_row(ir), rows = a.first_row(ir + 1) - row;
            tile_epilogue.bias = first_block && epilogue.bias != nullptr ? epilogue.bias + row : nullptr;
            set_output_affine(tile_epilogue, epilogue, last_block, row);
            kernel.tile(rows, tile_columns, kc, a.panel(ir) + pc * a.k_stride(), b_panel, c_column + row * ldc, ldc,
                        tile_epilogue);
          }
        }
      }
      pc += kc;
    } while (pc < k);
  }
}

// How many ways to split the rows and the columns of C among the threads.
// Columns first (each thread then packs only its own part of B); rows as
// well when there are too few column blocks to go round.
struct ThreadGrid {
  size_t row_parts, column_parts;
};

ThreadGrid choose_thread_grid(size_t row_tiles, size_t column_granules, double flops, int threads) {
  constexpr double kMinFlopsPerThread = 2.0e6;  // below this, waking a thread costs more than it saves
  size_t usable = static_cast<size_t>(std::clamp(flops / kMinFlopsPerThread, 1.0, double(std::max(threads, 1))));
  ThreadGrid best{1, 1};
  for (size_t column_parts = std::min(usable, column_granules); column_parts >= 1; --column_parts) {
    size_t row_parts = std::min(usable / column_parts, row_tiles);
    if (row_parts * column_parts > best.row_parts * best.column_parts) best = {row_parts, column_parts};
  }
  return best;
}

}  // namespace

F32GemmBlocking f32_gemm_blocking(const F32GemmMicrokernel& kernel, const CacheSizes& caches, size_t m, size_t k,
                                  bool b_prefetchable) {
  const size_t mr = kernel.mr, nr = kernel.nr;
  // KC: one KC-deep micro-panel of B (NR wide) plus one of A (MR x a_copies
  // wide) fill about three quarters of L1, but KC is at least 256: deeper
  // blocks mean fewer passes over C, which measured faster for the wide
  // AVX-512 tile even though its B micro-panel then fills L1 alone. K is then
  // cut into equal blocks (576 -> 3 x 192, not 256 + 256 + 64).
  const size_t a_width = mr * kernel.a_copies;
  size_t kc_limit = caches.l1d_bytes * 3 / 4 / ((nr + a_width) * sizeof(float));
  kc_limit = std::clamp<size_t>(round_down(kc_limit, 8), 256, 512);
  size_t kc = k == 0 ? 1 : ceil_div(k, ceil_div(k, kc_limit));
  // MC: an MC x KC block of packed A fills about a quarter of L2.
  size_t mc = std::max(mr, round_down(caches.l2_bytes / 4 / (kc * kernel.a_copies * sizeof(float)), mr));
  const size_t nc_limit = round_down(16384, nr);
  // When the kernel asks for it (prefetch_next_b), B is a matrix in memory
  // and A is short (M <= 64) or the blocks deep (KC >= 128), the next block
  // of B is read from memory while this one is computed (row_panels_outer
  // only), and the block is smaller, an eighth of L2 (at least 64 KiB, a
  // floor not measured on small-L2 CPUs) so that both blocks stay in L2.
  // The prefetch does not pay for shallow blocks with a tall A (a 1x1 conv
  // with M = 128, K = 64 was slower with it), hence the condition. With the
  // prefetch, A may be up to two MC blocks. The measurements behind each
  // choice: docs/notes/f32_gemm.md.
  const bool prefetch = kernel.prefetch_next_b && b_prefetchable && (m <= 64 || kc >= 128);
  if (m <= (prefetch ? 2 * mc : mc)) {
    // All rows of A fit one block, or two with the prefetch (convolutions:
    // M = output channels): sweep each row panel across a KC x NC block of
    // packed B that fills half of L2 (without the prefetch). C is then
    // written row by row, which the prefetchers follow; this matters most
    // for short K, where writing C is most of the work.
    const size_t b_block_bytes = prefetch ? std::max<size_t>(caches.l2_bytes / 8, 64 << 10) : caches.l2_bytes / 2;
    size_t nc = std::clamp(round_down(b_block_bytes / (kc * sizeof(float)), nr), nr, nc_limit);
    return {mc, kc, nc, true, prefetch};
  }
  // NC: a KC x NC block of packed B takes an eighth of L3 (at most 4 MiB,
  // at least L2 when there is no L3): long contiguous reads of B's rows.
  size_t b_block_bytes = std::clamp<size_t>(caches.l3_bytes / 8, caches.l2_bytes, 4u << 20);
  size_t nc = std::clamp(round_down(b_block_bytes / (kc * sizeof(float)), nr), nr, nc_limit);
  return {mc, kc, nc, false, false};  // (the prefetch is only for the row_panels_outer order)
}

std::string describe_f32_gemm_dispatch() {
  const F32GemmMicrokernel& kernel = f32_gemm_microkernel_for(selected_isa());
  F32GemmBlocking blocking = f32_gemm_blocking(kernel, cpu_info().caches, 1 << 20, 1 << 20, false);
  std::ostringstream out;
  out << "f32 GEMM:     " << kernel.name << " (MR=" << kernel.mr << ", NR=" << kernel.nr
      << "), blocking for large M and K: MC=" << blocking.mc << " KC=" << blocking.kc << " NC=" << blocking.nc << "\n";
  return out.str();
}

void F32PackedA::FreeDeleter::operator()(float* p) const { std::free(p); }

void F32PackedA::pack(const F32GemmMicrokernel& kernel, bool trans_a, size_t m, size_t k, const float* a, size_t lda,
                      float alpha, int threads) {
  kernel_ = &kernel;
  m_ = m;
  k_ = k;
  const size_t mr = kernel.mr;
  const size_t panels = ceil_div(m, mr);
  panel_rows_.assign(1, 0);
  for (size_t i = 1; i <= panels; ++i) panel_rows_.push_back(std::min(m, i * mr));
  size_t leftover = m % mr;
  if (panels >= 2 && leftover != 0) panel_rows_[panels - 1] = m - (mr + leftover) / 2;

  size_t count = std::max<size_t>(panels * panel_stride(), 1);
  if (count > capacity_) {
    check_workspace_bytes(count * sizeof(float), "the f32 GEMM's packed A");
    panels_.reset(static_cast<float*>(std::aligned_alloc(64, round_up(count * sizeof(float), 64))));
    if (!panels_) throw std::bad_alloc();
    capacity_ = count;
  }
  PackAFn pack_panel = kernel.a_copies == 4 ? &pack_a_panel<4> : &pack_a_panel<1>;
  if (kernel.a_copies != 1 && kernel.a_copies != 4)
    fail("f32 GEMM: no A packing routine for ", kernel.a_copies, " copies");
  const PackFullAFn pack_full = trans_a ? nullptr : full_panel_packer(mr, kernel.a_copies);
  auto pack_panels = [&](int64_t begin, int64_t end) {
    for (size_t i = size_t(begin); i < size_t(end); ++i) {
      size_t row0 = panel_rows_[i];
      const float* source = trans_a ? a + row0 : a + row0 * lda;
      float* panel = panels_.get() + i * panel_stride();
      if (pack_full && panel_rows_[i + 1] - row0 == mr)
        pack_full(source, lda, k, alpha, panel);
      else
        pack_panel(source, lda, trans_a, panel_rows_[i + 1] - row0, mr, k, alpha, panel);
    }
  };
  // Threads take ranges of panels of at least kMinFloatsPerRange packed
  // floats (32 KiB) each, so that a range is worth handing to a thread; a
  // smaller A is packed by the caller alone (docs/notes/f32_gemm.md).
  constexpr size_t kMinFloatsPerRange = 8192;
  const size_t min_panels = ceil_div(kMinFloatsPerRange, std::max<size_t>(panel_stride(), 1));
  parallel_ranges(int64_t(panels), threads, int64_t(min_panels), pack_panels);
}

void f32_gemm_packed(const F32PackedA& a, bool trans_b, size_t n, const float* b, size_t ldb, float* c, size_t ldc,
                     const F32GemmEpilogue& epilogue, int threads) {
  const MatrixB matrix{b, ldb};
  const F32GemmBSource source{pack_matrix_function(a.kernel().nr, trans_b), &matrix,
                              trans_b ? nullptr : &prefetch_matrix_row};
  f32_gemm_packed(a, n, source, c, ldc, epilogue, threads);
}

void f32_gemm_packed(const F32PackedA& a, size_t n, const F32GemmBSource& b, float* c, size_t ldc,
                     const F32GemmEpilogue& epilogue, int threads) {
  const size_t m = a.m();
  if (m == 0 || n == 0) return;
  const F32GemmMicrokernel& kernel = a.kernel();
  const F32GemmBlocking blocking = f32_gemm_blocking(kernel, cpu_info().caches, m, a.k(), b.prefetch_row != nullptr);

  // Threads split columns on multiples of NR and of 16 floats, so that two
  // threads never write the same 64-byte line of a row of C (when C's rows
  // are 64-byte aligned).
  const size_t column_granule = std::lcm<size_t>(kernel.nr, 16);
  const size_t row_tiles = a.panel_count(), column_granules = ceil_div(n, column_granule);
  const double flops = 2.0 * double(m) * double(n) * double(std::max<size_t>(a.k(), 1));
  const ThreadGrid grid = choose_thread_grid(row_tiles, column_granules, flops, threads);
  const size_t thread_count = grid.row_parts * grid.column_parts;
  // With several threads, the columns are cut into about four chunks per
  // thread (of at least 256 columns), handed out dynamically: a thread slowed
  // down by other work on the machine then does not hold up the others.
  size_t column_chunks = grid.column_parts, row_parts = grid.row_parts;
  if (thread_count > 1) {
    size_t min_chunk_granules = ceil_div(256, column_granule);
    column_chunks = std::max(grid.column_parts, std::min(4 * grid.column_parts, column_granules / min_chunk_granules));
    // When A is both more than one MC block and taller than twice a chunk
    // is wide, each chunk is also cut into two halves of rows, handed out one
    // after the other: an item then streams half of packed A, at the price of
    // packing its chunk of B twice (measured faster for large squares).
    size_t chunk_columns = n / column_chunks;
    if (!blocking.row_panels_outer && m >= 2 * chunk_columns && row_tiles >= 2 * row_parts) row_parts *= 2;
  }
  const size_t work_items = row_parts * column_chunks;

  auto range_of = [&](size_t item) {
    size_t column_part = item / row_parts, row_part = item % row_parts;
    GemmRange range;
    range.panel_begin = row_tiles * row_part / row_parts;
    range.panel_end = row_tiles * (row_part + 1) / row_parts;
    range.col_begin = column_granules * column_part / column_chunks * column_granule;
    range.col_end = std::min(n, column_granules * (column_part + 1) / column_chunks * column_granule);
    return range;
  };
  if (thread_count == 1) {
    run_gemm_range(a, blocking, b, c, ldc, epilogue, range_of(0));
    return;
  }
  parallel_for(static_cast<int64_t>(work_items), static_cast<int>(thread_count), [&](int64_t item) {
    run_gemm_range(a, blocking, b, c, ldc, epilogue, range_of(static_cast<size_t>(item)));
  });
}

}  // namespace kiln::kernels
