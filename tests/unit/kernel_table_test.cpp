// kernels/kernel_table.h and SessionOptions::isa: each session fills its own
// kernel table once, ops take their microkernels from it, and the observer
// reports the names they run.
#include "kernels/kernel_table.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/session.h"
#include "model_builder.h"

namespace kiln {
namespace {

using testing::ModelBuilder;

// The names the inventories give each level, spelled out here.
std::string gemm_name(Isa isa) {
  switch (isa) {
    case Isa::sse2: return "f32_gemm_4x8_sse2";
    case Isa::sse41: return "f32_gemm_4x8_sse41";
    case Isa::avx2: return "f32_gemm_6x16_avx2";
    case Isa::avx512: return "f32_gemm_8x32_avx512";
  }
  return "";
}

std::string affine_name(Isa isa) {
  switch (isa) {
    case Isa::sse2: return "f32_affine_activation_reference";
    case Isa::sse41: return "f32_affine_activation_sse41";
    case Isa::avx2: return "f32_affine_activation_avx2";
    case Isa::avx512: return "f32_affine_activation_avx512";
  }
  return "";
}

// The 3x3 stride-1 depthwise Conv: the fast kernel from sse41 up, the
// reference loops (with the affine-activation kernel) below.
std::string depthwise_name(Isa isa) {
  switch (isa) {
    case Isa::sse2: return "f32_conv_depthwise_reference+f32_affine_activation_reference";
    case Isa::sse41: return "f32_dwconv_3x3s1_sse41";
    case Isa::avx2: return "f32_dwconv_3x3s1_avx2";
    case Isa::avx512: return "f32_dwconv_3x3s1_avx512";
  }
  return "";
}

TEST(KernelTable, ForIsaPicksEachFamilysKernelForThatLevel) {
  for (Isa isa : {Isa::sse2, Isa::sse41, Isa::avx2, Isa::avx512}) {
    SCOPED_TRACE(isa_name(isa));
    const kernels::KernelTable table = kernels::KernelTable::for_isa(isa);
    EXPECT_EQ(table.isa, isa);
    ASSERT_NE(table.f32_gemm, nullptr);
    ASSERT_NE(table.f32_affine_activation, nullptr);
    EXPECT_EQ(table.f32_gemm->name, gemm_name(isa));
    EXPECT_EQ(table.f32_affine_activation->name, affine_name(isa));
    kernels::WindowGeometry window;
    window.kernel[1] = window.kernel[2] = 3;
    const kernels::F32DwconvKernel* dwconv = table.f32_dwconv(window);
    if (isa == Isa::sse2) {
      EXPECT_EQ(dwconv, nullptr);
    } else {
      ASSERT_NE(dwconv, nullptr);
      EXPECT_EQ(dwconv->name, depthwise_name(isa));
    }
  }
}

void set_int(onnx::NodeProto* node, const std::string& name, int64_t value) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void set_ints(onnx::NodeProto* node, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

std::vector<float> small_integers(size_t count, int limit, unsigned seed) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = static_cast<float>(int((i * 7 + seed * 13) % (2 * limit + 1)) - limit);
  return values;
}

// x [1,8,12,12] -> Conv 3x3 (dense: the GEMM) -> Conv 3x3 group 8 (depthwise) -> y;
// x -> MatMul by [12,5] -> z. Integer data: every kernel computes it exactly.
std::string three_kernel_model() {
  ModelBuilder m;
  m.input("x", {1, 8, 12, 12});
  m.initializer("w_dense", {8, 8, 3, 3}, small_integers(8 * 8 * 9, 2, 1));
  m.initializer("w_depthwise", {8, 1, 3, 3}, small_integers(8 * 9, 2, 2));
  m.initializer("b", {12, 5}, small_integers(60, 3, 3));
  onnx::NodeProto* dense = m.node("Conv", {"x", "w_dense"}, {"t"}, "dense");
  set_ints(dense, "pads", {1, 1, 1, 1});
  onnx::NodeProto* depthwise = m.node("Conv", {"t", "w_depthwise"}, {"y"}, "depthwise");
  set_ints(depthwise, "pads", {1, 1, 1, 1});
  set_int(depthwise, "group", 8);
  m.node("MatMul", {"x", "b"}, {"z"}, "matmul");
  m.output("y");
  m.output("z");
  return m.bytes();
}

// A session with an observer that records node name -> kernel name.
struct ObservedSession {
  std::map<std::string, std::string> kernels;
  std::optional<Session> session;

