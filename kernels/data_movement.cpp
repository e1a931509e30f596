#include "kernels/data_movement.h"

#include <algorithm>
#include <cstring>

namespace kiln::kernels {

namespace {

// dst[i] = src[i * stride] for `count` elements of sizeof(Word) bytes.
// Loads and stores go through memcpy so any element type may be moved as a
// same-sized unsigned word without aliasing trouble.
template <class Word>
void gather_run(char* dst, const char* src, int64_t count, int64_t stride) {
  const int64_t step = stride * static_cast<int64_t>(sizeof(Word));
  for (int64_t i = 0; i < count; ++i) {
    Word w;
    std::memcpy(&w, src + i * step, sizeof(Word));
    std::memcpy(dst + i * static_cast<int64_t>(sizeof(Word)), &w, sizeof(Word));
  }
}

void copy_run(char* dst, const char* src, int64_t count, int64_t stride, size_t element_bytes) {
  if (stride == 1) {
    std::memcpy(dst, src, static_cast<size_t>(count) * element_bytes);
    return;
  }
  switch (element_bytes) {
    case 1: gather_run<uint8_t>(dst, src, count, stride); break;
    case 2: gather_run<uint16_t>(dst, src, count, stride); break;
    case 4: gather_run<uint32_t>(dst, src, count, stride); break;
    case 8: gather_run<uint64_t>(dst, src, count, stride); break;
    default:
      for (int64_t i = 0; i < count; ++i)
        std::memcpy(dst + i * element_bytes, src + i * stride * static_cast<int64_t>(element_bytes), element_bytes);
  }
}

// Row-by-row copy: the output's last dim is one run of the source (memcpy
// when its source stride is 1, an element gather otherwise).
void copy_rows(char* out, const char* in, size_t element_bytes, const std::vector<int64_t>& dims,
               const std::vector<int64_t>& strides, int threads) {
  const size_t outer_rank = dims.size() - 1;
  const int64_t run = dims.back();
  const int64_t run_stride = strides.back();
  int64_t rows = 1;
  for (size_t i = 0; i < outer_rank; ++i) rows *= dims[i];
  const int64_t eb = static_cast<int64_t>(element_bytes);

  parallel_byte_ranges(rows, threads, run * eb, [&](int64_t begin, int64_t end) {
    // Odometer over the outer dims, started at row `begin`.
    std::vector<int64_t> index(outer_rank, 0);
    int64_t offset = 0;
    for (size_t i = outer_rank, rest = static_cast<size_t>(begin); i-- > 0;) {
      index[i] = static_cast<int64_t>(rest % static_cast<size_t>(dims[i]));
      rest /= static_cast<size_t>(dims[i]);
      offset += index[i] * strides[i];
    }
    for (int64_t row = begin; row < end; ++row) {
      copy_run(out + row * run * eb, in + offset * eb, run, run_stride, element_bytes);
      for (size_t i = outer_rank; i-- > 0;) {
        offset += strides[i];
        if (++index[i] < dims[i]) break;
        offset -= strides[i] * dims[i];
        index[i] = 0;
      }
    }
  });
}

// One tile of a 2-D transpose:
//   dst[r * dst_row_stride + c] = src[r + c * src_col_stride]
// for r < rows, c < cols (strides in elements of sizeof(Word)).
template <class Word>
void transpose_tile(char* dst, int64_t dst_row_stride, const char* src, int64_t src_col_stride, int64_t rows,
                    int64_t cols) {
  constexpr int64_t w = static_cast<int64_t>(sizeof(Word));
  for (int64_t r = 0; r < rows; ++r) {
    char* dst_row = dst + r * dst_row_stride * w;
    const char* src_column = src + r * w;
    for (int64_t c = 0; c < cols; ++c) {
      Word v;
      std::memcpy(&v, src_column + c * src_col_stride * w, sizeof(Word));
      std::memcpy(dst_row + c * w, &v, sizeof(Word));
    }
  }
}

void transpose_tile_bytes(char* dst, int64_t dst_row_stride, const char* src, int64_t src_col_stride, int64_t rows,
                          int64_t cols, size_t element_bytes) {
  switch (element_bytes) {
    case 1: transpose_tile<uint8_t>(dst, dst_row_stride, src, src_col_stride, rows, cols); break;
    case 2: transpose_tile<uint16_t>(dst, dst_row_stride, src, src_col_stride, rows, cols); break;
    case 4: transpose_tile<uint32_t>(dst, dst_row_stride, src, src_col_stride, rows, cols); break;
    default: transpose_tile<uint64_t>(dst, dst_row_stride, src, src_col_stride, rows, cols); break;
  }
}

// Tiled copy for views where dim `p` is contiguous in src and the last dim
// is contiguous in dst. Every other dim is walked by an outer index; each
// work item is one block of kTile indices along p times the whole last dim.
void copy_transposed(char* out, const char* in, size_t element_bytes, const std::vector<int64_t>& dims,
                     const std::vector<int64_t>& strides, size_t p, int threads) {
  constexpr int64_t kTile = 16;
  const size_t rank = dims.size();
  const std::vector<int64_t> out_strides = contiguous_strides(dims);
  std::vector<size_t> others;  // dims walked by the outer index
  int64_t outer = 1;
  for (size_t i = 0; i + 1 < rank; ++i)
    if (i != p) {
      others.push_back(i);
      outer *= dims[i];
    }
  const int64_t blocks = (dims[p] + kTile - 1) / kTile;
  const int64_t cols = dims.back();
  const int64_t eb = static_cast<int64_t>(element_bytes);

  parallel_byte_ranges(outer * blocks, threads, kTile * cols * eb, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      int64_t rest = item / blocks;
      const int64_t row0 = (item % blocks) * kTile;
      int64_t src_offset = row0, dst_offset = row0 * out_strides[p];
      for (size_t k = others.size(); k-- > 0;) {
        const size_t d = others[k];
        const int64_t index = rest % dims[d];
        rest /= dims[d];
        src_offset += index * strides[d];
        dst_offset += index * out_strides[d];
      }
      const int64_t rows = std::min(kTile, dims[p] - row0);
      for (int64_t col0 = 0; col0 < cols; col0 += kTile)
        transpose_tile_bytes(out + (dst_offset + col0) * eb, out_strides[p], in + (src_offset + col0 * strides.back()) * eb,
                             strides.back(), rows, std::min(kTile, cols - col0), element_bytes);
    }
  });
}

}  // namespace

