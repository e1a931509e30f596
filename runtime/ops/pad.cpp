// Pad: constant, reflect and edge modes; negative pads crop.
//
// Before opset 11 pads and value are attributes; from 11 they are inputs
// (pads, optional constant_value). The output is built from one source-index
// table per axis (kernels::gather_by_axis_tables), -1 marking padded places.
#include <cstring>
#include <optional>

#include "kernels/convert_elements.h"
#include "kernels/data_movement.h"
#include "platform/checked_math.h"
#include "runtime/op_registry.h"
#include "runtime/ops/shape_util.h"
#include "runtime/ops/tensor_groups.h"

namespace kiln {

namespace {

using graph::Node;

enum class PadMode { kConstant, kReflect, kEdge };

// Index into [0, dim) mirrored at both ends without repeating the edge
// (numpy "reflect"), for any distance outside.
int64_t reflect_index(int64_t i, int64_t dim) {
  if (dim == 1) return 0;
  const int64_t period = 2 * (dim - 1);
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < dim ? m : period - m;
}

class PadKernel : public OpKernel {
 public:
  explicit PadKernel(const KernelInit& init) : attribute_form_(init.opset() < 11) {
    const Node& node = init.node();
    const std::string mode = node.attr_string("mode", "constant");
    if (mode == "constant") mode_ = PadMode::kConstant;
    else if (mode == "reflect") mode_ = PadMode::kReflect;
    else if (mode == "edge") mode_ = PadMode::kEdge;
    else fail(node.describe(), ": unsupported pad mode '", mode, "' (constant, reflect and edge are)");

    if (attribute_form_) {
      const char* name = init.opset() < 2 ? "paddings" : "pads";  // Pad-1 called them paddings
      node.required_attr(name);
      pads_ = node.attr_ints(name);
      value_ = node.attr_float("value", 0.0f);
    } else {
      if (!init.has_input(1)) fail(node.describe(), ": Pad needs the pads input");
      if (const Tensor* pads = init.constant_input(1)) pads_ = ops::read_int_list(*pads, node, "pads");
    }
  }

  void run(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const Tensor& input = ctx.required_input(0);
    const std::vector<int64_t> pads = pads_ ? *pads_ : ops::read_int_list(ctx.required_input(1), node, "pads");
    const size_t rank = input.rank();
    if (pads.size() != 2 * rank)
      fail(node.describe(), ": ", pads.size(), " pads for input shape ", shape_to_string(input.shape()),
           " (need ", 2 * rank, ")");

    Shape out_shape(rank);
    for (size_t k = 0; k < rank; ++k) {
      const int64_t dim = input.dim(k), before = pads[k], after = pads[k + rank];
      const std::optional<int64_t> padded = checked::try_add(dim, before);
      const std::optional<int64_t> total = padded ? checked::try_add(*padded, after) : std::nullopt;
      if (!total) fail(node.describe(), ": pads ", shape_to_string(pads), " overflow the output shape");
      out_shape[k] = *total;
      if (out_shape[k] < 0 || before < -dim || after < -dim)
        fail(node.describe(), ": pads ", shape_to_string(pads), " crop more than input shape ",
             shape_to_string(input.shape()), " holds");
      if (mode_ != PadMode::kConstant && dim == 0 && out_shape[k] > 0)
        fail(node.describe(), ": cannot ", mode_ == PadMode::kEdge ? "edge" : "reflect", "-pad an empty axis");
    }
    // The output first: its allocation checks the element count and the
    // memory budget before the per-axis tables (one entry per output index).
    const DataType type = input.dtype();
    Tensor& out = ctx.allocate_output(0, type, out_shape);
    if (out.size() == 0) return;
    std::vector<std::vector<int64_t>> tables(rank);
    for (size_t k = 0; k < rank; ++k) {
      const int64_t dim = input.dim(k), before = pads[k];
      std::vector<int64_t>& table = tables[k];
      table.resize(static_cast<size_t>(out_shape[k]));
      for (int64_t o = 0; o < out_shape[k]; ++o) {
        const int64_t i = o - before;
        int64_t source;
        if (i >= 0 && i < dim) source = i;
        else if (mode_ == PadMode::kConstant) source = -1;
        else if (mode_ == PadMode::kEdge) source = i < 0 ? 0 : dim - 1;
        else source = reflect_index(i, dim);
        table[static_cast<size_t>(o)] = source;
      }
    }

    unsigned char fill[8] = {};
    if (attribute_form_) {
      kernels::store_double_as(value_, type, fill);
    } else if (const Tensor* value = ctx.input(2); value && value->size() > 0) {
      if (value->size() != 1)
        fail(node.describe(), ": constant_value must be a scalar, got shape ", shape_to_string(value->shape()));
      kernels::convert_elements(value->raw(), value->dtype(), fill, type, 1);
    }
    kernels::gather_by_axis_tables(out.raw(), input.raw(), element_size(type), input.shape(), tables, fill,
                                   ctx.threads());
  }

 private:
  bool attribute_form_;
  PadMode mode_ = PadMode::kConstant;
  std::optional<std::vector<int64_t>> pads_;
  float value_ = 0.0f;
};

}  // namespace

void register_pad_ops(OpRegistry& registry) {
  registry.add("Pad", make_kernel<PadKernel>, shape_rules::pad, graph::kNoTraits, 1, 17);  // 18 adds the axes input
}

}  // namespace kiln
