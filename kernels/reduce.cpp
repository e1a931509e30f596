#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

#include "platform/checked_math.h"

namespace kiln::kernels {

ReductionPlan plan_reduction(const std::vector<int64_t>& shape, const std::vector<bool>& reduced, bool keepdims) {
  ReductionPlan plan;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d]) plan.output_shape.push_back(shape[d]);
    else if (keepdims) plan.output_shape.push_back(1);
  }
  // An empty input has nothing to visit, and its other dims may multiply
  // past int64: no runs, offsets or strides. The output is empty too unless
  // the 0 dims are all reduced; then each output is the reduction of nothing.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) {
    plan.reduced_count = 0;
    plan.outer_offsets.clear();
    const std::optional<int64_t> outputs = checked::try_product(plan.output_shape);
    if (!outputs)
      fail("the reduction of shape ", shape_to_string(shape), " would have ", shape_to_string(plan.output_shape),
           " outputs, more than fit in 64 bits");
    plan.outputs = *outputs;
    return plan;
  }
  plan.outputs = 1;
  for (int64_t size : plan.output_shape) plan.outputs *= size;

  // Merge runs of same-kind dims (size-1 dims change nothing and are skipped).
  struct Run { int64_t size; bool reduced; };
  std::vector<Run> runs;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!runs.empty() && runs.back().reduced == reduced[d]) runs.back().size *= shape[d];
    else runs.push_back({shape[d], reduced[d]});
  }
  std::vector<int64_t> strides(runs.size());
  int64_t stride = 1;
  for (size_t i = runs.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= runs[i].size;
  }
  std::vector<Run> reduced_runs;
  std::vector<int64_t> reduced_strides;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].reduced) {
      reduced_runs.push_back(runs[i]);
      reduced_strides.push_back(strides[i]);
      plan.reduced_count *= runs[i].size;
    } else {
      plan.kept_sizes.push_back(runs[i].size);
      plan.kept_strides.push_back(strides[i]);
    }
  }
  if (!reduced_runs.empty()) {
    plan.inner_count = reduced_runs.back().size;
    plan.inner_stride = reduced_strides.back();
    for (size_t i = 0; i + 1 < reduced_runs.size(); ++i) {
      std::vector<int64_t> next;
      for (int64_t base : plan.outer_offsets)
        for (int64_t k = 0; k < reduced_runs[i].size; ++k) next.push_back(base + k * reduced_strides[i]);
      plan.outer_offsets = std::move(next);
    }
  }
  return plan;
}

