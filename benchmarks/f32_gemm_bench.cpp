// f32 GEMM: every kiln microkernel this CPU supports (through the packed
// driver, as Conv and Gemm use it) against OpenBLAS cblas_sgemm, on square
// problems and on convolution-shaped ones (M = output channels, N = a whole
// feature map, K = 9 * C_in or C_in), with 1 and 2 threads.
//
// Counters: GFLOPS (flops per second) and pct_peak, the share of the
// per-core peak of the kernel's ISA times the thread count. The peaks are
// measured on this machine when the process starts (kernels/f32_peak.h,
// register-only mul + add for SSE, FMA for AVX2 and AVX-512; printed in the
// context lines as peak_gflops_per_core_<isa>).
//
// kiln problems:
//   square : A packed inside the timed loop (like any general GEMM call)
//   conv   : A packed once outside it (weights are constant; Conv packs them
//            when the session is built), B and C plain row-major
//
// OpenBLAS picks its kernels when the library loads, from OPENBLAS_CORETYPE:
//   OPENBLAS_CORETYPE=Nehalem  build/release/benchmarks/kiln_f32_gemm_bench   # SSE kernels
//   OPENBLAS_CORETYPE=Haswell  build/release/benchmarks/kiln_f32_gemm_bench   # AVX2 + FMA
//   OPENBLAS_CORETYPE=SkylakeX build/release/benchmarks/kiln_f32_gemm_bench   # AVX-512
// The core it runs is part of the benchmark name. Compare kiln's sse41 rows
// with a Nehalem run, avx2 with Haswell, avx512 with SkylakeX.
// Useful filters: --benchmark_filter='square' or 'conv/M:64', and keep runs
// short on a shared machine: --benchmark_min_time=0.05.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/f32_gemm_shapes.h"
#include "kernels/f32_gemm_packed.h"
#include "kernels/f32_peak.h"
#include "platform/cpu_info.h"

