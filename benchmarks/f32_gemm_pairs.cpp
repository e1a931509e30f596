// kiln's f32 GEMM against OpenBLAS cblas_sgemm, one thread, timed call by
// call in pairs: kiln, OpenBLAS, OpenBLAS, kiln, ... in one process, so both
// sides of a pair see the same machine (each timing covers as many calls as
// take about 20 ms). On a shared VM whose speed drifts by 5-10% between runs
// seconds apart, the per-pair ratio settles differences of 1-2% that separate
// benchmark runs cannot (kiln_f32_gemm_bench and
// f32_gemm_compare.sh stay the reference for absolute figures).
//
//   kiln_f32_gemm_pairs [--isa sse41|avx2|avx512] [--pairs N] [--filter REGEX]
//
// For each shape (square 256..1024 and the conv shapes of kiln_f32_gemm_bench,
// named like "conv/M:32/N:92160/K:576") it prints the medians of both sides
// in GFLOP/s with the share of the ISA's peak, the ratio of the medians, the
// median of the per-pair ratios and how many pairs kiln won. OpenBLAS picks
// its kernels when it loads, so the program sets OPENBLAS_CORETYPE to the
// matching core (Nehalem, Haswell, SkylakeX) and runs itself again when the
// loaded core differs.
//
//   kiln_f32_gemm_pairs --scaling [--isa ...] [--rounds N] [--filter REGEX]
//
// times instead, per shape, four sides in rotating rounds: kiln on 1 and on
// 2 threads, OpenBLAS on 1 and on 2 threads, each timing (~50 ms of calls)
// after one untimed call of the same side, each side writing its own C (a
// call on one core right after a call on two first pulls C back from the
// other core's cache). After OpenBLAS's 2-thread timing the program sleeps
// 0.2 s: OpenBLAS's idle workers spin for a while and would take a core from
// the next side. It prints both sides' medians, their 2-thread speed-ups
// (median of the per-round ratios), and the machine's own: its FMA (or SSE
// mul + add) loop, registers only, on 1 and on 2 threads, timed the same
// way before and after the shapes.
#include <cblas.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/f32_gemm_shapes.h"
#include "kernels/f32_gemm_packed.h"
#include "kernels/f32_peak.h"
#include "platform/cpu_info.h"
#include "platform/thread_pool.h"

namespace {

using kiln::Isa;
using kiln::bench::GemmShape;
using kiln::kernels::F32GemmMicrokernel;

const char* openblas_core_for(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "SkylakeX";
    case Isa::avx2: return "Haswell";
    default: return "Nehalem";
  }
}

std::string lower(std::string text) {
  for (char& letter : text) letter = char(std::tolower(static_cast<unsigned char>(letter)));
  return text;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t half = values.size() / 2;
  return values.size() % 2 == 1 ? values[half] : 0.5 * (values[half - 1] + values[half]);
}

// Seconds per call, over `calls` calls in a row.
double seconds_per_call(const auto& call, int calls) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) call();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls;
}

// One side of a round: a call, and whether to sleep after timing it.
struct Side {
  std::function<void()> call;
  bool sleep_after = false;
};

