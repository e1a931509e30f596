#include "runtime/node_arity.h"

#include <onnx/defs/schema.h>

#include <climits>
#include <string>

#include "graph/pass.h"
#include "kiln/error.h"

namespace kiln {

namespace {

struct Arity {
  int min_inputs, max_inputs, min_outputs, max_outputs;
  // Inputs (and outputs) before this index that may not be omitted.
  int required_inputs, required_outputs;
};

// "2", "1 to 3", "1 or more".
std::string count_range(int low, int high) {
  if (low == high) return std::to_string(low);
  if (high == INT_MAX) return std::to_string(low) + " or more";
  return std::to_string(low) + " to " + std::to_string(high);
}

// How many leading formal parameters must be given: those before the first
// optional one (a variadic parameter needs at least its min_arity).
template <class Params>
int leading_required(const Params& params) {
  int n = 0;
  for (const auto& p : params) {
    if (p.GetOption() == onnx::OpSchema::FormalParameterOption::Optional) break;
    ++n;
    if (p.GetOption() == onnx::OpSchema::FormalParameterOption::Variadic) break;
  }
  return n;
}

bool find_arity(const graph::Node& node, Arity& arity) {
  if (node.domain == graph::kKilnDomain) {
    if (node.op_type == "FusedConv") {
      arity = {2, 3, 1, 1, 2, 1};
      return true;
    }
    return false;
  }
  if (node.opset <= 0 || node.opset > INT_MAX) return false;
  const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(node.op_type, static_cast<int>(node.opset),
                                                                node.domain.empty() ? onnx::ONNX_DOMAIN : node.domain);
  if (!schema) return false;
  arity = {schema->min_input(), schema->max_input(), schema->min_output(), schema->max_output(),
           leading_required(schema->inputs()), leading_required(schema->outputs())};
  return true;
}

void check_side(const graph::Node& node, const std::vector<std::string>& names, int low, int high, int required,
                const char* side) {
  const auto count = static_cast<long long>(names.size());
  if (count < low || count > high)
    fail(node.describe(), " has ", count, " ", side, count == 1 ? "" : "s", "; ", node.op_type, " (opset ",
         node.opset, ") takes ", count_range(low, high));
  for (int i = 0; i < required && i < count; ++i)
    if (names[static_cast<size_t>(i)].empty())
      fail(node.describe(), ": ", side, " ", i, " is required by ", node.op_type, " but omitted (empty name)");
}

}  // namespace

void check_node_arity(const graph::Node& node) {
  Arity arity{};
  if (!find_arity(node, arity)) return;
  check_side(node, node.inputs, arity.min_inputs, arity.max_inputs, arity.required_inputs, "input");
  check_side(node, node.outputs, arity.min_outputs, arity.max_outputs, arity.required_outputs, "output");
}

}  // namespace kiln