namespace {

using kiln::Isa;
using kiln::kernels::F32GemmMicrokernel;

// OpenBLAS core names (openblas_get_corename) to the ISA their kernels use.
Isa openblas_isa() {
  std::string core = openblas_get_corename();
  for (char& letter : core) letter = char(std::tolower(static_cast<unsigned char>(letter)));
  for (const char* avx512_core : {"skylakex", "cooperlake", "sapphirerapids"})
    if (core == avx512_core) return Isa::avx512;
  for (const char* avx2_core : {"haswell", "zen", "sandybridge"})
    if (core == avx2_core) return Isa::avx2;
  return Isa::sse41;
}

using kiln::bench::GemmShape;

// The inputs of one shape, allocated once and kept while benchmarks of the
// same shape run (the largest conv shapes take hundreds of MB).
struct GemmBuffers {
  std::vector<float> a, b, c;
};

GemmBuffers& buffers_for(const GemmShape& shape) {
  static size_t cached_m = 0, cached_n = 0, cached_k = 0;
  static std::unique_ptr<GemmBuffers> cached;
  if (!cached || cached_m != shape.m || cached_n != shape.n || cached_k != shape.k) {
    cached.reset();
    cached = std::make_unique<GemmBuffers>();
    cached->a.resize(shape.m * shape.k);
    cached->b.resize(shape.k * shape.n);
    cached->c.assign(shape.m * shape.n, 0.0f);
    kiln::bench::fill_gemm_inputs(cached->a, cached->b);
    cached_m = shape.m, cached_n = shape.n, cached_k = shape.k;
  }
  return *cached;
}

void set_counters(benchmark::State& state, const GemmShape& shape, Isa isa, int threads) {
  double flops = 2.0 * double(shape.m) * double(shape.n) * double(shape.k);
  state.counters["GFLOPS"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  const double peak_flops = kiln::kernels::f32_peak_gflops_per_core(isa) * 1e9 * threads;
  state.counters["pct_peak"] =
      benchmark::Counter(flops * 100.0 / peak_flops, benchmark::Counter::kIsIterationInvariantRate);
}

void run_kiln(benchmark::State& state, const F32GemmMicrokernel* kernel, GemmShape shape, int threads) {
  GemmBuffers& data = buffers_for(shape);
  bool pack_once = shape.packs_a_once();
  kiln::kernels::F32PackedA packed(*kernel, false, shape.m, shape.k, data.a.data(), shape.k);
  kiln::kernels::F32GemmEpilogue epilogue;
  for (auto _ : state) {
    if (!pack_once) packed.pack(*kernel, false, shape.m, shape.k, data.a.data(), shape.k, 1.0f, threads);
    kiln::kernels::f32_gemm_packed(packed, false, shape.n, data.b.data(), shape.n, data.c.data(), shape.n, epilogue,
                                   threads);
    benchmark::DoNotOptimize(data.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, shape, kernel->isa, threads);
}

void run_openblas(benchmark::State& state, GemmShape shape, int threads) {
  GemmBuffers& data = buffers_for(shape);
  openblas_set_num_threads(threads);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(shape.m), int(shape.n), int(shape.k), 1.0f,
                data.a.data(), int(shape.k), data.b.data(), int(shape.n), 0.0f, data.c.data(), int(shape.n));
    benchmark::DoNotOptimize(data.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, shape, openblas_isa(), threads);
}

// The microkernel alone, one full MR x NR tile over kc = 256 from panels
// that sit in L1: the ceiling the driver can reach.
void run_microkernel(benchmark::State& state, const F32GemmMicrokernel* kernel) {
  const size_t kc = 256, mr = kernel->mr, nr = kernel->nr;
  std::vector<float> a_storage(kc * mr * kernel->a_copies + 16, 0.5f), b_storage(kc * nr + 16, 0.25f), c(mr * nr);
  auto align64 = [](float* p) { return p + (16 - reinterpret_cast<uintptr_t>(p) / sizeof(float) % 16) % 16; };
  float *a_panel = align64(a_storage.data()), *b_panel = align64(b_storage.data());
  kiln::kernels::F32GemmTileEpilogue epilogue{nullptr, false, kiln::kernels::Activation::none, 0.0f, 0.0f};
  for (auto _ : state) {
    kernel->tile(mr, nr, kc, a_panel, b_panel, c.data(), nr, epilogue);
    benchmark::ClobberMemory();
  }
  set_counters(state, {"tile", mr, nr, kc}, kernel->isa, 1);
}

std::string shape_suffix(const GemmShape& shape, int threads) {
  std::string suffix = "/";  // (not "/" + name(): GCC 12 warns a false -Wrestrict on that)
  return suffix.append(shape.name()).append("/threads:").append(std::to_string(threads));
}

void register_benchmarks() {
  const std::string openblas_name = std::string("openblas_sgemm_") + openblas_get_corename();
  for (const F32GemmMicrokernel& kernel : kiln::kernels::f32_gemm_microkernels())
    if (kiln::cpu_info().supports(kernel.isa))
      benchmark::RegisterBenchmark((kernel.name + std::string("/tile/kc:256")).c_str(), run_microkernel, &kernel);
  // One thread: rates use the thread's CPU time, which stays honest when
  // other jobs share the machine. Two threads: wall-clock time.
  auto timing = [](benchmark::internal::Benchmark* benchmark, int threads) {
    benchmark->Unit(benchmark::kMillisecond);
    if (threads > 1) benchmark->UseRealTime();
  };
  for (const GemmShape& shape : kiln::bench::f32_gemm_benchmark_shapes())
    for (int threads : {1, 2}) {
      // Shapes stay together so each set of buffers is built once.
      for (const F32GemmMicrokernel& kernel : kiln::kernels::f32_gemm_microkernels()) {
        if (!kiln::cpu_info().supports(kernel.isa)) continue;
        timing(benchmark::RegisterBenchmark((kernel.name + shape_suffix(shape, threads)).c_str(), run_kiln, &kernel,
                                            shape, threads),
               threads);
      }
      timing(benchmark::RegisterBenchmark((openblas_name + shape_suffix(shape, threads)).c_str(), run_openblas, shape,
                                          threads),
             threads);
    }
}

}  // namespace

int main(int argc, char** argv) {
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Measure the peaks before any benchmark runs (and heats the machine).
  for (Isa isa : {Isa::sse2, Isa::avx2, Isa::avx512})
    if (kiln::cpu_info().supports(isa))
      benchmark::AddCustomContext(std::string("peak_gflops_per_core_") + kiln::kernels::f32_peak_name(isa),
                                  std::to_string(kiln::kernels::f32_peak_gflops_per_core(isa)));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
