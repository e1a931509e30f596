// kiln::Session: load an ONNX model once, run it many times.
//
//   kiln::SessionOptions options;
//   options.threads = 2;
//   options.input_shapes["x"] = {1, 3, 736, 1280};
//   kiln::Session session = kiln::Session::open("det.onnx", options);
//   auto outputs = session.run({{"x", input}});
//
// Every failure (missing file, malformed model, unsupported ops, wrong input
// shape) throws kiln::Error with a message meant for a person.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/optimize.h"
#include "kiln/tensor.h"

namespace kiln {

class Model;  // kiln/model_info.h

// What the executor reports after each node when SessionOptions::node_observer is set.
struct NodeRunInfo {
  const std::string& node_name;
  const std::string& op_type;
  const std::vector<const Tensor*>& inputs;   // nullptr for omitted optional inputs
  const std::vector<Tensor>& outputs;
  double seconds;                             // wall time of the node's kernel
  const std::string& activation;              // FusedConv: the fused activation ("Relu", ...); else empty
  const std::string& kernel;                  // the microkernel(s) the node runs ("f32_gemm_6x16_avx2"); else empty
};

struct SessionOptions {
  // Intra-op threads; 0 = the number of physical cores.
  int threads = 0;
  // The instruction-set level the kernels run at: "sse2", "sse41", "avx2" or
  // "avx512", at most what this CPU supports. Empty = the environment
  // variable KILN_ISA when set, else the best level the CPU supports. Read
  // when the session is created; each session keeps its own kernels.
  std::string isa;
  // Graph optimization level (see OptLevel); Session::optimization_summary() tells what it did.
  OptLevel opt_level = OptLevel::kAll;
  // Fixed shapes for whole inputs, by input name.
  std::map<std::string, Shape> input_shapes;
  // Values for named symbolic dims ("batch" -> 1).
  std::map<std::string, int64_t> dim_values;
  // The batch size to run at: > 0 replaces dim 0 of every input, whether the
  // model declares it fixed (most exported CNNs fix it at 1) or symbolic,
  // after input_shapes and dim_values are applied. 0 = as declared. A graph
  // that hard-codes its batch elsewhere (a Reshape to a constant 1x...) fails
  // shape inference naming the node; one whose shapes still fit (a Reshape to
  // 1x-1) runs, and its outputs keep the old batch: callers that care compare
  // the outputs' dim 0 (`kiln bench --batch` does).
  int64_t batch = 0;
  // Called after every node of every run (for profiling and shape reports).
  std::function<void(const NodeRunInfo&)> node_observer;
  // Memory budget in bytes for every tensor the session allocates while it
  // loads, optimizes, builds and runs the model: weights, folded constants,
  // intermediate values and outputs (until the caller drops them), and kernels'
  // large scratch buffers. 0 = the machine's available memory when the session
  // is created (MemAvailable in /proc/meminfo). An allocation that would go over
  // it throws kiln::Error naming the node, the tensor, the bytes it needed and
  // the budget, before the memory is taken. When the session is built, the
  // memory plan's arena (runtime/memory_plan.h) must fit in what the weights
  // leave, or creation fails naming the largest planned values. Tensors the
  // caller passes to run() do not count unless it reserves them
  // (Session::reserve_memory).
  uint64_t max_memory_bytes = 0;
};

// One model input or output as declared: dims < 0 are dynamic, with their
// symbol in dim_names when the model names them.
struct TensorInfo {
  std::string name;
  DataType dtype = DataType::kUndefined;
  bool has_shape = false;
  std::vector<int64_t> dims;
  std::vector<std::string> dim_names;
  std::string shape_string() const;  // "1x3xHxW", "?" when rank unknown
};

using NamedTensors = std::map<std::string, Tensor>;

// What the static memory plan decided (all sizes in bytes). Intermediate
// values whose shapes are known when the session is built share one arena by
// lifetime; the others are allocated when they are produced and freed after
// their last use.
struct MemorySummary {
  size_t arena_bytes = 0;        // the arena every run allocates once
  size_t peak_live_bytes = 0;    // the most planned bytes alive at one time (lower bound for arena_bytes)
  size_t unplanned_bytes = 0;    // sum of planned values if nothing were reused
  size_t planned_values = 0;     // intermediates placed in the arena
  size_t in_place_values = 0;    // of those, element-wise results written over their input
  size_t concat_slice_values = 0;  // of those, Concat inputs written straight into the Concat's output
  size_t dynamic_values = 0;     // intermediates whose size is only known at run time
  size_t constant_bytes = 0;     // weights and folded constants
  std::string note;              // why planning was skipped, if it was
  // Set when SessionOptions::max_memory_bytes was 0 and the plan (arena and
  // weights) needs more than half of the memory available when the session
  // was created; names the largest tensors. Empty otherwise.
  std::string warning;
};

class Session {
 public:
  static Session open(const std::string& model_path, const SessionOptions& options = {});
  static Session from_bytes(const std::string& model_bytes, const SessionOptions& options = {},
                            const std::string& base_dir = ".");
  // From a model already parsed (kiln/model_info.h), without reading the file
  // again. The session shares the model's weights (and counts them against
  // SessionOptions::max_memory_bytes, as if it had loaded them).
  static Session open(const Model& model, const SessionOptions& options = {});
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  int threads() const;
  // What the graph optimizer did at build time: node counts before and after,
  // and how often each pass of SessionOptions::opt_level fired.
  const OptimizeReport& optimization_summary() const;
  // The static memory plan (see MemorySummary).
  const MemorySummary& memory_summary() const;
  // The memory budget in bytes (SessionOptions::max_memory_bytes, or the
  // available memory it resolved to) and the most the session's tensors have
  // held at once so far.
  uint64_t memory_budget_bytes() const;
  uint64_t peak_memory_bytes() const;
  // The bytes the session's tensors (and reserve_memory()) hold now.
  uint64_t memory_in_use_bytes() const;
  // Counts `bytes` the caller is about to allocate for this session (inputs it
  // builds or loads, say) against the memory budget until the session is
  // destroyed. Call it before allocating them: it throws kiln::Error naming
  // `what`, the bytes and the budget when they do not fit, and counts nothing.
  void reserve_memory(uint64_t bytes, const std::string& what);

  // Runs the model. Every declared input must be given; outputs come back by
  // name. The session keeps the arena and the last run's outputs for the next
  // run: an output tensor the caller has released by then has its buffer
  // written over by the next run (saving a fresh allocation's page faults);
  // one the caller still holds is left alone.
  //
  // Thread safety: run() may be called from several threads at once on one
  // session; each call gets its own intermediate buffers (the spare arena is
  // handed to one run at a time) and the kernels' packed weights are only
  // read. The other members are safe to call concurrently with run() except
  // moving or destroying the session. Tested under ThreadSanitizer by the
  // tsan stage of scripts/test.sh (tests/unit/session_threads_test.cpp).
  NamedTensors run(const NamedTensors& inputs);

  struct Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Number of physical cores of this machine (the default thread count).
int physical_core_count();

}  // namespace kiln
