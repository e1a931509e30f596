// ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp over any set
// of axes of a row-major tensor, for one range of outputs at a time (the
// caller threads over output ranges).
//
// A reduction first merges neighbouring dims that are all reduced or all
// kept (they are contiguous), so each output element walks its inputs as
// (a list of offsets of the outer reduced dims) x (the innermost reduced dim).
// Floating-point sums accumulate in double. Integer sums and products wrap
// around (as numpy's do); integer results of L2/LogSum/LogSumExp saturate and
// NaN gives 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln::kernels {

enum class ReduceKind { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kSumSquare, kLogSum, kLogSumExp };

// Where the inputs of each output element are.
struct ReductionPlan {
  std::vector<int64_t> output_shape;     // the input shape with reduced dims dropped (or 1 with keepdims)
  int64_t outputs = 0;
  int64_t reduced_count = 1;             // inputs per output
  std::vector<int64_t> kept_sizes;       // merged kept dims, outer to inner
  std::vector<int64_t> kept_strides;     // their input strides
  int64_t inner_count = 1;               // innermost reduced (merged) dim
  int64_t inner_stride = 1;
  std::vector<int64_t> outer_offsets{0};  // offsets of every combination of the other reduced dims

  int64_t base_offset(int64_t output) const {
    int64_t offset = 0;
    for (size_t i = kept_sizes.size(); i-- > 0;) {
      offset += (output % kept_sizes[i]) * kept_strides[i];
      output /= kept_sizes[i];
    }
    return offset;
  }
};

// reduced[d]: whether dim d of `shape` is reduced (same size as shape).
ReductionPlan plan_reduction(const std::vector<int64_t>& shape, const std::vector<bool>& reduced, bool keepdims);

// y[o] = the reduction of output o's inputs, for o in [begin, end); y holds
// plan.outputs values in row-major order of the kept dims. Instantiated for
// float, double, int32_t, int64_t, uint32_t, uint64_t, int8_t and uint8_t.
template <class T>
void reduce_outputs(ReduceKind kind, const ReductionPlan& plan, const T* x, int64_t begin, int64_t end, T* y);

// The plain reference twin of reduce_outputs<float>: every output at once,
// straight from the definition (sums, products and the log/exp forms in
// double, no max shift for LogSumExp). Mean of nothing is NaN, as 0/0.
void f32_reduce_reference(ReduceKind kind, const std::vector<int64_t>& shape, const std::vector<bool>& reduced,
                          const float* x, float* y);

}  // namespace kiln::kernels
