// Layout operators: they rearrange elements without looking at their values,
// so every kernel moves bytes (element_size per element) and works for every
// data type.
//
// Concat Split Transpose Tile DepthToSpace SpaceToDepth
// (Slice/Gather live in indexing.cpp, Cast in cast.cpp, Pad in pad.cpp.)
#include <cstring>
#include <numeric>
#include <optional>

#include "kernels/data_movement.h"
#include "platform/checked_math.h"
#include "platform/thread_pool.h"
#include "runtime/op_registry.h"
#include "runtime/ops/shape_util.h"
#include "runtime/ops/tensor_groups.h"

namespace kiln {

namespace {

using graph::Node;
using ops::normalize_axis;
using ops::read_int_list;

// ----------------------------------------------------------------- Concat --

// Concat: inputs agree on every dim but `axis`. Seen as [outer, axis*inner],
// each output row is the inputs' rows laid side by side.
class ConcatKernel : public OpKernel {
 public:
  // Only a one-input Concat hands out its input; with more, the output is a
  // new buffer the memory planner can place in the arena (a fresh buffer
  // outside it costs its page faults on every run).
  bool may_alias_inputs() const override { return single_input_; }
  // The memory planner may have producers write into their place in the
  // output; run() then finds them there and skips their copy.
  std::optional<int64_t> concatenation_axis() const override {
    return single_input_ ? std::nullopt : std::optional<int64_t>(axis_);
  }
  explicit ConcatKernel(const KernelInit& init)
      // Before opset 4 the axis defaults to 1; from 4 it is required.
      : axis_(init.opset() < 4 ? init.node().attr_int("axis", 1) : ops::required_int_attr(init.node(), "axis")),
        single_input_(init.num_inputs() == 1) {
    if (init.num_inputs() == 0) fail(init.node().describe(), ": Concat needs at least one input");
  }

  void run(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const Tensor& first = ctx.required_input(0);
    const int64_t rank = static_cast<int64_t>(first.rank());
    if (rank == 0) fail(node.describe(), ": cannot concatenate scalars");
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, rank, node));

    std::vector<const Tensor*> inputs;
    Shape out_shape = first.shape();
    out_shape[axis] = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor& t = ctx.required_input(i);
      if (t.dtype() != first.dtype())
        fail(node.describe(), ": input ", i, " is ", dtype_name(t.dtype()), ", input 0 is ", dtype_name(first.dtype()));
      bool compatible = t.rank() == first.rank();
      for (size_t d = 0; compatible && d < t.rank(); ++d) compatible = d == axis || t.dim(d) == first.dim(d);
      if (!compatible)
        fail(node.describe(), ": cannot concatenate shape ", shape_to_string(t.shape()), " (input ", i,
             ") with ", shape_to_string(first.shape()), " on axis ", axis_);
      out_shape[axis] = checked::dim(checked::add(out_shape[axis], t.dim(axis), node.describe(), "the output dim"),
                                     node.describe(), "the output dim");
      inputs.push_back(&t);
    }
    if (inputs.size() == 1) {
      ctx.set_output(0, first);
      return;
    }

    Tensor& out = ctx.allocate_output(0, first.dtype(), out_shape);
    // An empty output's other dims may multiply past int64 (0 x 2^40 x 2^40);
    // a non-empty one's row and row count fit, as its element count does.
    if (out.size() == 0) return;
    const int64_t eb = static_cast<int64_t>(element_size(first.dtype()));
    const int64_t outer = checked::product(out_shape, 0, axis, node.describe(), "the row count");
    const int64_t inner_bytes = checked::product(out_shape, axis + 1, out_shape.size(), node.describe(), "the row") * eb;
    const int64_t out_row_bytes = out_shape[axis] * inner_bytes;
    char* dst = static_cast<char*>(out.raw());
    if (outer >= 16) {  // rows enough to share among the threads
      kernels::parallel_byte_ranges(outer, ctx.threads(), out_row_bytes, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          char* out_row = dst + row * out_row_bytes;
          for (const Tensor* t : inputs) {
            const int64_t bytes = t->dim(axis) * inner_bytes;
            const char* from = static_cast<const char*>(t->raw()) + row * bytes;
            if (from != out_row) std::memcpy(out_row, from, static_cast<size_t>(bytes));
            out_row += bytes;
          }
        }
      });
      return;
    }
    // Few rows (a channel concat of images: outer = 1): every (row, input)
    // copy cut into pieces of at most 256 KiB, so the threads still share it.
    constexpr int64_t kPieceBytes = int64_t{256} << 10;
    struct Piece {
      char* to;
      const char* from;
      int64_t bytes;
    };
    std::vector<Piece> pieces;
    for (int64_t row = 0; row < outer; ++row) {
      char* out_row = dst + row * out_row_bytes;
      for (const Tensor* t : inputs) {
        const int64_t bytes = t->dim(axis) * inner_bytes;
        const char* from = static_cast<const char*>(t->raw()) + row * bytes;
        if (from == out_row) {  // written in place by its producer (the memory plan)
          out_row += bytes;
          continue;
        }
        for (int64_t done = 0; done < bytes; done += kPieceBytes)
          pieces.push_back({out_row + done, from + done, std::min(kPieceBytes, bytes - done)});
        out_row += bytes;
      }
    }
    const int threads = out.nbytes() >= (int64_t{1} << 20) ? ctx.threads() : 1;
    parallel_ranges(static_cast<int64_t>(pieces.size()), threads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        std::memcpy(pieces[static_cast<size_t>(i)].to, pieces[static_cast<size_t>(i)].from,
                    static_cast<size_t>(pieces[static_cast<size_t>(i)].bytes));
    });
  }

 private:
  int64_t axis_;
  bool single_input_;
};

