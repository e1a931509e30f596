// Session::run from several threads at once on one session (the contract in
// include/kiln/session.h). The tsan stage of scripts/test.sh runs this suite
// under ThreadSanitizer, which turns any data race into a failure; here every
// concurrent run must also give exactly the outputs of a run alone. Also
// sessions created on several threads at once (docs/public_api.md).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "kiln/model_info.h"
#include "kiln/session.h"
#include "tests/unit/model_builder.h"

namespace kiln {
namespace {

using testing::ModelBuilder;

// Conv (packed weights, arena intermediates) -> Relu -> Add of the input's
// mean: enough kernels, planned values and thread-pool work to race on.
std::string conv_model() {
  ModelBuilder m;
  m.input("x", {1, 4, 12, 12});
  m.output("y");
  std::vector<float> w(8 * 4 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.37f * static_cast<float>(i));
  m.initializer("w", {8, 4, 3, 3}, w);
  m.initializer("b", {8}, {0.1f, -0.2f, 0.3f, -0.4f, 0.5f, -0.6f, 0.7f, -0.8f});
  auto* conv = m.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  m.node("Relu", {"c"}, {"r"}, "relu");
  m.node("GlobalAveragePool", {"r"}, {"g"}, "pool");
  m.node("Add", {"r", "g"}, {"y"}, "add");
  return m.bytes();
}

Tensor input_for(int k) {
  Tensor x(DataType::kFloat32, {1, 4, 12, 12});
  for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = std::cos(0.11f * static_cast<float>(i + 97 * k));
  return x;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

TEST(SessionThreads, FourThreadsRunOneSessionFiftyTimesEach) {
  constexpr int kThreads = 4, kRuns = 50, kInputs = 3;
  SessionOptions options;
  options.threads = 2;  // each run also uses the intra-op pool
  Session session = Session::from_bytes(conv_model(), options);
  std::vector<Tensor> expected;
  for (int k = 0; k < kInputs; ++k) expected.push_back(session.run({{"x", input_for(k)}}).at("y"));
  ASSERT_FALSE(same_bits(expected[0], expected[1]));  // the inputs really differ

  std::atomic<int> mismatches{0}, errors{0};
  std::atomic<bool> done{false};
  // The other members session.h says are safe beside run(), read while the
  // runs go on (ThreadSanitizer checks the memory counters they read).
  std::thread watcher([&] {
    uint64_t peak = 0;
    while (!done.load()) {
      if (session.inputs().at(0).name != "x" || session.outputs().at(0).name != "y") ++errors;
      if (session.memory_in_use_bytes() > session.memory_budget_bytes()) ++errors;
      const uint64_t now = session.peak_memory_bytes();
      if (now < peak) ++errors;  // a peak never goes down
      peak = now;
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRuns; ++r) {
        const int k = (t + r) % kInputs;
        try {
          const NamedTensors out = session.run({{"x", input_for(k)}});
          if (!same_bits(out.at("y"), expected[static_cast<size_t>(k)])) ++mismatches;
        } catch (const std::exception&) {
          ++errors;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  done = true;
  watcher.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

// Sessions created on several threads at once from one parsed Model (which
// they share), each then run on its own thread: docs/public_api.md says both
// are safe, and every session must give the outputs of one made alone.
TEST(SessionThreads, FourThreadsOpenSessionsFromOneModelAtOnce) {
  constexpr int kThreads = 4, kRuns = 5;
  SessionOptions options;
  options.threads = 2;
  const Model model = Model::from_bytes(conv_model());
  const Tensor expected = Session::open(model, options).run({{"x", input_for(1)}}).at("y");

  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      try {
        Session session = Session::open(model, options);
        for (int r = 0; r < kRuns; ++r)
          if (!same_bits(session.run({{"x", input_for(1)}}).at("y"), expected)) ++mismatches;
      } catch (const std::exception&) {
        ++errors;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace kiln