void fill_elements(void* dst, const void* element, size_t element_bytes, int64_t count) {
  if (count <= 0) return;
  const auto* pattern = static_cast<const unsigned char*>(element);
  const size_t total = static_cast<size_t>(count) * element_bytes;
  bool one_byte_value = true;
  for (size_t i = 1; i < element_bytes; ++i) one_byte_value = one_byte_value && pattern[i] == pattern[0];
  if (one_byte_value) {
    std::memset(dst, pattern[0], total);
    return;
  }
  // Copy the element once, then keep doubling the filled prefix.
  auto* out = static_cast<unsigned char*>(dst);
  std::memcpy(out, pattern, element_bytes);
  for (size_t filled = element_bytes; filled < total;) {
    size_t chunk = std::min(filled, total - filled);
    std::memcpy(out + filled, out, chunk);
    filled += chunk;
  }
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return strides;
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

void copy_view_to_contiguous(void* dst, const void* src, size_t element_bytes, std::vector<int64_t> shape,
                             std::vector<int64_t> src_strides, int threads) {
  // Drop size-1 dims (their stride never matters) and merge a dim into the
  // one outside it when the pair walks memory like a single dim.
  std::vector<int64_t> dims, strides;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) return;
    if (shape[i] == 1) continue;
    if (!dims.empty() && strides.back() == src_strides[i] * shape[i]) {
      dims.back() *= shape[i];
      strides.back() = src_strides[i];
    } else {
      dims.push_back(shape[i]);
      strides.push_back(src_strides[i]);
    }
  }
  char* out = static_cast<char*>(dst);
  const char* in = static_cast<const char*>(src);
  if (dims.empty()) {
    std::memcpy(out, in, element_bytes);
    return;
  }
  // A transpose: the last dim is strided in src but another dim is
  // contiguous there. Copy in square tiles so reads and writes both stay
  // within a few cache lines.
  if (strides.back() != 1) {
    for (size_t p = 0; p + 1 < dims.size(); ++p) {
      if (strides[p] == 1 && dims[p] >= 4 && dims.back() >= 4) {
        copy_transposed(out, in, element_bytes, dims, strides, p, threads);
        return;
      }
    }
  }
  copy_rows(out, in, element_bytes, dims, strides, threads);
}

}  // namespace kiln::kernels