// Seconds per call of each side over `rounds` rounds; round r starts with
// side r % sides.size(), so two sides alternate which goes first. Each
// timing covers `calls` calls, after an untimed one when `settle` is set.
std::vector<std::vector<double>> time_rounds(const std::vector<Side>& sides, int rounds, int calls, bool settle) {
  std::vector<std::vector<double>> seconds(sides.size());
  for (int round = 0; round < rounds; ++round)
    for (size_t i = 0; i < sides.size(); ++i) {
      const size_t index = (size_t(round) + i) % sides.size();
      const Side& side = sides[index];
      if (settle) side.call();
      seconds[index].push_back(seconds_per_call(side.call, calls));
      if (side.sleep_after) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  return seconds;
}

// Median of first / second, round by round (the second side's speed-up).
double median_ratio(const std::vector<double>& first, const std::vector<double>& second) {
  std::vector<double> ratios;
  for (size_t i = 0; i < first.size(); ++i) ratios.push_back(first[i] / second[i]);
  return median(ratios);
}

// One shape's inputs and kiln's packed A, and one call of either side into
// a given C.
struct GemmProblem {
  const F32GemmMicrokernel& kernel;
  const GemmShape& shape;
  std::vector<float> a, b;
  kiln::kernels::F32PackedA packed;

  GemmProblem(const F32GemmMicrokernel& kernel_in, const GemmShape& shape_in)
      : kernel(kernel_in), shape(shape_in), a(shape.m * shape.k), b(shape.k * shape.n) {
    kiln::bench::fill_gemm_inputs(a, b);
    packed.pack(kernel, false, shape.m, shape.k, a.data(), shape.k);
  }
  double flops() const { return 2.0 * double(shape.m) * double(shape.n) * double(shape.k); }
  void kiln(int threads, float* c) {
    if (!shape.packs_a_once()) packed.pack(kernel, false, shape.m, shape.k, a.data(), shape.k, 1.0f, threads);
    kiln::kernels::f32_gemm_packed(packed, false, shape.n, b.data(), shape.n, c, shape.n,
                                   kiln::kernels::F32GemmEpilogue{}, threads);
  }
  // The number of threads is OpenBLAS's own setting (openblas_set_num_threads).
  void openblas(float* c) const {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(shape.m), int(shape.n), int(shape.k), 1.0f, a.data(),
                int(shape.k), b.data(), int(shape.n), 0.0f, c, int(shape.n));
  }
};

struct PairResult {
  double kiln_gflops, openblas_gflops, median_pair_ratio;
  int kiln_wins;
};

PairResult run_pairs(const F32GemmMicrokernel& kernel, const GemmShape& shape, int pairs) {
  GemmProblem problem(kernel, shape);
  std::vector<float> c(shape.m * shape.n);
  const std::vector<Side> sides = {{[&] { problem.kiln(1, c.data()); }}, {[&] { problem.openblas(c.data()); }}};
  // Warm-up (first touch, packing buffers), then as many calls per timing
  // as make it last about 20 ms.
  sides[1].call();
  const int calls = std::clamp(int(0.02 / seconds_per_call(sides[0].call, 1)), 1, 10000);
  const std::vector<std::vector<double>> seconds = time_rounds(sides, pairs, calls, false);
  int kiln_wins = 0;
  for (int pair = 0; pair < pairs; ++pair) kiln_wins += seconds[0][size_t(pair)] < seconds[1][size_t(pair)];
  return {problem.flops() / median(seconds[0]) / 1e9, problem.flops() / median(seconds[1]) / 1e9,
          median_ratio(seconds[1], seconds[0]), kiln_wins};
}

struct ScalingResult {
  double kiln_gflops[2], openblas_gflops[2];  // 1 and 2 threads
  double kiln_speedup, openblas_speedup;
};

constexpr double kScalingTimingSeconds = 0.05;

ScalingResult run_scaling(const F32GemmMicrokernel& kernel, const GemmShape& shape, int rounds) {
  GemmProblem problem(kernel, shape);
  std::vector<std::vector<float>> c(4, std::vector<float>(shape.m * shape.n));
  auto openblas_call = [&](int threads, float* out) {
    openblas_set_num_threads(threads);
    problem.openblas(out);
  };
  const std::vector<Side> sides = {
      {[&] { problem.kiln(1, c[0].data()); }},
      {[&] { problem.kiln(2, c[1].data()); }},
      {[&] { openblas_call(1, c[2].data()); }},
      {[&] { openblas_call(2, c[3].data()); }, true},
  };
  for (const Side& side : sides) side.call();  // first touch of each C, packing buffers, OpenBLAS's threads
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int calls = std::clamp(int(kScalingTimingSeconds / seconds_per_call(sides[0].call, 1)), 1, 10000);
  const std::vector<std::vector<double>> seconds = time_rounds(sides, rounds, calls, true);
  const double flops = problem.flops();
  return {{flops / median(seconds[0]) / 1e9, flops / median(seconds[1]) / 1e9},
          {flops / median(seconds[2]) / 1e9, flops / median(seconds[3]) / 1e9},
          median_ratio(seconds[0], seconds[1]),
          median_ratio(seconds[2], seconds[3])};
}

