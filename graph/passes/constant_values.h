// Reading small constants the way fusion patterns need them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::graph {

// The value of a float32 tensor holding exactly one element (of any rank).
std::optional<float> single_float(const Tensor* t);

// `channels` values when float32 `t` broadcasts onto an N x C x ... tensor of
// rank `rank` (C = `channels`) without changing its shape and varies at most
// along C: every dim of `t` is 1 except the one aligned with axis 1, which may
// be C. So scalar, [1], [C,1,1], [1,C,1,1] fit a rank-4 output; [C] does not
// (it aligns with the last axis), nor does [1,1,1,1,1]. A value that is the
// same for all channels is repeated.
std::optional<std::vector<float>> per_channel_floats(const Tensor* t, int64_t channels, size_t rank);

}  // namespace kiln::graph