namespace kiln::kernels {

namespace {

// One piece of an output row along the last axis.
struct RowPiece {
  enum class Kind { kFill, kCopyRun, kGather } kind;
  int64_t begin;  // first output index
  int64_t length;
};

// Splits a last-axis table into fills (-1), runs of consecutive input
// indices (memcpy) and everything else (element gather).
std::vector<RowPiece> split_row(const std::vector<int64_t>& table) {
  constexpr int64_t kMinRun = 8;
  std::vector<RowPiece> pieces;
  const int64_t n = static_cast<int64_t>(table.size());
  auto add = [&](RowPiece::Kind kind, int64_t begin, int64_t length) {
    if (!pieces.empty() && pieces.back().kind == kind && kind != RowPiece::Kind::kCopyRun &&
        pieces.back().begin + pieces.back().length == begin)
      pieces.back().length += length;
    else
      pieces.push_back({kind, begin, length});
  };
  for (int64_t j = 0; j < n;) {
    int64_t end = j + 1;
    if (table[j] < 0) {
      while (end < n && table[end] < 0) ++end;
      add(RowPiece::Kind::kFill, j, end - j);
    } else {
      while (end < n && table[end] == table[end - 1] + 1) ++end;
      add(end - j >= kMinRun ? RowPiece::Kind::kCopyRun : RowPiece::Kind::kGather, j, end - j);
    }
    j = end;
  }
  return pieces;
}

template <class Word>
void gather_elements(char* dst, const char* src_row, const int64_t* table, int64_t count) {
  for (int64_t j = 0; j < count; ++j) {
    Word w;
    std::memcpy(&w, src_row + table[j] * static_cast<int64_t>(sizeof(Word)), sizeof(Word));
    std::memcpy(dst + j * static_cast<int64_t>(sizeof(Word)), &w, sizeof(Word));
  }
}

void gather_piece(char* dst, const char* src_row, const int64_t* table, int64_t count, size_t element_bytes) {
  switch (element_bytes) {
    case 1: gather_elements<uint8_t>(dst, src_row, table, count); break;
    case 2: gather_elements<uint16_t>(dst, src_row, table, count); break;
    case 4: gather_elements<uint32_t>(dst, src_row, table, count); break;
    case 8: gather_elements<uint64_t>(dst, src_row, table, count); break;
    default:
      for (int64_t j = 0; j < count; ++j)
        std::memcpy(dst + j * element_bytes, src_row + table[j] * static_cast<int64_t>(element_bytes), element_bytes);
  }
}

}  // namespace

void gather_by_axis_tables(void* dst, const void* src, size_t element_bytes, const std::vector<int64_t>& src_shape,
                           const std::vector<std::vector<int64_t>>& tables, const void* fill, int threads) {
  char* out = static_cast<char*>(dst);
  const char* in = static_cast<const char*>(src);
  const size_t rank = tables.size();
  if (rank == 0) {
    std::memcpy(out, in, element_bytes);
    return;
  }
  for (const auto& table : tables)
    if (table.empty()) return;

  const std::vector<int64_t> in_strides = contiguous_strides(src_shape);
  const std::vector<int64_t>& last = tables.back();
  const std::vector<RowPiece> pieces = split_row(last);
  const int64_t row_elements = static_cast<int64_t>(last.size());
  const int64_t eb = static_cast<int64_t>(element_bytes);
  const size_t outer_rank = rank - 1;
  int64_t rows = 1;
  for (size_t i = 0; i < outer_rank; ++i) rows *= static_cast<int64_t>(tables[i].size());

  parallel_byte_ranges(rows, threads, row_elements * eb, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> index(outer_rank, 0);
    for (size_t i = outer_rank, rest = static_cast<size_t>(begin); i-- > 0;) {
      index[i] = static_cast<int64_t>(rest % tables[i].size());
      rest /= tables[i].size();
    }
    constexpr int64_t kNoRow = -2;
    int64_t previous_src_row = kNoRow;
    for (int64_t row = begin; row < end; ++row) {
      char* out_row = out + row * row_elements * eb;
      // Input row offset, or -1 when some outer axis points outside.
      int64_t src_row = 0;
      for (size_t i = 0; i < outer_rank; ++i) {
        int64_t t = tables[i][static_cast<size_t>(index[i])];
        if (t < 0) {
          src_row = -1;
          break;
        }
        src_row += t * in_strides[i];
      }
      if (src_row >= 0 && src_row == previous_src_row) {
        std::memcpy(out_row, out_row - row_elements * eb, static_cast<size_t>(row_elements * eb));
      } else if (src_row < 0) {
        fill_elements(out_row, fill, element_bytes, row_elements);
      } else {
        const char* in_row = in + src_row * eb;
        for (const RowPiece& piece : pieces) {
          char* piece_out = out_row + piece.begin * eb;
          const int64_t* piece_table = last.data() + piece.begin;
          switch (piece.kind) {
            case RowPiece::Kind::kFill: fill_elements(piece_out, fill, element_bytes, piece.length); break;
            case RowPiece::Kind::kCopyRun:
              std::memcpy(piece_out, in_row + piece_table[0] * eb, static_cast<size_t>(piece.length * eb));
              break;
            case RowPiece::Kind::kGather: gather_piece(piece_out, in_row, piece_table, piece.length, element_bytes); break;
          }
        }
      }
      previous_src_row = src_row;
      for (size_t i = outer_rank; i-- > 0;) {
        if (++index[i] < static_cast<int64_t>(tables[i].size())) break;
        index[i] = 0;
      }
    }
  });
}

}  // namespace kiln::kernels