// The machine's own 2-thread speed-up: `isa`'s register-only peak loop
// (kernels/f32_peak.h) on one thread and on two at once, in alternating
// rounds, each timing (about kScalingTimingSeconds) after an untimed run.
struct MachineScaling {
  double one_thread_gflops, two_threads_gflops, speedup;
};

MachineScaling measure_machine_scaling(Isa isa, int rounds) {
  const kiln::kernels::F32PeakLoopFn loop = kiln::kernels::f32_peak_loop_for(isa);
  float sinks[2 * 16] = {};
  uint64_t iterations = 1 << 16;
  uint64_t flops[2] = {0, 0};  // of the last run, per thread
  auto run = [&](int threads) {
    kiln::parallel_for(threads, threads, [&](int64_t i) { flops[i] = loop(iterations, 1.0f, sinks + 16 * i); });
  };
  const double probe_seconds = seconds_per_call([&] { run(1); }, 1);
  iterations = uint64_t(std::max(1.0, double(iterations) * kScalingTimingSeconds / probe_seconds));
  const std::vector<std::vector<double>> seconds =
      time_rounds({{[&] { run(1); }}, {[&] { run(2); }}}, rounds, 1, true);
  const double flops_per_thread = double(flops[0]);
  return {flops_per_thread / median(seconds[0]) / 1e9, 2 * flops_per_thread / median(seconds[1]) / 1e9,
          2 * median_ratio(seconds[0], seconds[1])};
}