// ------------------------------------------------------------------ Split --

// Split: sizes from the `split` attribute (before opset 13) or input 1 (from
// 13); equal parts when absent. The inverse of Concat's row layout.
class SplitKernel : public OpKernel {
 public:
  explicit SplitKernel(const KernelInit& init) : axis_(init.node().attr_int("axis", 0)) {
    const Node& node = init.node();
    if (node.outputs.empty()) fail(node.describe(), ": Split needs at least one output");
    // Split-1 took the sizes as the attribute or as input 1.
    const bool input_form = init.opset() >= 13 || (init.opset() < 2 && init.has_input(1));
    if (!input_form) {
      if (node.has_attr("split")) split_ = node.attr_ints("split");
    } else {
      if (node.has_attr("split"))
        fail(node.describe(), ": split sizes come as an attribute or as input 1, not both");
      if (init.has_input(1)) {
        if (const Tensor* split = init.constant_input(1)) split_ = read_int_list(*split, node, "split");
        else split_from_input_ = true;
      }
    }
    if (split_) check_sizes_count(*split_, node);
  }

  void run(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const Tensor& input = ctx.required_input(0);
    const size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(input.rank()), node));
    const int64_t dim = input.dim(axis);
    const size_t parts = node.outputs.size();

    std::vector<int64_t> sizes;
    if (split_from_input_) {
      sizes = read_int_list(ctx.required_input(1), node, "split");
      check_sizes_count(sizes, node);
    } else if (split_) {
      sizes = *split_;
    } else {
      if (dim % static_cast<int64_t>(parts) != 0)
        fail(node.describe(), ": cannot split dim ", dim, " of shape ", shape_to_string(input.shape()), " into ",
             parts, " equal parts");
      sizes.assign(parts, dim / static_cast<int64_t>(parts));
    }
    // Checked sum: sizes like [INT64_MAX, 2] must not wrap around to dim.
    int64_t total = 0;
    bool fits = true;
    for (int64_t s : sizes) {
      if (s < 0) fail(node.describe(), ": split sizes ", shape_to_string(sizes), " contain a negative size");
      if (fits) {
        const std::optional<int64_t> sum = checked::try_add(total, s);
        fits = sum.has_value();
        total = sum.value_or(0);
      }
    }
    if (!fits || total != dim)
      fail(node.describe(), ": split sizes ", shape_to_string(sizes), " add up to ",
           fits ? std::to_string(total) : "more than 2^63", ", but axis ", axis_, " of shape ",
           shape_to_string(input.shape()), " has ", dim);

    // An empty input's other dims may multiply past int64 (0 x 2^40 x 2^40):
    // its outputs are empty too and nothing is copied.
    if (input.size() == 0) {
      for (size_t k = 0; k < parts; ++k) {
        if (node.outputs[k].empty()) continue;
        Shape shape = input.shape();
        shape[axis] = sizes[k];
        ctx.allocate_output(k, input.dtype(), shape);
      }
      return;
    }
    const int64_t eb = static_cast<int64_t>(element_size(input.dtype()));
    const int64_t outer = checked::product(input.shape(), 0, axis, node.describe(), "the row count");
    const int64_t inner_bytes = checked::product(input.shape(), axis + 1, input.rank(), node.describe(), "the row") * eb;
    const int64_t in_row_bytes = dim * inner_bytes;
    const char* src = static_cast<const char*>(input.raw());
    int64_t offset = 0;  // bytes into each input row
    for (size_t k = 0; k < parts; ++k) {
      const int64_t bytes = sizes[k] * inner_bytes;
      if (!node.outputs[k].empty()) {
        Shape shape = input.shape();
        shape[axis] = sizes[k];
        char* dst = static_cast<char*>(ctx.allocate_output(k, input.dtype(), shape).raw());
        kernels::parallel_byte_ranges(outer, ctx.threads(), bytes, [&](int64_t begin, int64_t end) {
          for (int64_t row = begin; row < end; ++row)
            std::memcpy(dst + row * bytes, src + row * in_row_bytes + offset, static_cast<size_t>(bytes));
        });
      }
      offset += bytes;
    }
  }

 private:
  void check_sizes_count(const std::vector<int64_t>& sizes, const Node& node) const {
    if (sizes.size() != node.outputs.size())
      fail(node.describe(), ": ", sizes.size(), " split sizes for ", node.outputs.size(), " outputs");
  }

  int64_t axis_;
  std::optional<std::vector<int64_t>> split_;
  bool split_from_input_ = false;
};

