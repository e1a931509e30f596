// Convolution layers of real models, each run whole through a kiln::Session
// built from an in-memory one-node ONNX model (Conv or ConvTranspose with
// weights and bias as initializers, fixed input shape, opt level all). What
// is timed is Session::run: the kernel kiln picks for the layer (1x1 as GEMM,
// im2col tiles + packed GEMM, direct depthwise, ConvTranspose via GEMM) plus
// the executor's per-run work, as in a real model: the layer's output goes to
// a Slice of one pixel per channel, so it is an intermediate value placed in
// the session's reused arena (a graph output would be freshly allocated, and
// page-faulted, on every run).
//
// Layers (batch 1, pads kernel/2 on every side for Conv, none for ConvTranspose):
//   PaddleOCR det (ch_PP-OCRv4_det_infer.onnx at a 736x1280 image):
//     det_stem_3x3s2_3to16         736x1280   the first conv
//     det_dw_3x3s1_16              368x640    depthwise, 16 channels
//     det_pw_1x1_16to32            368x640
//     det_pw_1x1_12to96            184x320    (neck)
//     det_3x3_96to24               184x320 and 23x40 (neck)
//     det_pw_1x1_384to384          23x40      (backbone's last stage)
//     det_convtranspose_2x2s2_24to24 184x320  (head, upsampling)
//   Generic 720p layers:
//     conv_3x3_64to64              720x1280
//     dw_3x3s1_64                  720x1280
//     pw_1x1_64to128               360x640
//     stem_3x3s2_3to32             720x1280
// Sizes in the names are the layer's input height x width.
//
// Each layer runs with 1 and 2 intra-op threads (SessionOptions::threads);
// 2 threads are timed by wall clock (UseRealTime), 1 thread by CPU time.
// Counters:
//   GFLOPS    2 * multiply-adds per second;
//   pct_peak  GFLOPS as a share of the per-core peak of the selected ISA,
//             measured on this machine when the benchmark starts
//             (kernels/f32_peak.h, as `kiln profile` does), times the thread
//             count.
// The context line kiln_isa names the ISA the kernels ran at.
//
// The ISA is chosen once at process start from KILN_ISA (platform/cpu_info),
// so one binary measures every level by running it once per level:
//   for isa in sse41 avx2 avx512; do
//     KILN_ISA=$isa build/release/benchmarks/kiln_conv_layers_bench --benchmark_min_time=0.5
//   done
// (asking for a level the CPU lacks is an error). Filter with e.g.
// --benchmark_filter='conv/det_' or 'threads:1'. Results: docs/notes/conv_layers.md.
#include <benchmark/benchmark.h>
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "kernels/f32_peak.h"
#include "kiln/session.h"
#include "kiln/tensor.h"
#include "platform/cpu_info.h"

namespace {

enum class ConvKind { conv, conv_transpose };

struct ConvLayer {
  const char* name;
  ConvKind kind;
  int64_t in_channels, out_channels;
  int64_t height, width;  // of the input
  int64_t kernel, stride, group;