namespace {

// A double result as T: integers saturate and NaN gives 0 (a float-to-int
// cast outside the target's range is undefined behaviour).
template <class T>
T from_double(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (!(v == v)) return T{0};
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// The reduction of one output's inputs. Integer sums and products wrap
// around (as numpy's do): they are accumulated in uint64, since signed
// overflow would be undefined behaviour.
template <class T>
T reduce_one(ReduceKind kind, const T* x, const ReductionPlan& plan, int64_t base) {
  constexpr bool kFloating = std::is_floating_point_v<T>;
  using Sum = std::conditional_t<kFloating, double, uint64_t>;
  auto for_each_input = [&](auto&& visit) {
    for (int64_t offset : plan.outer_offsets) {
      const T* p = x + base + offset;
      for (int64_t i = 0; i < plan.inner_count; ++i) visit(p[i * plan.inner_stride]);
    }
  };
  const double count = static_cast<double>(plan.reduced_count);
  switch (kind) {
    case ReduceKind::kSum:
    case ReduceKind::kMean: {
      Sum sum = 0;
      for_each_input([&](T v) { sum += static_cast<Sum>(v); });
      if (kind == ReduceKind::kSum) return static_cast<T>(sum);
      if constexpr (kFloating) return static_cast<T>(sum / count);
      else if constexpr (std::is_signed_v<T>)
        return static_cast<T>(plan.reduced_count ? static_cast<int64_t>(sum) / plan.reduced_count : 0);
      else return static_cast<T>(plan.reduced_count ? sum / static_cast<uint64_t>(plan.reduced_count) : 0);
    }
    case ReduceKind::kMax: {
      T best = std::numeric_limits<T>::lowest();
      if constexpr (kFloating) best = -std::numeric_limits<T>::infinity();
      for_each_input([&](T v) { best = v > best || std::isnan(static_cast<double>(v)) ? v : best; });
      return best;
    }
    case ReduceKind::kMin: {
      T best = std::numeric_limits<T>::max();
      if constexpr (kFloating) best = std::numeric_limits<T>::infinity();
      for_each_input([&](T v) { best = v < best || std::isnan(static_cast<double>(v)) ? v : best; });
      return best;
    }
    case ReduceKind::kProd: {
      Sum product = 1;
      for_each_input([&](T v) { product *= static_cast<Sum>(v); });
      return static_cast<T>(product);
    }
    case ReduceKind::kL1: {
      Sum sum = 0;
      for_each_input([&](T v) {
        if constexpr (std::is_signed_v<T>) sum += v < 0 ? Sum{0} - static_cast<Sum>(v) : static_cast<Sum>(v);
        else sum += static_cast<Sum>(v);
      });
      return static_cast<T>(sum);
    }
    case ReduceKind::kSumSquare: {
      Sum sum = 0;
      for_each_input([&](T v) { sum += static_cast<Sum>(v) * static_cast<Sum>(v); });
      return static_cast<T>(sum);
    }
    case ReduceKind::kL2: {
      double sum = 0;
      for_each_input([&](T v) { sum += static_cast<double>(v) * static_cast<double>(v); });
      return from_double<T>(std::sqrt(sum));
    }
    case ReduceKind::kLogSum: {
      double sum = 0;
      for_each_input([&](T v) { sum += static_cast<double>(v); });
      return from_double<T>(std::log(sum));
    }
    case ReduceKind::kLogSumExp: {
      double largest = -std::numeric_limits<double>::infinity();
      for_each_input([&](T v) { largest = std::max(largest, static_cast<double>(v)); });
      if (std::isinf(largest)) return from_double<T>(largest);
      double sum = 0;
      for_each_input([&](T v) { sum += std::exp(static_cast<double>(v) - largest); });
      return from_double<T>(largest + std::log(sum));
    }
  }
  return T{};
}

// Reductions over outer dims with the innermost dim kept (NHWC's mean over
// H and W, a batch sum): output by output, each would walk the input with a
// large stride and every output would pull in the whole tensor's cache
// lines. Instead, outputs that are neighbours in the innermost kept dim (a
// contiguous run of lanes in every input row) are reduced together, row by
// row, in contiguous loops that vectorize, so the input is read once. Each
// lane sees its inputs in the same order as reduce_one, so the results are
// the same to the bit. Returns false for the kinds it does not handle.
template <class T>
bool reduce_lanes(ReduceKind kind, const ReductionPlan& plan, const T* x, int64_t begin, int64_t end, T* y) {
  if constexpr (!std::is_floating_point_v<T>) {
    return false;
  } else {
    if (kind != ReduceKind::kSum && kind != ReduceKind::kMean && kind != ReduceKind::kMax &&
        kind != ReduceKind::kMin && kind != ReduceKind::kSumSquare && kind != ReduceKind::kL1 &&
        kind != ReduceKind::kL2)
      return false;
    constexpr int64_t kLanes = 256;
    double acc[kLanes];
    const int64_t width = plan.kept_sizes.back();
    const double count = static_cast<double>(plan.reduced_count);
    for (int64_t o = begin; o < end;) {
      const int64_t lane = o % width;
      const int64_t n = std::min({end - o, width - lane, kLanes});
      const int64_t base = plan.base_offset(o);
      auto for_each_row = [&](auto&& visit) {
        for (int64_t offset : plan.outer_offsets)
          for (int64_t i = 0; i < plan.inner_count; ++i) visit(x + base + offset + i * plan.inner_stride);
      };
      switch (kind) {
        case ReduceKind::kMax:
        case ReduceKind::kMin: {
          T best[kLanes];
          const bool is_max = kind == ReduceKind::kMax;
          for (int64_t k = 0; k < n; ++k)
            best[k] = is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
          if (is_max)
            for_each_row([&](const T* row) {
              for (int64_t k = 0; k < n; ++k) best[k] = row[k] > best[k] || row[k] != row[k] ? row[k] : best[k];
            });
          else
            for_each_row([&](const T* row) {
              for (int64_t k = 0; k < n; ++k) best[k] = row[k] < best[k] || row[k] != row[k] ? row[k] : best[k];
            });
          for (int64_t k = 0; k < n; ++k) y[o + k] = best[k];
          break;
        }
        default: {
          for (int64_t k = 0; k < n; ++k) acc[k] = 0.0;
          if (kind == ReduceKind::kSumSquare || kind == ReduceKind::kL2)
            for_each_row([&](const T* row) {
              for (int64_t k = 0; k < n; ++k) acc[k] += static_cast<double>(row[k]) * static_cast<double>(row[k]);
            });
          else if (kind == ReduceKind::kL1)
            for_each_row([&](const T* row) {
              for (int64_t k = 0; k < n; ++k) acc[k] += static_cast<double>(std::abs(row[k]));
            });
          else
            for_each_row([&](const T* row) {
              for (int64_t k = 0; k < n; ++k) acc[k] += static_cast<double>(row[k]);
            });
          for (int64_t k = 0; k < n; ++k) {
            const double v = kind == ReduceKind::kMean ? acc[k] / count
                             : kind == ReduceKind::kL2 ? std::sqrt(acc[k])
                                                       : acc[k];
            y[o + k] = static_cast<T>(v);
          }
        }
      }
      o += n;
    }
    return true;
  }
}

}  // namespace

template <class T>
void reduce_outputs(ReduceKind kind, const ReductionPlan& plan, const T* x, int64_t begin, int64_t end, T* y) {
  const bool innermost_kept = !plan.kept_sizes.empty() && plan.kept_strides.back() == 1 && plan.kept_sizes.back() > 1;
  if (innermost_kept && plan.reduced_count > 1 && reduce_lanes<T>(kind, plan, x, begin, end, y)) return;
  for (int64_t o = begin; o < end; ++o) y[o] = reduce_one<T>(kind, x, plan, plan.base_offset(o));
}

#define KILN_REDUCE_INSTANCE(T) \
  template void reduce_outputs<T>(ReduceKind, const ReductionPlan&, const T*, int64_t, int64_t, T*);
KILN_REDUCE_INSTANCE(float)
KILN_REDUCE_INSTANCE(double)
KILN_REDUCE_INSTANCE(int32_t)
KILN_REDUCE_INSTANCE(int64_t)
KILN_REDUCE_INSTANCE(uint32_t)
KILN_REDUCE_INSTANCE(uint64_t)
KILN_REDUCE_INSTANCE(int8_t)
KILN_REDUCE_INSTANCE(uint8_t)
#undef KILN_REDUCE_INSTANCE

}  // namespace kiln::kernels
