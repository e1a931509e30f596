#include "runtime/node_arity.h"

#include <onnx/defs/schema.h>

#include <climits>
#include <string>

#include "graph/pass.h"
#include "kiln/error.h"
#include "runtime/op_registry.h"

namespace kiln {

namespace {

using graph::Arity;

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

std::optional<Arity> find_arity(const std::string& domain, const std::string& op_type, int64_t opset) {
  // kiln's own ops state theirs in their record; ONNX's come from its schemas.
  if (const graph::OpSchema* record = OpRegistry::global().find(domain, op_type, opset); record && record->arity)
    return *record->arity;
  if (domain == graph::kKilnDomain) return std::nullopt;
  if (opset <= 0 || opset > INT_MAX) return std::nullopt;
  const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(op_type, static_cast<int>(opset),
                                                                domain.empty() ? onnx::ONNX_DOMAIN : domain);
  if (!schema) return std::nullopt;
  return Arity{schema->min_input(), schema->max_input(), schema->min_output(), schema->max_output(),
               leading_required(schema->inputs()), leading_required(schema->outputs())};
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

std::optional<graph::Arity> op_arity(const std::string& domain, const std::string& op_type, int64_t opset) {
  return find_arity(domain, op_type, opset);
}

int onnx_latest_opset() {
  const auto& ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = ranges.find(onnx::ONNX_DOMAIN);
  return it == ranges.end() ? 0 : it->second.second;
}

std::vector<int> onnx_op_versions(const std::string& op_type) {
  std::vector<int> versions;
  for (int opset = onnx_latest_opset(); opset >= 1;) {
    const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(op_type, opset, onnx::ONNX_DOMAIN);
    if (!schema) break;
    versions.insert(versions.begin(), schema->since_version());
    opset = schema->since_version() - 1;
  }
  return versions;
}

void check_node_arity(const graph::Node& node) {
  const std::optional<Arity> found = find_arity(node.domain, node.op_type, node.opset);
  if (!found) return;
  const Arity& arity = *found;
  check_side(node, node.inputs, arity.min_inputs, arity.max_inputs, arity.required_inputs, "input");
  check_side(node, node.outputs, arity.min_outputs, arity.max_outputs, arity.required_outputs, "output");
}

}  // namespace kiln