// -------------------------------------------------------------- Transpose --

// Transpose: output dim i is input dim perm[i] (default: reversed dims).
class TransposeKernel : public OpKernel {
 public:
  explicit TransposeKernel(const KernelInit& init) {
    const Node& node = init.node();
    if (!node.has_attr("perm")) return;
    perm_ = node.attr_ints("perm");
    std::vector<bool> seen(perm_->size(), false);
    for (int64_t p : *perm_) {
      if (p < 0 || p >= static_cast<int64_t>(perm_->size()) || seen[static_cast<size_t>(p)])
        fail(node.describe(), ": perm ", shape_to_string(*perm_), " is not a permutation");
      seen[static_cast<size_t>(p)] = true;
    }
  }

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    const size_t rank = input.rank();
    std::vector<int64_t> perm(rank);
    if (perm_) {
      if (perm_->size() != rank)
        fail(ctx.node().describe(), ": perm ", shape_to_string(*perm_), " does not fit input shape ",
             shape_to_string(input.shape()));
      perm = *perm_;
    } else {
      for (size_t i = 0; i < rank; ++i) perm[i] = static_cast<int64_t>(rank - 1 - i);
    }
    const std::vector<int64_t> in_strides = kernels::contiguous_strides(input.shape());
    Shape out_shape(rank);
    std::vector<int64_t> strides(rank);
    for (size_t i = 0; i < rank; ++i) {
      out_shape[i] = input.dim(static_cast<size_t>(perm[i]));
      strides[i] = in_strides[static_cast<size_t>(perm[i])];
    }
    Tensor& out = ctx.allocate_output(0, input.dtype(), out_shape);
    kernels::copy_view_to_contiguous(out.raw(), input.raw(), element_size(input.dtype()), out_shape, strides,
                                     ctx.threads());
  }

 private:
  std::optional<std::vector<int64_t>> perm_;
};

// ------------------------------------------------------------------- Tile --

// Tile: output index o along axis k reads input index o % dim_k.
class TileKernel : public OpKernel {
 public:
  explicit TileKernel(const KernelInit& init) {
    if (init.num_inputs() < 2) fail(init.node().describe(), ": Tile needs the repeats input");
  }

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    const std::vector<int64_t> repeats = read_int_list(ctx.required_input(1), ctx.node(), "repeats");
    if (repeats.size() != input.rank())
      fail(ctx.node().describe(), ": ", repeats.size(), " repeats for input shape ", shape_to_string(input.shape()));
    Shape out_shape(input.rank());
    for (size_t k = 0; k < input.rank(); ++k) {
      if (repeats[k] < 0) fail(ctx.node().describe(), ": repeats ", shape_to_string(repeats), " has a negative value");
      out_shape[k] = ops::checked_mul(input.dim(k), repeats[k], ctx.node(), "the tiled dim");
    }
    // The output first: its allocation checks the element count and the memory budget.
    Tensor& out = ctx.allocate_output(0, input.dtype(), out_shape);
    if (out.size() == 0) return;
    std::vector<std::vector<int64_t>> tables(input.rank());
    for (size_t k = 0; k < input.rank(); ++k) {
      tables[k].resize(static_cast<size_t>(out_shape[k]));
      for (int64_t o = 0; o < out_shape[k]; ++o) tables[k][static_cast<size_t>(o)] = o % input.dim(k);
    }
    kernels::gather_by_axis_tables(out.raw(), input.raw(), element_size(input.dtype()), input.shape(), tables,
                                   nullptr, ctx.threads());
  }
};

// ------------------------------------------- DepthToSpace, SpaceToDepth --

int64_t positive_blocksize(const Node& node) {
  int64_t b = ops::required_int_attr(node, "blocksize");
  if (b <= 0) fail(node.describe(), ": blocksize must be positive, got ", b);
  return b;
}

