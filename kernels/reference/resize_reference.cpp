// The reference twin of every resize path: follows the tap tables literally.
//
// Layout: contiguous row-major tensors of plan.in_shape / plan.out_shape.
// Each output element is the sum over all tap combinations of
// product(weights) * input, computed in double; if any axis marks the output
// as outside, it is the extrapolation value instead.
#include <algorithm>
#include <vector>

#include "kernels/convert_elements.h"
#include "kernels/data_movement.h"
#include "kernels/resize.h"

namespace kiln::kernels {

void resize_reference(const ResizePlan& plan, const void* src, void* dst, DataType type) {
  const size_t rank = plan.axes.size();
  int64_t in_count = 1, out_count = 1;
  for (size_t k = 0; k < rank; ++k) {
    in_count *= plan.in_shape[k];
    out_count *= plan.out_shape[k];
  }
  if (out_count == 0) return;
  std::vector<double> input(static_cast<size_t>(in_count)), output(static_cast<size_t>(out_count));
  convert_elements(src, type, input.data(), DataType::kFloat64, in_count);
  const std::vector<int64_t> in_strides = contiguous_strides(plan.in_shape);

  std::vector<int64_t> position(rank, 0);  // output coordinate
  std::vector<int64_t> tap(rank, 0);       // current tap per axis
  // Steps `tap` like an odometer; false once every combination was visited.
  auto next_tap = [&]() {
    for (size_t k = rank; k-- > 0;) {
      if (++tap[k] < plan.axes[k].taps) return true;
      tap[k] = 0;
    }
    return false;
  };
  for (int64_t i = 0; i < out_count; ++i) {
    bool outside = false;
    for (size_t k = 0; k < rank; ++k) outside = outside || plan.axes[k].outside[static_cast<size_t>(position[k])];
    double value = plan.extrapolation_value;
    if (!outside) {
      value = 0;
      std::fill(tap.begin(), tap.end(), 0);
      for (;;) {
        double weight = 1;
        int64_t offset = 0;
        for (size_t k = 0; k < rank; ++k) {
          const ResizeAxisTable& axis = plan.axes[k];
          const size_t at = static_cast<size_t>(position[k] * axis.taps + tap[k]);
          weight *= axis.weight[at];
          offset += axis.index[at] * in_strides[k];
        }
        value += weight * input[static_cast<size_t>(offset)];
        if (!next_tap()) break;
      }
    }
    output[static_cast<size_t>(i)] = value;
    for (size_t k = rank; k-- > 0;) {
      if (++position[k] < plan.out_shape[k]) break;
      position[k] = 0;
    }
  }
  convert_elements(output.data(), DataType::kFloat64, dst, type, out_count);
}

}  // namespace kiln::kernels
