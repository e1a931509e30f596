// Pooling planes (kernels/pool.h) on the pooling layers of real CNNs, one
// thread, all channels of the layer one plane after another (as one thread
// of MaxPool/AveragePool runs them), against the reference twin and against
// a memcpy of the same bytes (the machine's copy bandwidth for this size:
// pooling reads its input once and writes its output once, so that is the
// speed a memory-bound kernel should approach).
//
// Layers (C x H x W, kernel, stride, pads):
//   resnet/regnet stem MaxPool 3x3 s2 p1 at 64 x 112x112;
//   squeezenet1_0 MaxPool 3x3 s2 ceil_mode at 96 x 109x109 and 256 x 54x54;
//   googlenet inception branch MaxPool 3x3 s1 p1 at 480 x 14x14;
//   vgg16 MaxPool 2x2 s2 at 64 x 224x224 and 512 x 28x28;
//   inception_v3 AveragePool 3x3 s1 p1 (count_include_pad) at 288 x 35x35.
//
// Counters: GBps (input read once + output written once, per second).
//   build/release/benchmarks/kiln_pool_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/pool.h"

namespace {

using kiln::kernels::WindowGeometry;

struct PoolLayer {
  const char* name;
  bool average;
  int64_t channels, height, width;
  int kernel, stride, pad;
  bool ceil_mode;
};

constexpr PoolLayer kLayers[] = {
    {"resnet_stem_c64_112x112", false, 64, 112, 112, 3, 2, 1, false},
    {"squeezenet_c96_109x109", false, 96, 109, 109, 3, 2, 0, true},
    {"squeezenet_c256_54x54", false, 256, 54, 54, 3, 2, 0, true},
    {"googlenet_c480_14x14", false, 480, 14, 14, 3, 1, 1, false},
    {"vgg_c64_224x224", false, 64, 224, 224, 2, 2, 0, false},
    {"vgg_c512_28x28", false, 512, 28, 28, 2, 2, 0, false},
    {"inception_v3_c288_35x35", true, 288, 35, 35, 3, 1, 1, false},
};

WindowGeometry layer_geometry(const PoolLayer& layer) {
  WindowGeometry g;
  g.in[1] = layer.height, g.in[2] = layer.width;
  g.kernel[1] = g.kernel[2] = layer.kernel;
  g.stride[1] = g.stride[2] = layer.stride;
  for (int d = 1; d <= 2; ++d) {
    g.pad_begin[d] = g.pad_end[d] = layer.pad;
    const int64_t span = g.in[d] + 2 * layer.pad - layer.kernel;
    g.out[d] = (layer.ceil_mode ? (span + layer.stride - 1) / layer.stride : span / layer.stride) + 1;
  }
  return g;
}

struct LayerBuffers {
  explicit LayerBuffers(const PoolLayer& layer) : geometry(layer_geometry(layer)) {
    input.resize(static_cast<size_t>(layer.channels * geometry.input_size()));
    output.resize(static_cast<size_t>(layer.channels * geometry.output_size()));
    for (size_t i = 0; i < input.size(); ++i) input[i] = float(int(i * 7 % 13) - 6) / 8.0f;
  }
  double bytes() const { return 4.0 * double(input.size() + output.size()); }
  WindowGeometry geometry;
  std::vector<float> input, output;
};

enum class Variant { kFast, kReference, kCopy };

void run_layer(benchmark::State& state, const PoolLayer& layer, Variant variant) {
  LayerBuffers buffers(layer);
  const WindowGeometry& g = buffers.geometry;
  // The copy moves the same bytes: the input into a buffer as large as
  // input + output.
  std::vector<float> copy_target(variant == Variant::kCopy ? buffers.input.size() + buffers.output.size() : 0);
  for (auto _ : state) {
    if (variant == Variant::kCopy) {
      std::memcpy(copy_target.data(), buffers.input.data(), copy_target.size() / 2 * sizeof(float));
      std::memcpy(copy_target.data() + copy_target.size() / 2, buffers.input.data(),
                  (copy_target.size() - copy_target.size() / 2) * sizeof(float));
      benchmark::DoNotOptimize(copy_target.data());
    } else {
      for (int64_t c = 0; c < layer.channels; ++c) {
        const float* x = buffers.input.data() + c * g.input_size();
        float* y = buffers.output.data() + c * g.output_size();
        if (layer.average) {
          if (variant == Variant::kFast) kiln::kernels::f32_average_pool_plane(g, true, x, y);
          else kiln::kernels::f32_average_pool_plane_reference(g, true, x, y);
        } else {
          if (variant == Variant::kFast) kiln::kernels::max_pool_plane<float>(g, x, y, nullptr, 0, false);
          else kiln::kernels::f32_max_pool_plane_reference(g, x, y, nullptr, 0, false);
        }
      }
      benchmark::DoNotOptimize(buffers.output.data());
    }
    benchmark::ClobberMemory();
  }
  state.counters["GBps"] = benchmark::Counter(buffers.bytes() / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_benchmarks() {
  for (const PoolLayer& layer : kLayers) {
    const std::string op = std::string(layer.average ? "f32_average_pool_" : "f32_max_pool_") +
                           std::to_string(layer.kernel) + "x" + std::to_string(layer.kernel) + "s" +
                           std::to_string(layer.stride);
    const std::pair<const char*, Variant> variants[] = {
        {"", Variant::kFast}, {"_reference", Variant::kReference}, {"_memcpy", Variant::kCopy}};
    for (const auto& [suffix, variant] : variants) {
      const Variant v = variant;
      benchmark::RegisterBenchmark((op + suffix + "/" + layer.name).c_str(),
                                   [layer, v](benchmark::State& state) { run_layer(state, layer, v); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
