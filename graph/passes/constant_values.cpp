#include "graph/passes/constant_values.h"

namespace kiln::graph {

std::optional<float> single_float(const Tensor* t) {
  if (!t || t->dtype() != DataType::kFloat32 || t->size() != 1) return std::nullopt;
  return t->data<float>()[0];
}

std::optional<std::vector<float>> per_channel_floats(const Tensor* t, int64_t channels, size_t rank) {
  if (!t || t->dtype() != DataType::kFloat32 || t->rank() > rank || rank < 2 || channels < 1) return std::nullopt;
  const size_t lead = rank - t->rank();  // output axes t does not cover
  for (size_t j = 0; j < t->rank(); ++j) {
    const bool channel_axis = lead + j == 1;
    if (t->dim(j) != 1 && !(channel_axis && t->dim(j) == channels)) return std::nullopt;
  }
  const float* values = t->data<float>();
  std::vector<float> out(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) out[static_cast<size_t>(c)] = values[t->size() == 1 ? 0 : c];
  return out;
}

}  // namespace kiln::graph
