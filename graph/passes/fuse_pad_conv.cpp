#include "graph/passes/fuse_pad_conv.h"

#include <optional>
#include <string>
#include <vector>

#include "graph/graph_editor.h"
#include "graph/pass.h"
#include "graph/passes/constant_values.h"

namespace kiln::graph {

namespace {

// The Pad's pads (2 x rank values, begins then ends) and whether it mirrors;
// nullopt when it is not a fusable Pad.
struct PadSpec {
  std::vector<int64_t> pads;
  bool reflect = false;
};

std::optional<std::vector<int64_t>> constant_ints(const Tensor* t) {
  if (!t || t->rank() != 1) return std::nullopt;
  std::vector<int64_t> values;
  for (int64_t i = 0; i < t->size(); ++i) {
    if (t->dtype() == DataType::kInt64) values.push_back(t->data<int64_t>()[i]);
    else if (t->dtype() == DataType::kInt32) values.push_back(t->data<int32_t>()[i]);
    else return std::nullopt;
  }
  return values;
}

std::optional<PadSpec> pad_spec(const GraphEditor& editor, const Node& pad) {
  if (!pad.domain.empty() || pad.op_type != "Pad" || pad.outputs.size() != 1 || pad.inputs.empty()) return std::nullopt;
  PadSpec spec;
  const std::string mode = pad.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect") return std::nullopt;
  spec.reflect = mode == "reflect";
  if (pad.opset < 11) {
    if (pad.inputs.size() != 1 || (!spec.reflect && pad.attr_float("value", 0.0f) != 0.0f)) return std::nullopt;
    spec.pads = pad.attr_ints("pads");
  } else {
    if (pad.inputs.size() < 2 || pad.inputs.size() > 4) return std::nullopt;
    if (pad.inputs.size() == 4 && !pad.inputs[3].empty()) return std::nullopt;  // axes (opset 18)
    std::optional<std::vector<int64_t>> pads = constant_ints(editor.constant(pad.inputs[1]));
    if (!pads) return std::nullopt;
    spec.pads = *pads;
    if (!spec.reflect && pad.inputs.size() >= 3 && !pad.inputs[2].empty()) {
      std::optional<float> value = single_float(editor.constant(pad.inputs[2]));
      if (!value || *value != 0.0f) return std::nullopt;
    }
  }
  if (spec.pads.size() != 8 || spec.pads[0] != 0 || spec.pads[1] != 0 || spec.pads[4] != 0 || spec.pads[5] != 0)
    return std::nullopt;
  for (int64_t p : spec.pads)
    if (p < 0) return std::nullopt;
  return spec;
}

bool is_fusable_conv(const GraphEditor& editor, const Node& conv, const std::string& padded, bool reflect) {
  const bool plain = conv.domain.empty() && conv.op_type == "Conv";
  const bool fused = conv.domain == kKilnDomain && conv.op_type == "FusedConv" && !conv.has_attr("pad_mode");
  if ((!plain && !fused) || conv.inputs.size() < 2 || conv.inputs[0] != padded || conv.inputs[1] == padded)
    return false;
  const std::string auto_pad = conv.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") return false;
  const Tensor* weight = editor.constant(conv.inputs[1]);
  if (!weight || weight->dtype() != DataType::kFloat32 || weight->rank() != 4) return false;
  const std::vector<int64_t> pads = conv.attr_ints("pads", std::vector<int64_t>(4, 0));
  if (pads.size() != 4) return false;
  if (reflect) {
    for (int64_t p : pads)
      if (p != 0) return false;
    if (weight->dim(1) == 1) return false;  // depthwise (or one channel per group): zero padding only
  }
  return true;
}

}  // namespace

size_t fuse_pad_conv(Graph& g) {
  GraphEditor editor(g);
  size_t fused = 0;
  for (size_t n = 0; n < editor.node_count(); ++n) {
    if (editor.is_removed(n)) continue;
    std::optional<PadSpec> spec = pad_spec(editor, editor.node(n));
    if (!spec) continue;
    const std::string padded = editor.node(n).outputs[0];
    std::optional<size_t> reader = editor.sole_reader(padded);
    if (!reader || !is_fusable_conv(editor, editor.node(*reader), padded, spec->reflect)) continue;
    const std::string x = editor.node(n).inputs[0];
    editor.remove_node(n);
    Node& conv = editor.node(*reader);
    std::vector<int64_t> pads = conv.attr_ints("pads", std::vector<int64_t>(4, 0));
    pads[0] += spec->pads[2];  // top
    pads[1] += spec->pads[3];  // left
    pads[2] += spec->pads[6];  // bottom
    pads[3] += spec->pads[7];  // right
    Attribute pads_attr;
    pads_attr.kind = Attribute::Kind::kInts;
    pads_attr.ints = pads;
    conv.attrs["pads"] = pads_attr;
    conv.attrs.erase("auto_pad");
    if (spec->reflect) {
      conv.op_type = "FusedConv";
      conv.domain = kKilnDomain;
      conv.opset = kKilnOpset;
      Attribute mode;
      mode.kind = Attribute::Kind::kString;
      mode.s = "reflect";
      conv.attrs["pad_mode"] = mode;
      g.opsets[kKilnDomain] = kKilnOpset;
    }
    editor.set_input(*reader, 0, x);
    ++fused;
  }
  editor.commit();
  return fused;
}

}  // namespace kiln::graph