  explicit ObservedSession(const std::string& isa) {
    SessionOptions options;
    options.threads = 1;
    options.isa = isa;
    options.node_observer = [this](const NodeRunInfo& info) { kernels[info.node_name] = info.kernel; };
    session.emplace(Session::from_bytes(three_kernel_model(), options));
  }
  NamedTensors run() {
    const Tensor x = Tensor::from_floats({1, 8, 12, 12}, small_integers(8 * 144, 4, 4));
    return session->run({{"x", x}});
  }
  std::map<std::string, std::string> expected_for(Isa isa) const {
    return {{"dense", gemm_name(isa)}, {"depthwise", depthwise_name(isa)}, {"matmul", gemm_name(isa)}};
  }
};

void expect_same_values(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.data<float>()[i], b.data<float>()[i]) << what << " [" << i << "]";
}

// The point of a per-session table: two sessions in one process, one at
// sse41, one at the default level, each running its own kernels, whatever
// order they are built and run in.
TEST(SessionKernelTable, TwoSessionsInOneProcessRunTheirOwnKernels) {
  const Isa default_isa = selected_isa();
  if (!cpu_info().supports(Isa::sse41)) GTEST_SKIP() << "this CPU has no SSE4.1";
  if (default_isa == Isa::sse41) GTEST_SKIP() << "the default level is sse41 here: the two sessions would agree";
  ObservedSession low("sse41");
  ObservedSession best("");
  const NamedTensors low_first = low.run();
  const NamedTensors best_out = best.run();
  const NamedTensors low_again = low.run();
  EXPECT_EQ(low.kernels, low.expected_for(Isa::sse41));
  EXPECT_EQ(best.kernels, best.expected_for(default_isa));
  for (const char* name : {"y", "z"}) {
    expect_same_values(low_first.at(name), best_out.at(name), std::string(name) + " sse41 vs default");
    expect_same_values(low_first.at(name), low_again.at(name), std::string(name) + " sse41 run twice");
  }
}

std::string open_error(const std::string& isa) {
  SessionOptions options;
  options.isa = isa;
  try {
    Session::from_bytes(three_kernel_model(), options);
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(SessionKernelTable, UnknownIsaOptionIsAClearError) {
  for (const char* bad : {"avx9000", "AVX2", "sse4.1"}) {
    const std::string message = open_error(bad);
    EXPECT_NE(message.find(std::string("SessionOptions::isa='") + bad + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("use one of sse2, sse41, avx2, avx512"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(SessionKernelTable, IsaOptionAboveTheCpuIsAClearError) {
  const Isa best = cpu_info().best_isa();
  if (best == Isa::avx512) GTEST_SKIP() << "this CPU runs every level kiln has";
  const std::string message = open_error("avx512");
  EXPECT_NE(message.find("SessionOptions::isa=avx512"), std::string::npos) << message;
  EXPECT_NE(message.find(std::string("the highest available is ") + isa_name(best)), std::string::npos) << message;
}

// Sets KILN_ISA for one scope and puts the old value back.
class ScopedKilnIsa {
 public:
  explicit ScopedKilnIsa(const char* value) {
    if (const char* old = std::getenv("KILN_ISA")) old_ = old;
    if (value) ::setenv("KILN_ISA", value, 1);
    else ::unsetenv("KILN_ISA");
  }
  ~ScopedKilnIsa() {
    if (old_) ::setenv("KILN_ISA", old_->c_str(), 1);
    else ::unsetenv("KILN_ISA");
  }

 private:
  std::optional<std::string> old_;
};

// KILN_ISA sets the default, read each time a session is created; the
// option, when given, wins and KILN_ISA is not read at all.
TEST(SessionKernelTable, KilnIsaSetsTheDefaultWhenTheSessionIsCreated) {
  const Isa best = cpu_info().best_isa();
  if (!cpu_info().supports(Isa::sse41)) GTEST_SKIP() << "this CPU has no SSE4.1";
  {
    ScopedKilnIsa env("sse41");
    ObservedSession forced("");
    forced.run();
    EXPECT_EQ(forced.kernels, forced.expected_for(Isa::sse41));
    ObservedSession chosen(isa_name(best));
    chosen.run();
    EXPECT_EQ(chosen.kernels, chosen.expected_for(best));
  }
  {
    ScopedKilnIsa env(nullptr);
    ObservedSession unset("");
    unset.run();
    EXPECT_EQ(unset.kernels, unset.expected_for(best));
  }
  {
    ScopedKilnIsa env("avx9000");
    EXPECT_NE(open_error("").find("KILN_ISA='avx9000'"), std::string::npos) << open_error("");
    ObservedSession chosen("sse41");
    chosen.run();
    EXPECT_EQ(chosen.kernels, chosen.expected_for(Isa::sse41));
  }
}

}  // namespace
}  // namespace kiln
