// Depthwise convolution: every kernel of kernels/f32_dwconv.h this CPU
// supports against the reference twin (f32_conv_depthwise_plane), on the
// depthwise layers of real models, one thread, all channels of the layer
// one plane after another (as one thread of Conv runs them).
//
// Layers (input C x H x W, pads K/2 on every side):
//   PaddleOCR det (ch_PP-OCRv4_det, 736x1280 image), every depthwise shape:
//     3x3 s1 at 16 x 368x640, 48 x 184x320, 96 x 92x160; 3x3 s2 at
//     32 x 368x640, 48 x 184x320, 96 x 92x160; 5x5 s1 at 192 x 46x80 (4 layers)
//     and 384 x 23x40 (3 layers); 5x5 s2 at 192 x 46x80;
//   AnimeGAN inverted residual block: 3x3 s1 at 256 x 90x160.
// The larger layers (up to 15 MB of input) come from DRAM as in a real run;
// the "warm" family (4 planes of 48x128, 96 KB in) stays in L2 between
// iterations and shows the kernels' compute speed.
// Activation: none, and hard_swish on two layers (what PP-OCR fuses) to show
// the cost of the activation pass.
//
// Counters: GFLOPS (2 flops per tap and output) and GBps (input read once +
// output written once, per second).
//   build/release/benchmarks/kiln_f32_dwconv_bench --benchmark_min_time=0.2
// Filter with e.g. --benchmark_filter='3x3s1' or 'det_c16'.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/f32_dwconv.h"
#include "kernels/conv_depthwise.h"
#include "platform/cpu_info.h"

namespace {

using kiln::kernels::Activation;
using kiln::kernels::F32DwconvEpilogue;
using kiln::kernels::WindowGeometry;

struct DwconvLayer {
  const char* name;
  int64_t channels, height, width;
  int kernel, stride;
};

constexpr DwconvLayer kLayers[] = {
    {"det_c16_368x640", 16, 368, 640, 3, 1},   {"det_c48_184x320", 48, 184, 320, 3, 1},
    {"det_c96_92x160", 96, 92, 160, 3, 1},     {"det_c32_368x640", 32, 368, 640, 3, 2},
    {"det_c48_184x320", 48, 184, 320, 3, 2},   {"det_c96_92x160", 96, 92, 160, 3, 2},
    {"det_c192_46x80", 192, 46, 80, 5, 1},     {"det_c384_23x40", 384, 23, 40, 5, 1},
    {"det_c192_46x80", 192, 46, 80, 5, 2},     {"animegan_c256_90x160", 256, 90, 160, 3, 1},
    {"warm_c4_48x128", 4, 48, 128, 3, 1},      {"warm_c4_48x128", 4, 48, 128, 3, 2},
    {"warm_c4_48x128", 4, 48, 128, 5, 1},      {"warm_c4_48x128", 4, 48, 128, 5, 2},
};

WindowGeometry layer_geometry(const DwconvLayer& layer) {
  WindowGeometry g;
  g.in[1] = layer.height, g.in[2] = layer.width;
  g.kernel[1] = g.kernel[2] = layer.kernel;
  g.stride[1] = g.stride[2] = layer.stride;
  for (int d = 1; d <= 2; ++d) {
    g.pad_begin[d] = g.pad_end[d] = layer.kernel / 2;
    g.out[d] = (g.in[d] + 2 * (layer.kernel / 2) - layer.kernel) / layer.stride + 1;
  }
  return g;
}

// The input, weights and output of one layer; inputs are small exact values.
struct LayerBuffers {
  explicit LayerBuffers(const DwconvLayer& layer) : geometry(layer_geometry(layer)) {
    input.resize(static_cast<size_t>(layer.channels * geometry.input_size()));
    weights.resize(static_cast<size_t>(layer.channels * geometry.kernel_size()));
    output.resize(static_cast<size_t>(layer.channels * geometry.output_size()));
    for (size_t i = 0; i < input.size(); ++i) input[i] = float(int(i * 7 % 13) - 6) / 8.0f;
    for (size_t i = 0; i < weights.size(); ++i) weights[i] = float(int(i * 5 % 11) - 5) / 8.0f;
  }
  WindowGeometry geometry;
  std::vector<float> input, weights, output;
};

void set_counters(benchmark::State& state, const DwconvLayer& layer, const WindowGeometry& g) {
  const double outputs = double(layer.channels) * double(g.output_size());
  const double flops = 2.0 * outputs * double(g.kernel_size());
  const double bytes = 4.0 * (double(layer.channels) * double(g.input_size()) + outputs);
  // Per iteration, so the rate is per second: in units of 1e9.
  state.counters["GFLOPS"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GBps"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// kernel == nullptr: the reference.
void run_layer(benchmark::State& state, const DwconvLayer& layer, const kiln::kernels::F32DwconvKernel* kernel,
               F32DwconvEpilogue epilogue) {
  LayerBuffers buffers(layer);
  const WindowGeometry& g = buffers.geometry;
  std::vector<float> scratch(static_cast<size_t>(kiln::kernels::f32_dwconv_scratch_floats(g)));
  for (auto _ : state) {
    for (int64_t c = 0; c < layer.channels; ++c) {
      const float* x = buffers.input.data() + c * g.input_size();
      const float* w = buffers.weights.data() + c * g.kernel_size();
      float* y = buffers.output.data() + c * g.output_size();
      if (kernel)
        kernel->run(g, x, w, epilogue, y, scratch.data());
      else
        kiln::kernels::f32_conv_depthwise_plane(g, x, w, epilogue, y);
    }
    benchmark::DoNotOptimize(buffers.output.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, layer, g);
}

void register_benchmarks() {
  const kiln::CpuInfo& cpu = kiln::cpu_info();
  for (const DwconvLayer& layer : kLayers) {
    const std::string window = std::to_string(layer.kernel) + "x" + std::to_string(layer.kernel) + "s" +
                               std::to_string(layer.stride);
    const bool with_hard_swish = layer.channels == 16 || layer.channels == 256;
    for (Activation activation : {Activation::none, Activation::hard_swish}) {
      if (activation == Activation::hard_swish && !with_hard_swish) continue;
      const F32DwconvEpilogue epilogue{0.25f, activation, 1.0f / 6.0f, 0.5f};
      const std::string suffix =
          std::string("/") + layer.name + (activation == Activation::none ? "" : "/hard_swish");
      benchmark::RegisterBenchmark(("f32_dwconv_" + window + "_reference" + suffix).c_str(),
                                   [layer, epilogue](benchmark::State& state) {
                                     run_layer(state, layer, nullptr, epilogue);
                                   })
          ->Unit(benchmark::kMicrosecond);
      for (const auto& kernel : kiln::kernels::f32_dwconv_kernels()) {
        if (kernel.kernel_size != layer.kernel || kernel.stride != layer.stride || !cpu.supports(kernel.isa))
          continue;
        const kiln::kernels::F32DwconvKernel* chosen = &kernel;
        benchmark::RegisterBenchmark((std::string(kernel.name) + suffix).c_str(),
                                     [layer, chosen, epilogue](benchmark::State& state) {
                                       run_layer(state, layer, chosen, epilogue);
                                     })
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
