#include "graph/fix_input_shapes.h"

#include <algorithm>

#include "kiln/error.h"

namespace kiln::graph {

namespace {

std::string input_names(const Graph& g) {
  std::string names;
  for (const ValueInfo& v : g.inputs) names += (names.empty() ? "" : ", ") + v.name;
  return names.empty() ? "none" : names;
}

void fix_one_input(Graph& g, const std::string& name, const Shape& shape) {
  auto it = std::find_if(g.inputs.begin(), g.inputs.end(), [&](const ValueInfo& v) { return v.name == name; });
  if (it == g.inputs.end())
    fail("a shape was given for input '", name, "', but the model has no such input (inputs: ", input_names(g), ")");
  for (int64_t d : shape)
    if (d < 0) fail("the shape given for input '", name, "' has a negative dimension");
  element_count(shape);  // rejects overflow
  if (it->has_shape) {
    if (it->dims.size() != shape.size())
      fail("input '", name, "' has rank ", it->dims.size(), " (", it->shape_string(), "), the shape given is ",
           shape_to_string(shape));
    for (size_t i = 0; i < shape.size(); ++i)
      if (it->dims[i].is_fixed() && it->dims[i].value != shape[i])
        fail("input '", name, "' has fixed dimension ", i, " = ", it->dims[i].value, " (", it->shape_string(),
             "), the shape given is ", shape_to_string(shape));
  }
  it->has_shape = true;
  it->dims.assign(shape.size(), Dim{});
  for (size_t i = 0; i < shape.size(); ++i) it->dims[i].value = shape[i];
}

}  // namespace

void fix_input_shapes(Graph& g, const std::map<std::string, Shape>& input_shapes,
                      const std::map<std::string, int64_t>& dim_values) {
  for (const auto& [name, shape] : input_shapes) fix_one_input(g, name, shape);
  for (const auto& [symbol, value] : dim_values) {
    if (value < 0) fail("dimension '", symbol, "' was given the negative value ", value);
    bool used = false;
    for (ValueInfo& v : g.inputs)
      for (Dim& d : v.dims)
        if (!d.is_fixed() && d.symbol == symbol) {
          d.value = value;
          used = true;
        }
    if (!used) fail("no model input has a dimension named '", symbol, "'");
  }
}

void set_batch(Graph& g, int64_t batch) {
  if (batch < 1) fail("the batch size must be at least 1, got ", batch);
  for (ValueInfo& v : g.inputs) {
    if (!v.has_shape || v.dims.empty()) continue;
    if (!v.dims[0].is_fixed() && !v.dims[0].symbol.empty()) {
      const std::string symbol = v.dims[0].symbol;
      for (ValueInfo& other : g.inputs)
        for (Dim& d : other.dims)
          if (!d.is_fixed() && d.symbol == symbol) d.value = batch;
    }
    v.dims[0].value = batch;
  }
}

}  // namespace kiln::graph
