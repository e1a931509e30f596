// The reference twin of kernels/f32_elementwise_program.h: one element, one
// instruction after the other, each op written from its ONNX definition in
// float (Sigmoid and Softplus in the forms that do not overflow, as kiln's
// standalone kernels compute them). No blocks, no scalar hoisting, no buffer
// reuse: what the fast evaluator must reproduce.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/f32_elementwise_program.h"

namespace kiln::kernels {

namespace {

// max(0, min(1, y)); NaN stays NaN.
float saturate(float y) { return std::isnan(y) ? y : std::fmax(0.0f, std::fmin(1.0f, y)); }

}  // namespace

float f32_elementwise_program_reference(const std::vector<F32ElementwiseInstruction>& code, const float* inputs) {
  std::vector<float> v(code.size());
  for (size_t k = 0; k < code.size(); ++k) {
    const F32ElementwiseInstruction& in = code[k];
    const float a = in.op == F32ElementwiseOp::input || in.a < 0 ? 0.0f : v[static_cast<size_t>(in.a)];
    const float b = in.b < 0 ? 0.0f : v[static_cast<size_t>(in.b)];
    const float c = in.c < 0 ? 0.0f : v[static_cast<size_t>(in.c)];
    float r = 0.0f;
    switch (in.op) {
      case F32ElementwiseOp::input: r = inputs[in.a]; break;
      case F32ElementwiseOp::constant: r = in.p0; break;
      case F32ElementwiseOp::relu: r = a > 0.0f ? a : 0.0f; break;  // NaN -> 0, as kiln's Relu
      case F32ElementwiseOp::leaky_relu: r = a >= 0.0f ? a : in.p0 * a; break;
      case F32ElementwiseOp::sigmoid: r = a >= 0.0f ? 1.0f / (1.0f + std::exp(-a)) : std::exp(a) / (1.0f + std::exp(a)); break;
      case F32ElementwiseOp::hard_sigmoid: r = saturate(in.p0 * a + in.p1); break;
      case F32ElementwiseOp::hard_swish: r = a * saturate(a / 6.0f + 0.5f); break;
      case F32ElementwiseOp::tanh: r = std::tanh(a); break;
      case F32ElementwiseOp::exp: r = std::exp(a); break;
      case F32ElementwiseOp::log: r = std::log(a); break;
      case F32ElementwiseOp::sqrt: r = std::sqrt(a); break;
      case F32ElementwiseOp::reciprocal: r = 1.0f / a; break;
      case F32ElementwiseOp::neg: r = -a; break;
      case F32ElementwiseOp::abs: r = std::fabs(a); break;
      case F32ElementwiseOp::erf: r = std::erf(a); break;
      case F32ElementwiseOp::floor: r = std::floor(a); break;
      case F32ElementwiseOp::ceil: r = std::ceil(a); break;
      case F32ElementwiseOp::round: r = std::nearbyint(a); break;
      case F32ElementwiseOp::softplus: r = a > 0.0f ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a)); break;
      case F32ElementwiseOp::clip:
        // NaN stays NaN; hi wins when lo > hi.
        r = std::isnan(a) ? a : (a < in.p0 ? in.p0 : a);
        if (r > in.p1) r = in.p1;
        break;
      case F32ElementwiseOp::add: r = a + b; break;
      case F32ElementwiseOp::sub: r = a - b; break;
      case F32ElementwiseOp::mul: r = a * b; break;
      case F32ElementwiseOp::div: r = a / b; break;
      case F32ElementwiseOp::pow: r = std::pow(a, b); break;
      // NaN propagates; between equal values (+0 and -0) the second wins, as
      // in kiln's Max and Min.
      case F32ElementwiseOp::max: r = std::isnan(a) || std::isnan(b) ? (std::isnan(a) ? a : b) : (a > b ? a : b); break;
      case F32ElementwiseOp::min: r = std::isnan(a) || std::isnan(b) ? (std::isnan(a) ? a : b) : (a < b ? a : b); break;
      case F32ElementwiseOp::where: r = a != 0.0f ? b : c; break;
    }
    v[k] = r;
  }
  return v.back();
}

}  // namespace kiln::kernels