  int64_t out_height() const { return out_size(height); }
  int64_t out_width() const { return out_size(width); }
  int64_t out_size(int64_t in) const {
    if (kind == ConvKind::conv_transpose) return (in - 1) * stride + kernel;
    return (in + 2 * (kernel / 2) - kernel) / stride + 1;
  }
  // Multiply-adds of one run. ConvTranspose: every input pixel meets every
  // weight of its group once.
  double macs() const {
    const double taps = double(kernel * kernel);
    if (kind == ConvKind::conv_transpose)
      return double(in_channels) * double(height * width) * double(out_channels / group) * taps;
    return double(out_channels) * double(out_height() * out_width()) * double(in_channels / group) * taps;
  }
};

constexpr ConvLayer kLayers[] = {
    {"det_stem_3x3s2_3to16", ConvKind::conv, 3, 16, 736, 1280, 3, 2, 1},
    {"det_dw_3x3s1_16", ConvKind::conv, 16, 16, 368, 640, 3, 1, 16},
    {"det_pw_1x1_16to32", ConvKind::conv, 16, 32, 368, 640, 1, 1, 1},
    {"det_pw_1x1_12to96", ConvKind::conv, 12, 96, 184, 320, 1, 1, 1},
    {"det_3x3_96to24", ConvKind::conv, 96, 24, 184, 320, 3, 1, 1},
    {"det_3x3_96to24", ConvKind::conv, 96, 24, 23, 40, 3, 1, 1},
    {"det_pw_1x1_384to384", ConvKind::conv, 384, 384, 23, 40, 1, 1, 1},
    {"det_convtranspose_2x2s2_24to24", ConvKind::conv_transpose, 24, 24, 184, 320, 2, 2, 1},
    {"conv_3x3_64to64", ConvKind::conv, 64, 64, 720, 1280, 3, 1, 1},
    {"dw_3x3s1_64", ConvKind::conv, 64, 64, 720, 1280, 3, 1, 64},
    {"pw_1x1_64to128", ConvKind::conv, 64, 128, 360, 640, 1, 1, 1},
    {"stem_3x3s2_3to32", ConvKind::conv, 3, 32, 720, 1280, 3, 2, 1},
};

// Small values of both signs, varied enough that no kernel can shortcut.
std::vector<float> pattern_values(size_t count, int step, int modulus) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i)
    values[i] = float(int(i * step % modulus) - modulus / 2) / float(2 * modulus);
  return values;
}

void set_tensor_info(onnx::ValueInfoProto* value, const std::string& name, const std::vector<int64_t>& dims) {
  value->set_name(name);
  auto* type = value->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : dims) type->mutable_shape()->add_dim()->set_dim_value(dim);
}

void add_initializer(onnx::GraphProto* graph, const std::string& name, const std::vector<int64_t>& dims,
                     const std::vector<float>& values) {
  auto* tensor = graph->add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : dims) tensor->add_dims(dim);
  tensor->mutable_float_data()->Add(values.begin(), values.end());
}

void add_ints_attribute(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  auto* attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::INTS);
  for (int64_t value : values) attribute->add_ints(value);
}

// The serialized one-node model of `layer`: input "x", output "y".
std::string layer_model_bytes(const ConvLayer& layer) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("kiln_conv_layers_bench");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* graph = model.mutable_graph();
  graph->set_name(layer.name);
  set_tensor_info(graph->add_input(), "x", {1, layer.in_channels, layer.height, layer.width});
  set_tensor_info(graph->add_output(), "y", {1, layer.out_channels, 1, 1});

  const bool transpose = layer.kind == ConvKind::conv_transpose;
  // Conv: M x C/group x k x k; ConvTranspose: C x M/group x k x k.
  const std::vector<int64_t> weight_dims =
      transpose ? std::vector<int64_t>{layer.in_channels, layer.out_channels / layer.group, layer.kernel, layer.kernel}
                : std::vector<int64_t>{layer.out_channels, layer.in_channels / layer.group, layer.kernel, layer.kernel};
  size_t weight_count = 1;
  for (int64_t dim : weight_dims) weight_count *= static_cast<size_t>(dim);
  add_initializer(graph, "W", weight_dims, pattern_values(weight_count, 5, 11));
  add_initializer(graph, "B", {layer.out_channels}, pattern_values(static_cast<size_t>(layer.out_channels), 3, 7));

  auto* node = graph->add_node();
  node->set_op_type(transpose ? "ConvTranspose" : "Conv");
  node->set_name(layer.name);
  for (const char* input : {"x", "W", "B"}) node->add_input(input);
  node->add_output(std::string("conv_out"));  // (const char* overload: a false -Wrestrict in g++ 12)
  const int64_t pad = transpose ? 0 : layer.kernel / 2;
  add_ints_attribute(node, "kernel_shape", {layer.kernel, layer.kernel});
  add_ints_attribute(node, "strides", {layer.stride, layer.stride});
  add_ints_attribute(node, "pads", {pad, pad, pad, pad});
  auto* group = node->add_attribute();
  group->set_name("group");
  group->set_type(onnx::AttributeProto::INT);
  group->set_i(layer.group);

  // y = conv_out[:, :, 0:1, 0:1]: the layer's output is an intermediate
  // value, so it lives in the session's arena like in a real network instead
  // of being a fresh graph output (hundreds of MiB of page faults) every run.
  auto add_int64s = [&](const char* name, std::vector<int64_t> values) {
    auto* t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
  };
  add_int64s("slice_starts", {0, 0});
  add_int64s("slice_ends", {1, 1});
  add_int64s("slice_axes", {2, 3});
  auto* slice = graph->add_node();
  slice->set_op_type("Slice");
  slice->set_name("corner");
  for (const char* input : {"conv_out", "slice_starts", "slice_ends", "slice_axes"}) slice->add_input(input);
  slice->add_output(std::string("y"));
  return model.SerializeAsString();
}