// DepthToSpace on NCHW with block b, output [N, C/b², H*b, W*b].
// The output is walked as [N, C', H, b, W, b] (contiguous); the strides below
// say where each of those elements sits in the input.
//   DCR: input channel = (i*b + j) * C' + c'     CRD: input channel = c'*b*b + i*b + j
class DepthToSpaceKernel : public OpKernel {
 public:
  explicit DepthToSpaceKernel(const KernelInit& init) : block_(positive_blocksize(init.node())) {
    const std::string mode = init.opset() >= 11 ? init.node().attr_string("mode", "DCR") : "DCR";
    if (mode != "DCR" && mode != "CRD")
      fail(init.node().describe(), ": mode must be DCR or CRD, got '", mode, "'");
    column_row_depth_ = mode == "CRD";
  }

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    if (input.rank() != 4) fail(ctx.node().describe(), ": input must be 4-D NCHW, got ", shape_to_string(input.shape()));
    const int64_t n = input.dim(0), c = input.dim(1), h = input.dim(2), w = input.dim(3), b = block_;
    const Node& node = ctx.node();
    const int64_t b2 = ops::checked_mul(b, b, node, "blocksize²");
    if (c % b2 != 0) fail(node.describe(), ": channels ", c, " are not divisible by blocksize² ", b2);
    const int64_t c_out = c / b2;
    Tensor& out = ctx.allocate_output(0, input.dtype(), {n, c_out, ops::checked_mul(h, b, node, "the output height"),
                                                          ops::checked_mul(w, b, node, "the output width")});
    if (out.size() == 0) return;  // past here every product below is at most the element count
    const int64_t plane = h * w;
    const Shape view = {n, c_out, h, b, w, b};
    std::vector<int64_t> strides;
    if (column_row_depth_)
      strides = {c * plane, b2 * plane, w, b * plane, 1, plane};
    else
      strides = {c * plane, plane, w, b * c_out * plane, 1, c_out * plane};
    kernels::copy_view_to_contiguous(out.raw(), input.raw(), element_size(input.dtype()), view, strides,
                                     ctx.threads());
  }

 private:
  int64_t block_;
  bool column_row_depth_;
};

// SpaceToDepth on NCHW with block b, output [N, C*b², H/b, W/b]:
// output channel (i*b + j) * C + c holds input pixel (h*b + i, w*b + j) of c.
// The output is walked as [N, b, b, C, H/b, W/b].
class SpaceToDepthKernel : public OpKernel {
 public:
  explicit SpaceToDepthKernel(const KernelInit& init) : block_(positive_blocksize(init.node())) {}

  void run(KernelContext& ctx) override {
    const Tensor& input = ctx.required_input(0);
    if (input.rank() != 4) fail(ctx.node().describe(), ": input must be 4-D NCHW, got ", shape_to_string(input.shape()));
    const int64_t n = input.dim(0), c = input.dim(1), h = input.dim(2), w = input.dim(3), b = block_;
    if (h % b != 0 || w % b != 0)
      fail(ctx.node().describe(), ": height and width of ", shape_to_string(input.shape()),
           " are not divisible by blocksize ", b);
    const int64_t c_out = ops::checked_mul(c, ops::checked_mul(b, b, ctx.node(), "blocksize²"), ctx.node(),
                                           "the output channel count");
    Tensor& out = ctx.allocate_output(0, input.dtype(), {n, c_out, h / b, w / b});
    if (out.size() == 0) return;  // past here every product below is at most the element count
    const Shape view = {n, b, b, c, h / b, w / b};
    const std::vector<int64_t> strides = {c * h * w, w, 1, h * w, b * w, b};
    kernels::copy_view_to_contiguous(out.raw(), input.raw(), element_size(input.dtype()), view, strides,
                                     ctx.threads());
  }

 private:
  int64_t block_;
};

}  // namespace

void register_tensor_ops(OpRegistry& registry) {
  registry.add("Concat", make_kernel<ConcatKernel>, shape_rules::concat, graph::kNoTraits, 1);
  registry.add("Split", make_kernel<SplitKernel>, shape_rules::split, graph::kNoTraits, 1, 17);  // 18 adds num_outputs
  registry.add("Transpose", make_kernel<TransposeKernel>, shape_rules::transpose, graph::kNoTraits, 1);
  registry.add("Tile", make_kernel<TileKernel>, shape_rules::tile, graph::kNoTraits, 6);
  registry.add("DepthToSpace", make_kernel<DepthToSpaceKernel>, shape_rules::depth_to_space, graph::kNoTraits, 1);
  registry.add("SpaceToDepth", make_kernel<SpaceToDepthKernel>, shape_rules::space_to_depth, graph::kNoTraits, 1);
  register_indexing_ops(registry);
  register_cast_ops(registry);
  register_pad_ops(registry);
}

}  // namespace kiln
