// com.kiln FusedConv (docs/fused_ops.md): a Conv with its activation, a
// per-channel output affine and reflect padding folded in. Its record: the
// Conv kernel, Conv's shape rule, its arity, and its expansion into standard
// ONNX (for `kiln optimize --standard-only`):
//
//   activation          standard ops after y = Conv(...)
//   (none)              -
//   Relu, Sigmoid       Relu(y), Sigmoid(y)
//   LeakyRelu [a]       LeakyRelu(y, alpha a)
//   HardSigmoid [a, b]  HardSigmoid(y, alpha a, beta b)
//   Clip [lo, hi]       Clip(y, lo, hi): scalar initializer inputs from opset 11
//                       (an infinite bound is omitted), attributes before
//   HardSwish [a, b]    HardSwish(y) when the opset has it (14+) and [a, b] is
//                       [1/6, 1/2]; else Mul(y, HardSigmoid(y, alpha a, beta b))
//   Swish               Mul(y, Sigmoid(y))
//   then output_scale   Mul(f, scale), Add(..., shift): equal values as one
//   and output_shift    scalar, else per-channel values shaped [M, 1, ...]
//                       (skipped when all scales are 1 / all shifts 0)
//
//   pad_mode reflect    Pad(x, mode reflect, the spatial pads) before the Conv,
//                       which then has no pads
//
// The Conv keeps the FusedConv's name and inputs; the last node takes over its
// output. kiln::Error naming the node for an unknown activation, a wrong
// number of activation_params, or output_scale without output_shift.
#include <algorithm>
#include <functional>

#include "graph/expansion_builder.h"
#include "graph/pass.h"
#include "runtime/op_registry.h"
#include "runtime/ops/conv.h"