void run_layer(benchmark::State& state, const ConvLayer& layer, int threads) {
  kiln::SessionOptions options;
  options.threads = threads;
  options.opt_level = kiln::OptLevel::kAll;
  options.input_shapes["x"] = {1, layer.in_channels, layer.height, layer.width};
  const kiln::Shape input_shape{1, layer.in_channels, layer.height, layer.width};
  kiln::Tensor input(kiln::DataType::kFloat32, input_shape);
  const std::vector<float> input_values =
      pattern_values(static_cast<size_t>(kiln::element_count(input_shape)), 7, 13);
  std::memcpy(input.data<float>(), input_values.data(), input_values.size() * sizeof(float));
  const kiln::NamedTensors inputs{{"x", input}};

  // A kiln::Error (e.g. over the memory budget) skips this layer with its message.
  std::optional<kiln::Session> session;
  try {
    session.emplace(kiln::Session::from_bytes(layer_model_bytes(layer), options));
    session->run(inputs);  // warm-up: first-run allocations, caches
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
    return;
  }
  for (auto _ : state) {
    kiln::NamedTensors outputs = session->run(inputs);
    benchmark::DoNotOptimize(outputs.at("y").data<float>());
  }

  const double flops = 2.0 * layer.macs();
  const double peak_flops = kiln::kernels::f32_peak_gflops_per_core(kiln::selected_isa()) * 1e9 * threads;
  // Per iteration, so the rate is per second.
  state.counters["GFLOPS"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] =
      benchmark::Counter(flops * 100.0 / peak_flops, benchmark::Counter::kIsIterationInvariantRate);
}

void register_benchmarks() {
  for (const ConvLayer& layer : kLayers) {
    for (int threads : {1, 2}) {
      const std::string name = std::string("conv/") + layer.name + "/" + std::to_string(layer.height) + "x" +
                               std::to_string(layer.width) + "/threads:" + std::to_string(threads);
      auto* benchmark = benchmark::RegisterBenchmark(
          name.c_str(), [&layer, threads](benchmark::State& state) { run_layer(state, layer, threads); });
      benchmark->Unit(benchmark::kMillisecond);
      if (threads > 1) benchmark->UseRealTime();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // Throws kiln::Error for an unknown or unsupported KILN_ISA: say so, not abort.
  try {
    benchmark::AddCustomContext("kiln_isa", kiln::isa_name(kiln::selected_isa()));
    // Measured before any benchmark runs (and heats the machine).
    benchmark::AddCustomContext("peak_gflops_per_core",
                                std::to_string(kiln::kernels::f32_peak_gflops_per_core(kiln::selected_isa())));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "kiln_conv_layers_bench: %s\n", error.what());
    return 2;
  }
  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
