#include "graph/passes/fuse_conv_output_affine.h"

#include <optional>
#include <string>
#include <vector>

#include "graph/graph_editor.h"
#include "graph/pass.h"
#include "graph/passes/constant_values.h"

namespace kiln::graph {

namespace {

// A FusedConv with an activation and a constant weight: the channel count
// and the output rank, which the constant's shape is checked against.
struct AffineTarget {
  int64_t channels;
  size_t rank;
};

std::optional<AffineTarget> affine_target(const GraphEditor& editor, const Node& node) {
  if (node.domain != kKilnDomain || node.op_type != "FusedConv" || node.outputs.size() != 1 ||
      node.outputs[0].empty() || node.inputs.size() < 2 || node.attr_string("activation", "").empty())
    return std::nullopt;
  const Tensor* weight = editor.constant(node.inputs[1]);
  if (!weight || weight->dtype() != DataType::kFloat32 || weight->rank() < 3) return std::nullopt;
  return AffineTarget{weight->dim(0), weight->rank()};
}

// What `op` (reading y) does per channel: z = y * factor + addend.
struct ChannelAffine {
  std::vector<float> factor, addend;
};

std::optional<ChannelAffine> channel_affine(const GraphEditor& editor, const Node& op, const std::string& y,
                                            const AffineTarget& target) {
  if (!op.domain.empty() || op.inputs.size() != 2 || op.outputs.size() != 1 || op.outputs[0].empty())
    return std::nullopt;
  const bool y_first = op.inputs[0] == y;
  const std::string& other = y_first ? op.inputs[1] : op.inputs[0];
  if (other == y) return std::nullopt;  // y op y
  const bool commutes = op.op_type == "Mul" || op.op_type == "Add";
  if (!commutes && !y_first) return std::nullopt;  // c / y, c - y
  if (!commutes && op.op_type != "Div" && op.op_type != "Sub") return std::nullopt;
  std::optional<std::vector<float>> values = per_channel_floats(editor.constant(other), target.channels, target.rank);
  if (!values) return std::nullopt;
  ChannelAffine affine{std::vector<float>(values->size(), 1.0f), std::vector<float>(values->size(), 0.0f)};
  for (size_t m = 0; m < values->size(); ++m) {
    const float v = (*values)[m];
    if (op.op_type == "Mul") affine.factor[m] = v;
    if (op.op_type == "Div") {
      if (v == 0.0f) return std::nullopt;
      affine.factor[m] = 1.0f / v;
    }
    if (op.op_type == "Add") affine.addend[m] = v;
    if (op.op_type == "Sub") affine.addend[m] = -v;
  }
  return affine;
}

// The node's output_scale / output_shift expanded to `channels` values.
std::vector<float> channel_values(const Node& node, const char* key, float fallback, int64_t channels) {
  std::vector<float> values = node.attr_floats(key);
  if (values.empty()) values = {fallback};
  if (values.size() == 1) values.assign(static_cast<size_t>(channels), values[0]);
  return values;
}

void set_floats(Node& node, const char* key, std::vector<float> values) {
  Attribute attribute;
  attribute.kind = Attribute::Kind::kFloats;
  attribute.floats = std::move(values);
  node.attrs[key] = std::move(attribute);
}

}  // namespace

size_t fuse_conv_output_affine(Graph& g) {
  GraphEditor editor(g);
  size_t fused = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    if (editor.is_removed(n)) continue;
    std::optional<AffineTarget> target = affine_target(editor, editor.node(n));
    if (!target) continue;
    // A chain (Mul then Add, ...) folds link by link.
    while (true) {
      const std::string y = editor.node(n).outputs[0];
      std::optional<size_t> reader = editor.sole_reader(y);
      if (!reader) break;
      std::optional<ChannelAffine> affine = channel_affine(editor, editor.node(*reader), y, *target);
      if (!affine) break;
      Node& conv = editor.node(n);
      std::vector<float> scale = channel_values(conv, "output_scale", 1.0f, target->channels);
      std::vector<float> shift = channel_values(conv, "output_shift", 0.0f, target->channels);
      if (scale.size() != affine->factor.size() || shift.size() != affine->factor.size()) break;  // malformed attrs
      for (size_t m = 0; m < scale.size(); ++m) {
        scale[m] *= affine->factor[m];
        shift[m] = shift[m] * affine->factor[m] + affine->addend[m];
      }
      set_floats(conv, "output_scale", std::move(scale));
      set_floats(conv, "output_shift", std::move(shift));
      const std::string z = editor.node(*reader).outputs[0];
      editor.remove_node(*reader);
      editor.set_output(n, 0, z);
      ++fused;
    }
  }
  editor.commit();
  return fused;
}

}  // namespace kiln::graph
