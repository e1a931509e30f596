// Element-wise maps of one tensor: the shared driver for unary operators.
#pragma once

#include <cstdint>
#include <type_traits>

#include "platform/thread_pool.h"
#include "runtime/op_kernel.h"
#include "runtime/ops/arity.h"
#include "runtime/ops/broadcast.h"
#include "runtime/ops/element_types.h"

namespace kiln {

// out[i] = f(in[i]) for i < n, computed on Element<T>::Value. A plain loop the
// compiler can vectorize for float32; threads share it when n is large.
template <class In, class Out, class Function>
void map_elements(const In* in, Out* out, int64_t n, const Function& f, int threads) {
  parallel_ranges(n, (n > kParallelMinElements) ? threads : 1, 1, [&](int64_t i_begin, int64_t i_end) {
    for (int64_t i = i_begin; i < i_end; ++i) out[i] = Element<Out>::store(f(Element<In>::load(in[i])));
  });
}

// An operator applying Function to every element of input 0 (output: same
// shape, same type or bool when Function::kBoolOutput) for the types in Types.
// Function is built from the node at session build time, where it reads and
// checks its attributes, and is called with Element<T>::Value.
template <class Function, class Types>
class UnaryKernel : public OpKernel {
 public:
  explicit UnaryKernel(const KernelInit& init) : function_(init.node()) { check_arity(init, 1, 1); }

  void run(KernelContext& ctx) override {
    const Tensor& x = ctx.required_input(0);
    visit_type_or_fail(Types{}, x.dtype(), ctx.node(), "input", [&]<class T>(TypeTag<T>) {
      using Out = std::conditional_t<kBoolOutput, bool, T>;
      Tensor& y = ctx.allocate_output(0, data_type_of<Out>(), x.shape());
      map_elements(elements<T>(x), elements<Out>(y), x.size(), function_, ctx.threads());
    });
  }
  bool may_write_over_input(size_t i) const override { return i == 0; }

 private:
  static constexpr bool kBoolOutput = requires { requires Function::kBoolOutput; };
  Function function_;
};

}  // namespace kiln