namespace kiln {

namespace {

using graph::ExpansionBuilder;
using graph::Node;

// fuse_conv_output_affine stores one value per channel even for a scalar
// constant; written back, equal values are one scalar again.
std::vector<float> one_if_uniform(const std::vector<float>& values) {
  if (std::adjacent_find(values.begin(), values.end(), std::not_equal_to<float>()) == values.end())
    return {values.front()};
  return values;
}

// A Pad(x, reflect) with the FusedConv's spatial pads; returns its output.
std::string reflect_pad(const Node& fused, const std::string& x, ExpansionBuilder& b) {
  const std::vector<int64_t> pads = fused.attr_ints("pads", std::vector<int64_t>(4, 0));
  if (pads.size() != 4) fail(fused.describe(), ": pad_mode 'reflect' needs 4 pads (a 2-D conv), got ", pads.size());
  const std::vector<int64_t> all = {0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]};
  const std::string padded = b.editor().unique_name(x + "_reflect_padded");
  graph::Attribute mode;
  mode.kind = graph::Attribute::Kind::kString;
  mode.s = "reflect";
  if (b.opset() < 11) {
    Node& n = b.add_named("Pad", {x}, padded);
    n.attrs["mode"] = mode;
    n.attrs["pads"] = ExpansionBuilder::ints_attr(all);
    return padded;
  }
  Tensor t(DataType::kInt64, {8});
  std::copy(all.begin(), all.end(), t.data<int64_t>());
  Node& n = b.add_named("Pad", {x, b.editor().add_initializer(fused.name + "_pads", std::move(t))}, padded);
  n.attrs["mode"] = mode;
  return padded;
}

// z * scale + shift -> output, the per-channel constants shaped [M, 1, ...]
// (one 1 per spatial axis of the Conv, from W's rank) so they broadcast
// along the channel axis; one value becomes a scalar. Empty = not needed.
void output_affine(const Node& fused, const std::string& z, const std::vector<float>& scale,
                   const std::vector<float>& shift, const std::string& output, ExpansionBuilder& b) {
  auto constant_shape = [&](size_t values) -> Shape {
    if (values == 1) return {};
    const Tensor* w = fused.inputs.size() > 1 ? b.editor().constant(fused.inputs[1]) : nullptr;
    if (!w || w->rank() < 3)
      fail(fused.describe(), ": per-channel output_scale/output_shift need the weight W as an initializer of rank "
           ">= 3 to be written in standard ops");
    Shape shape(w->rank() - 1, 1);
    shape[0] = static_cast<int64_t>(values);
    return shape;
  };
  std::string value = z;
  if (!scale.empty()) {
    const std::string c = b.editor().add_initializer(fused.name + "_output_scale",
                                                     Tensor::from_floats(constant_shape(scale.size()), scale));
    const std::string scaled = shift.empty() ? output : b.editor().unique_name(output + "_scaled");
    b.add_named("Mul", {value, c}, scaled);
    value = scaled;
  }
  if (!shift.empty()) {
    const std::string c = b.editor().add_initializer(fused.name + "_output_shift",
                                                     Tensor::from_floats(constant_shape(shift.size()), shift));
    b.add_named("Add", {value, c}, output);
  }
}

void expand_fused_conv(const Node& fused, ExpansionBuilder& b) {
  const std::string activation = fused.attr_string("activation", "");
  const std::vector<float> params = fused.attr_floats("activation_params");
  const size_t wanted = ExpansionBuilder::activation_param_count(activation);
  if (wanted == SIZE_MAX) fail(fused.describe(), ": unknown activation '", activation, "'");
  if (params.size() != wanted)
    fail(fused.describe(), ": activation '", activation, "' takes ", wanted, " activation_params, got ",
         params.size());
  if (fused.outputs.size() != 1 || fused.outputs[0].empty())
    fail(fused.describe(), ": FusedConv has ", fused.outputs.size(), " outputs, expected 1");

  const std::vector<float> scale = fused.attr_floats("output_scale");
  const std::vector<float> shift = fused.attr_floats("output_shift");
  if (scale.size() != shift.size())
    fail(fused.describe(), ": output_scale and output_shift come together, got ", scale.size(), " and ",
         shift.size(), " values");
  const bool scales = std::any_of(scale.begin(), scale.end(), [](float v) { return v != 1.0f; });
  const bool shifts = std::any_of(shift.begin(), shift.end(), [](float v) { return v != 0.0f; });

  // The activation (then the scale, then the shift) writes `z` when it is the last step.
  const std::string result = fused.outputs[0];
  const std::string z = scales || shifts ? b.editor().unique_name(result + "_activation") : result;
  std::vector<std::string> conv_inputs = fused.inputs;
  const std::string pad_mode = fused.attr_string("pad_mode", "constant");
  if (pad_mode != "constant" && pad_mode != "reflect") fail(fused.describe(), ": unknown pad_mode '", pad_mode, "'");
  if (pad_mode == "reflect" && !conv_inputs.empty()) conv_inputs[0] = reflect_pad(fused, conv_inputs[0], b);
  Node& conv = b.add(fused.name, "Conv", conv_inputs, activation.empty() ? z : b.editor().unique_name(z + "_conv"));
  conv.attrs = fused.attrs;
  for (const char* key : {"activation", "activation_params", "output_scale", "output_shift", "pad_mode"})
    conv.attrs.erase(key);
  if (pad_mode == "reflect") conv.attrs.erase("pads");  // the Pad node has them
  const std::string y = conv.outputs[0];
  b.activation(activation, params, y, z);
  if (scales || shifts)
    output_affine(fused, z, scales ? one_if_uniform(scale) : std::vector<float>{},
                  shifts ? one_if_uniform(shift) : std::vector<float>{}, result, b);
}

}  // namespace

void register_fused_conv_ops(OpRegistry& registry) {
  // X, W, optional B -> Y
  registry.add_kiln_op("FusedConv", make_conv_kernel, shape_rules::conv, graph::Arity{2, 3, 1, 1, 2, 1},
                       expand_fused_conv);
}

}  // namespace kiln