void print_machine_row(Isa isa, const MachineScaling& machine) {
  std::printf("| machine: %s peak loop, registers only | %.1f | %.1f | %.2fx | | | | |\n",
              kiln::kernels::f32_peak_name(isa), machine.one_thread_gflops, machine.two_threads_gflops,
              machine.speedup);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kiln's f32 GEMM against OpenBLAS, one thread, timed call by call in alternating pairs in one process; "
      "with --scaling, both on 1 and on 2 threads in rotating rounds."};
  std::string isa_name;
  int pairs = 15;
  std::string filter = ".";
  app.add_option("--isa", isa_name, "kiln kernel level: sse41, avx2 or avx512 (default: the best this CPU has)")
      ->check(CLI::IsMember({"sse41", "avx2", "avx512"}));
  app.add_option("--pairs", pairs, "timed pairs per shape (default 15)")->check(CLI::Range(1, 1000));
  app.add_option("--filter", filter, "regular expression over shape names such as conv/M:32/N:92160/K:576");
  bool scaling = false;
  int rounds = 9;
  app.add_flag("--scaling", scaling,
               "instead: kiln and OpenBLAS each on 1 and on 2 threads, in rotating rounds, and their 2-thread "
               "speed-ups beside the machine's own (its peak loop on 1 and 2 threads)");
  app.add_option("--rounds", rounds, "rounds per shape with --scaling (default 9)")->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);

  try {
    const kiln::CpuInfo& cpu = kiln::cpu_info();
    Isa isa = cpu.supports(Isa::avx512) ? Isa::avx512 : cpu.supports(Isa::avx2) ? Isa::avx2 : Isa::sse41;
    if (!isa_name.empty()) isa = isa_name == "avx512" ? Isa::avx512 : isa_name == "avx2" ? Isa::avx2 : Isa::sse41;
    if (!cpu.supports(isa)) {
      std::fprintf(stderr, "kiln_f32_gemm_pairs: this CPU cannot run %s\n", isa_name.c_str());
      return 1;
    }
    // OpenBLAS chose its core when it loaded: run again with the matching one.
    const char* core = openblas_core_for(isa);
    if (lower(openblas_get_corename()) != lower(core)) {
      const char* already = std::getenv("OPENBLAS_CORETYPE");
      if (already != nullptr && lower(already) == lower(core)) {
        std::fprintf(stderr, "kiln_f32_gemm_pairs: OpenBLAS runs core %s although OPENBLAS_CORETYPE=%s\n",
                     openblas_get_corename(), core);
        return 1;
      }
      setenv("OPENBLAS_CORETYPE", core, 1);
      execv("/proc/self/exe", argv);
      std::perror("kiln_f32_gemm_pairs: cannot run itself again with OPENBLAS_CORETYPE set");
      return 1;
    }
    if (!scaling) openblas_set_num_threads(1);
    const F32GemmMicrokernel& kernel = kiln::kernels::f32_gemm_microkernel_for(isa);
    const double peak = kiln::kernels::f32_peak_gflops_per_core(isa);
    std::regex pattern;
    try {
      pattern = std::regex(filter);
    } catch (const std::regex_error& error) {
      std::fprintf(stderr, "kiln_f32_gemm_pairs: --filter '%s' is not a regular expression: %s\n", filter.c_str(),
                   error.what());
      return 1;
    }
    std::vector<GemmShape> shapes;
    for (const GemmShape& shape : kiln::bench::f32_gemm_benchmark_shapes())
      if (std::regex_search(shape.name(), pattern)) shapes.push_back(shape);
    if (shapes.empty()) {
      std::fprintf(stderr, "kiln_f32_gemm_pairs: no shape matches --filter '%s'\n", filter.c_str());
      return 1;
    }

    if (scaling) {
      // The share of peak is of the higher of the process's peak figure and
      // the peak loop's one-thread rate in this run, times two threads.
      const MachineScaling machine_before = measure_machine_scaling(isa, rounds);
      const double run_peak = std::max(peak, machine_before.one_thread_gflops);
      std::printf("kiln %s and OpenBLAS %s on 1 and 2 threads, %d rotating rounds per shape; %s peak %.1f GFLOP/s "
                  "per core (%% of twice that)\n\n",
                  kernel.name, openblas_get_corename(), rounds, kiln::kernels::f32_peak_name(isa), run_peak);
      std::printf("| shape | kiln 1 thread GFLOP/s | kiln 2 threads | kiln speed-up | OpenBLAS 1 thread | "
                  "OpenBLAS 2 threads | OpenBLAS speed-up | kiln / OpenBLAS, 2 threads |\n");
      std::printf("|---|---|---|---|---|---|---|---|\n");
      print_machine_row(isa, machine_before);
      for (const GemmShape& shape : shapes) {
        std::fprintf(stderr, "%s ...\n", shape.name().c_str());
        const ScalingResult result = run_scaling(kernel, shape, rounds);
        std::printf("| %s | %.1f | %.1f (%.0f%%) | %.2fx | %.1f | %.1f (%.0f%%) | %.2fx | %.3f |\n",
                    shape.name().c_str(), result.kiln_gflops[0], result.kiln_gflops[1],
                    100 * result.kiln_gflops[1] / (2 * run_peak), result.kiln_speedup, result.openblas_gflops[0],
                    result.openblas_gflops[1], 100 * result.openblas_gflops[1] / (2 * run_peak),
                    result.openblas_speedup, result.kiln_gflops[1] / result.openblas_gflops[1]);
        std::fflush(stdout);
      }
      print_machine_row(isa, measure_machine_scaling(isa, rounds));
      return 0;
    }
    std::printf("kiln %s against OpenBLAS %s, one thread, %d alternating pairs per shape; %s peak %.1f GFLOP/s\n\n",
                kernel.name, openblas_get_corename(), pairs, kiln::kernels::f32_peak_name(isa), peak);
    std::printf("| shape | kiln GFLOP/s | OpenBLAS GFLOP/s | ratio of medians | median pair ratio | kiln faster |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (const GemmShape& shape : shapes) {
      std::fprintf(stderr, "%s ...\n", shape.name().c_str());
      const PairResult result = run_pairs(kernel, shape, pairs);
      std::printf("| %s | %.1f (%.0f%%) | %.1f (%.0f%%) | %.3f | %.3f | %d/%d |\n", shape.name().c_str(),
                  result.kiln_gflops, 100 * result.kiln_gflops / peak, result.openblas_gflops,
                  100 * result.openblas_gflops / peak, result.kiln_gflops / result.openblas_gflops,
                  result.median_pair_ratio, result.kiln_wins, pairs);
      std::fflush(stdout);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "kiln_f32_gemm_pairs: %s\n", error.what());
    return 1;
  }
  return 0;
}
