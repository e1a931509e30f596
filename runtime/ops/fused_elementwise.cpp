// FusedElementwise (domain com.kiln, docs/fused_ops.md): a group of
// element-wise nodes computed in one pass over the output. The node carries
// a straight-line program (attributes `ops`, `args`, `params`) over its
// inputs, which broadcast numpy-style to the output shape; the block
// evaluator is kernels/f32_elementwise_program.h.
//
// The output is walked as plan_broadcast describes it (rows of `inner`
// elements in which each input either advances by one or repeats one value),
// cut into blocks of F32ElementwisePlan::kBlock elements: a same-shape input
// is read in place, a scalar or per-channel input is one scalar per block.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "graph/expansion_builder.h"
#include "graph/pass.h"
#include "kernels/f32_elementwise_program.h"
#include "platform/thread_pool.h"
#include "runtime/op_registry.h"
#include "runtime/ops/broadcast.h"

namespace kiln {

namespace {

using kernels::F32ElementwiseInstruction;
using kernels::F32ElementwiseOp;
using kernels::F32ElementwisePlan;

// plan_broadcast's walk takes at most this many inputs.
constexpr size_t kMaxInputs = 8;

// The program of a FusedElementwise node, checked: one op name per
// instruction in `ops`, three ints per instruction in `args`, two floats per
// instruction in `params`. Also says which inputs are Where conditions
// (bool); every other input is float32.
struct Program {
  std::vector<F32ElementwiseInstruction> code;
  std::vector<bool> condition_input;
};

Program read_program(const graph::Node& node) {
  const std::vector<std::string> ops = node.has_attr("ops") ? node.attrs.at("ops").strings : std::vector<std::string>{};
  const std::vector<int64_t> args = node.attr_ints("args");
  const std::vector<float> params = node.attr_floats("params");
  if (ops.empty()) fail(node.describe(), ": FusedElementwise needs a non-empty 'ops' attribute (strings)");
  if (args.size() != 3 * ops.size() || params.size() != 2 * ops.size())
    fail(node.describe(), ": FusedElementwise has ", ops.size(), " ops, so 'args' needs ", 3 * ops.size(),
         " ints and 'params' ", 2 * ops.size(), " floats; got ", args.size(), " and ", params.size());
  if (node.inputs.empty() || node.inputs.size() > kMaxInputs)
    fail(node.describe(), ": FusedElementwise takes 1 to ", kMaxInputs, " inputs, got ", node.inputs.size());
  Program p;
  p.condition_input.assign(node.inputs.size(), false);
  std::vector<bool> float_input(node.inputs.size(), false);
  for (size_t k = 0; k < ops.size(); ++k) {
    std::optional<F32ElementwiseOp> op = kernels::f32_elementwise_op_from_name(ops[k]);
    if (!op) fail(node.describe(), ": FusedElementwise instruction ", k, " has unknown op '", ops[k], "'");
    F32ElementwiseInstruction in;
    in.op = *op;
    auto arg = [&](size_t i) {
      const int64_t a = args[3 * k + i];
      if (a < -1 || a > int64_t{1} << 30) fail(node.describe(), ": FusedElementwise arg ", a, " is out of range");
      return static_cast<int32_t>(a);
    };
    in.a = arg(0), in.b = arg(1), in.c = arg(2);
    in.p0 = params[2 * k], in.p1 = params[2 * k + 1];
    p.code.push_back(in);
  }
  std::string error;
  if (!F32ElementwisePlan::make(p.code, node.inputs.size(), &error))
    fail(node.describe(), ": FusedElementwise program: ", error);
  // Where's condition must be an Input instruction; such inputs are bool and
  // only read as conditions (so the expansion can name them directly).
  for (size_t k = 0; k < p.code.size(); ++k) {
    const F32ElementwiseInstruction& in = p.code[k];
    if (in.op != F32ElementwiseOp::where) continue;
    const F32ElementwiseInstruction& cond = p.code[static_cast<size_t>(in.a)];
    if (cond.op != F32ElementwiseOp::input)
      fail(node.describe(), ": FusedElementwise instruction ", k, " (Where) must take its condition from an Input");
    p.condition_input[static_cast<size_t>(cond.a)] = true;
  }
  for (size_t k = 0; k < p.code.size(); ++k) {
    const F32ElementwiseInstruction& in = p.code[k];
    const int32_t args3[3] = {in.a, in.b, in.c};
    for (int i = 0; i < kernels::f32_elementwise_op_operands(in.op); ++i) {
      if (in.op == F32ElementwiseOp::where && i == 0) continue;
      const F32ElementwiseInstruction& operand = p.code[static_cast<size_t>(args3[i])];
      if (operand.op == F32ElementwiseOp::input) float_input[static_cast<size_t>(operand.a)] = true;
    }
    if (k + 1 == p.code.size() && in.op == F32ElementwiseOp::input) float_input[static_cast<size_t>(in.a)] = true;
  }
  // Every input must reach the result: the output shape is the broadcast of
  // all of them, which the expansion could not reproduce for one that does not.
  std::vector<bool> live(p.code.size(), false), input_live(node.inputs.size(), false);
  live.back() = true;
  for (size_t k = p.code.size(); k-- > 0;) {
    if (!live[k]) continue;
    const F32ElementwiseInstruction& in = p.code[k];
    if (in.op == F32ElementwiseOp::input) {
      input_live[static_cast<size_t>(in.a)] = true;
      continue;
    }
    const int32_t operands[3] = {in.a, in.b, in.c};
    for (int i = 0; i < kernels::f32_elementwise_op_operands(in.op); ++i) live[static_cast<size_t>(operands[i])] = true;
  }
  for (size_t i = 0; i < node.inputs.size(); ++i)
    if (!input_live[i]) fail(node.describe(), ": FusedElementwise input ", i, " does not reach the program's result");
  for (size_t i = 0; i < node.inputs.size(); ++i)
    if (p.condition_input[i] && float_input[i])
      fail(node.describe(), ": FusedElementwise input ", i, " is read both as a Where condition and as a value");
  return p;
}

class FusedElementwiseKernel : public OpKernel {
 public:
  explicit FusedElementwiseKernel(const KernelInit& init) {
    const graph::Node& node = init.node();
    if (node.outputs.size() != 1) fail(node.describe(), ": FusedElementwise gives exactly 1 output");
    for (size_t i = 0; i < node.inputs.size(); ++i)
      if (node.inputs[i].empty()) fail(node.describe(), ": FusedElementwise input ", i, " is omitted");
    Program p = read_program(node);
    condition_input_ = std::move(p.condition_input);
    plan_ = *F32ElementwisePlan::make(std::move(p.code), node.inputs.size(), nullptr);
  }

  void run(KernelContext& ctx) override {
    const graph::Node& node = ctx.node();
    const size_t n_inputs = node.inputs.size();
    std::vector<Shape> shapes;
    std::array<const Tensor*, kMaxInputs> in{};
    for (size_t i = 0; i < n_inputs; ++i) {
      in[i] = &ctx.required_input(i);
      const DataType wanted = condition_input_[i] ? DataType::kBool : DataType::kFloat32;
      if (in[i]->dtype() != wanted)
        fail_unsupported(node.describe(), ": input ", i, " is ", dtype_name(in[i]->dtype()), ", FusedElementwise wants ",
                         dtype_name(wanted), " there");
      shapes.push_back(in[i]->shape());
    }
    const BroadcastLayout layout = plan_broadcast(node, shapes);
    Tensor& y = ctx.allocate_output(0, DataType::kFloat32, layout.output_shape);
    if (layout.output_size == 0) return;
    float* out = y.data<float>();

    const int64_t work = layout.output_size * static_cast<int64_t>(plan_.code.size());
    const int threads = work > 4 * kParallelMinElements ? ctx.threads() : 1;
    if (layout.inner_size * 2 <= static_cast<int64_t>(F32ElementwisePlan::kBlock))
      return run_row_groups(layout, in, out, threads);

    // Rows are cut into chunks so that threads share one long row; the work
    // per element grows with the program, so smaller outputs go parallel too.
    constexpr int64_t kChunk = int64_t{1} << 13;
    const int64_t chunk = std::min(layout.inner_size, kChunk);
    const int64_t chunks_per_row = (layout.inner_size + chunk - 1) / chunk;
    const int64_t pieces = layout.row_count * chunks_per_row;
    parallel_ranges(pieces, threads, 1, [&](int64_t piece_begin, int64_t piece_end) {
      thread_local std::vector<float> scratch;
      if (scratch.size() < plan_.scratch_floats()) scratch.resize(plan_.scratch_floats());
      std::array<int64_t, kMaxInputs> offsets{};
      std::array<kernels::F32ElementwiseOperand, kMaxInputs> operands{};
      for (int64_t piece = piece_begin; piece < piece_end; ++piece) {
        const int64_t row = piece / chunks_per_row;
        const int64_t begin = (piece % chunks_per_row) * chunk;
        const int64_t count = std::min(chunk, layout.inner_size - begin);
        layout.row_offsets(row, offsets.data());
        for (int64_t at = 0; at < count; at += static_cast<int64_t>(F32ElementwisePlan::kBlock)) {
          const int64_t n = std::min<int64_t>(count - at, static_cast<int64_t>(F32ElementwisePlan::kBlock));
          for (size_t i = 0; i < n_inputs; ++i) {
            const int64_t stride = layout.inner_strides[i];
            const int64_t element = offsets[i] + (begin + at) * stride;
            operands[i].is_bool = condition_input_[i];
            operands[i].varies = stride != 0;
            operands[i].data = condition_input_[i]
                                   ? static_cast<const void*>(static_cast<const uint8_t*>(in[i]->raw()) + element)
                                   : static_cast<const void*>(in[i]->data<float>() + element);
          }
          kernels::f32_elementwise_program_block(plan_, operands.data(), static_cast<size_t>(n),
                                                 out + row * layout.inner_size + begin + at, scratch.data());
        }
      }
    });
  }
  std::string kernel_name() const override { return "f32_elementwise_program"; }

 private:
  // Short rows (the innermost broadcast dim is small: NHWC's channels against
  // a per-channel [C] or per-pixel [H,W,1] operand) would make blocks of a
  // few elements, each paying the whole program's dispatch. Instead a block
  // covers several whole rows: an input whose rows follow each other in
  // memory is read in place, a scalar stays a scalar, and any other input
  // (a row repeated, a value repeated along the row) is first gathered
  // into a block-sized buffer in output order.
  void run_row_groups(const BroadcastLayout& layout, const std::array<const Tensor*, kMaxInputs>& in, float* out,
                      int threads) const {
    const size_t n_inputs = layout.num_inputs();
    const int64_t inner = layout.inner_size;
    const int64_t rows_per_group = static_cast<int64_t>(F32ElementwisePlan::kBlock) / inner;
    const int64_t groups = (layout.row_count + rows_per_group - 1) / rows_per_group;
    parallel_ranges(groups, threads, 1, [&](int64_t group_begin, int64_t group_end) {
      thread_local std::vector<float> scratch;
      if (scratch.size() < plan_.scratch_floats()) scratch.resize(plan_.scratch_floats());
      thread_local std::vector<float> gathered;
      thread_local std::vector<uint8_t> gathered_bools;
      const size_t block = F32ElementwisePlan::kBlock;
      if (gathered.size() < kMaxInputs * block) gathered.resize(kMaxInputs * block);
      if (gathered_bools.size() < kMaxInputs * block) gathered_bools.resize(kMaxInputs * block);
      std::vector<int64_t> offsets(static_cast<size_t>(rows_per_group) * n_inputs);
      std::array<kernels::F32ElementwiseOperand, kMaxInputs> operands{};
      for (int64_t group = group_begin; group < group_end; ++group) {
        const int64_t first_row = group * rows_per_group;
        const int64_t rows = std::min(rows_per_group, layout.row_count - first_row);
        for (int64_t r = 0; r < rows; ++r)
          layout.row_offsets(first_row + r, offsets.data() + static_cast<size_t>(r) * n_inputs);
        auto offset = [&](int64_t r, size_t i) { return offsets[static_cast<size_t>(r) * n_inputs + i]; };
        for (size_t i = 0; i < n_inputs; ++i) {
          const int64_t stride = layout.inner_strides[i];
          bool consecutive = true, same = true;
          for (int64_t r = 1; r < rows; ++r) {
            consecutive = consecutive && offset(r, i) == offset(0, i) + r * inner * stride;
            same = same && offset(r, i) == offset(0, i);
          }
          kernels::F32ElementwiseOperand& operand = operands[i];
          operand.is_bool = condition_input_[i];
          const bool is_bool = condition_input_[i];
          const uint8_t* bools = is_bool ? static_cast<const uint8_t*>(in[i]->raw()) : nullptr;
          const float* floats = is_bool ? nullptr : in[i]->data<float>();
          if (stride == 0 && same) {  // one value for the whole block
            operand.varies = false;
            operand.data = is_bool ? static_cast<const void*>(bools + offset(0, i))
                                   : static_cast<const void*>(floats + offset(0, i));
          } else if (stride == 1 && consecutive) {  // the rows lie end to end: read in place
            operand.varies = true;
            operand.data = is_bool ? static_cast<const void*>(bools + offset(0, i))
                                   : static_cast<const void*>(floats + offset(0, i));
          } else {
            operand.varies = true;
            if (is_bool) {
              uint8_t* to = gathered_bools.data() + i * block;
              for (int64_t r = 0; r < rows; ++r)
                for (int64_t j = 0; j < inner; ++j) to[r * inner + j] = bools[offset(r, i) + j * stride];
              operand.data = to;
            } else {
              float* to = gathered.data() + i * block;
              for (int64_t r = 0; r < rows; ++r) {
                const float* from = floats + offset(r, i);
                if (stride == 0)
                  for (int64_t j = 0; j < inner; ++j) to[r * inner + j] = from[0];
                else
                  for (int64_t j = 0; j < inner; ++j) to[r * inner + j] = from[j];
              }
              operand.data = to;
            }
          }
        }
        kernels::f32_elementwise_program_block(plan_, operands.data(), static_cast<size_t>(rows * inner),
                                               out + first_row * inner, scratch.data());
      }
    });
  }

  F32ElementwisePlan plan_;
  std::vector<bool> condition_input_;
};

// The numpy broadcast of the inputs, float32 (input 0 may be a bool condition).
std::vector<graph::ValueInfo> fused_elementwise_shape(const graph::ShapeContext& c) {
  std::vector<graph::ValueInfo> out = shape_rules::broadcast(c);
  for (graph::ValueInfo& v : out) v.dtype = DataType::kFloat32;
  return out;
}

// Its expansion: one standard node per instruction, in program order.
// Constants become scalar initializers; the last instruction writes the
// node's output.
void expand_fused_elementwise(const graph::Node& fused, graph::ExpansionBuilder& b) {
  using graph::ExpansionBuilder;
  const Program p = read_program(fused);
  if (fused.outputs.size() != 1) fail(fused.describe(), ": FusedElementwise gives exactly 1 output");
  const std::string& result = fused.outputs[0];
  std::vector<std::string> name(p.code.size());
  auto needs_opset = [&](int64_t since, const char* op) {
    if (b.opset() < since)
      fail(fused.describe(), ": its program uses ", op, ", which standard ONNX has only from opset ", since,
           "; the graph imports opset ", b.opset());
  };
  for (size_t k = 0; k < p.code.size(); ++k) {
    const F32ElementwiseInstruction& in = p.code[k];
    const bool last = k + 1 == p.code.size();
    const std::string out = last ? result : b.editor().unique_name(result + "_v" + std::to_string(k));
    auto operand = [&](int32_t v) { return name[static_cast<size_t>(v)]; };
    const char* op = kernels::f32_elementwise_op_name(in.op);
    switch (in.op) {
      case F32ElementwiseOp::input:
        name[k] = fused.inputs[static_cast<size_t>(in.a)];
        if (last) b.add_named("Identity", {name[k]}, out);
        break;
      case F32ElementwiseOp::constant:
        name[k] = b.editor().add_initializer(fused.name + "_c" + std::to_string(k), Tensor::from_floats({}, {in.p0}));
        if (last) b.add_named("Identity", {name[k]}, out);
        break;
      case F32ElementwiseOp::relu:
      case F32ElementwiseOp::sigmoid: b.activation(op, {}, operand(in.a), out); break;
      case F32ElementwiseOp::leaky_relu: b.activation(op, {in.p0}, operand(in.a), out); break;
      case F32ElementwiseOp::hard_sigmoid:
      case F32ElementwiseOp::clip: b.activation(op, {in.p0, in.p1}, operand(in.a), out); break;
      case F32ElementwiseOp::hard_swish: b.activation(op, {1.0f / 6.0f, 0.5f}, operand(in.a), out); break;
      case F32ElementwiseOp::erf: needs_opset(9, op); b.add_named(op, {operand(in.a)}, out); break;
      case F32ElementwiseOp::round: needs_opset(11, op); b.add_named(op, {operand(in.a)}, out); break;
      case F32ElementwiseOp::tanh:
      case F32ElementwiseOp::exp:
      case F32ElementwiseOp::log:
      case F32ElementwiseOp::sqrt:
      case F32ElementwiseOp::reciprocal:
      case F32ElementwiseOp::neg:
      case F32ElementwiseOp::abs:
      case F32ElementwiseOp::floor:
      case F32ElementwiseOp::ceil:
      case F32ElementwiseOp::softplus: b.add_named(op, {operand(in.a)}, out); break;
      case F32ElementwiseOp::add:
      case F32ElementwiseOp::sub:
      case F32ElementwiseOp::mul:
      case F32ElementwiseOp::div:
      case F32ElementwiseOp::pow:
      case F32ElementwiseOp::max:
      case F32ElementwiseOp::min:
        // Multidirectional broadcasting from opset 7 (8 for Max/Min).
        needs_opset(in.op == F32ElementwiseOp::max || in.op == F32ElementwiseOp::min ? 8 : 7, op);
        b.add_named(op, {operand(in.a), operand(in.b)}, out);
        break;
      case F32ElementwiseOp::where:
        needs_opset(9, op);
        b.add_named(op, {operand(in.a), operand(in.b), operand(in.c)}, out);
        break;
    }
    if (name[k].empty()) name[k] = out;
  }
}

}  // namespace

void register_fused_elementwise_ops(OpRegistry& registry) {
  // 1 to 8 inputs (each read by the program), 1 output
  registry.add_kiln_op("FusedElementwise", make_kernel<FusedElementwiseKernel>, fused_elementwise_shape,
                       graph::Arity{1, static_cast<int>(kMaxInputs), 1, 1, 1, 1}, expand_fused_elementwise);
}

}  // namespace kiln
