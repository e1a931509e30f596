// platform/cpu_info: ISA names, KILN_ISA selection rules, and detection
// cross-checked against what Linux reports in /proc/cpuinfo.
#include "platform/cpu_info.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "kernels/describe_platform.h"
#include "kiln/error.h"

namespace kiln {
namespace {

CpuInfo fake_cpu(bool sse41, bool avx2_fma, bool avx512) {
  CpuInfo cpu;
  cpu.brand = "Test CPU";
  cpu.sse41 = sse41;
  cpu.avx2_fma = avx2_fma;
  cpu.avx512 = avx512;
  return cpu;
}

TEST(CpuInfo, IsaNamesRoundTrip) {
  for (Isa isa : {Isa::sse2, Isa::sse41, Isa::avx2, Isa::avx512}) EXPECT_EQ(parse_isa_name(isa_name(isa)), isa);
}

TEST(CpuInfo, UnknownIsaNameThrowsNamingTheChoices) {
  for (const char* bad : {"avx", "AVX2", "sse4.1", "neon", " avx2"}) {
    try {
      parse_isa_name(bad);
      ADD_FAILURE() << "no error for '" << bad << "'";
    } catch (const Error& error) {
      std::string message = error.what();
      EXPECT_NE(message.find(std::string("'") + bad + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("sse41, avx2, avx512"), std::string::npos) << message;
    }
  }
}

TEST(CpuInfo, SelectIsaDefaultsToBestAndOnlyLowers) {
  CpuInfo pentium = fake_cpu(true, false, false);
  EXPECT_EQ(select_isa(pentium, nullptr), Isa::sse41);
  EXPECT_EQ(select_isa(pentium, ""), Isa::sse41);
  EXPECT_EQ(select_isa(pentium, "sse2"), Isa::sse2);
  EXPECT_THROW(select_isa(pentium, "avx2"), Error);
  EXPECT_THROW(select_isa(pentium, "avx512"), Error);

  CpuInfo zen4 = fake_cpu(true, true, true);
  EXPECT_EQ(select_isa(zen4, nullptr), Isa::avx512);
  EXPECT_EQ(select_isa(zen4, "avx2"), Isa::avx2);
  EXPECT_EQ(select_isa(zen4, "sse41"), Isa::sse41);
  EXPECT_THROW(select_isa(zen4, "avx10"), Error);

  CpuInfo old_x86_64 = fake_cpu(false, false, false);
  EXPECT_EQ(select_isa(old_x86_64, nullptr), Isa::sse2);
  EXPECT_THROW(select_isa(old_x86_64, "sse41"), Error);
}

TEST(CpuInfo, UnsupportedRequestMessageNamesCpuAndBestLevel) {
  try {
    select_isa(fake_cpu(true, false, false), "avx512");
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("Test CPU"), std::string::npos) << message;
    EXPECT_NE(message.find("sse41"), std::string::npos) << message;
  }
}

// selected_isa() follows KILN_ISA as the process was started. CTest runs
// this test again with KILN_ISA=sse41 and with an invalid value
// (tests/CMakeLists.txt).
TEST(CpuInfo, SelectedIsaFollowsEnvironment) {
  const char* requested = std::getenv("KILN_ISA");
  if (requested == nullptr || *requested == '\0') {
    EXPECT_EQ(selected_isa(), cpu_info().best_isa());
    return;
  }
  bool known = false;
  for (Isa isa : {Isa::sse2, Isa::sse41, Isa::avx2, Isa::avx512})
    known = known || std::string(requested) == isa_name(isa);
  if (!known || !cpu_info().supports(parse_isa_name(requested))) {
    EXPECT_THROW(selected_isa(), Error) << "KILN_ISA=" << requested;
    EXPECT_NE(describe_platform().find("ISA selected: none"), std::string::npos) << describe_platform();
    return;
  }
  EXPECT_EQ(selected_isa(), parse_isa_name(requested));
  EXPECT_NE(describe_platform().find("forced by KILN_ISA"), std::string::npos) << describe_platform();
}

// The flags Linux lists for CPU 0 (empty when /proc/cpuinfo is unreadable).
std::set<std::string> linux_cpu_flags() {
  std::ifstream file("/proc/cpuinfo");
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string word; words >> word;) flags.insert(word);
    return flags;
  }
  return {};
}

TEST(CpuInfo, DetectionAgreesWithLinux) {
  std::set<std::string> flags = linux_cpu_flags();
  if (flags.empty()) GTEST_SKIP() << "/proc/cpuinfo has no flags line";
  const CpuInfo& cpu = cpu_info();
  auto has = [&](const char* flag) { return flags.count(flag) > 0; };
  EXPECT_EQ(cpu.sse41, has("sse4_1"));
  EXPECT_EQ(cpu.avx2_fma, has("avx2") && has("fma"));
  EXPECT_EQ(cpu.avx512, has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512dq"));
}

TEST(CpuInfo, CachesAndBrandAreFilled) {
  const CpuInfo& cpu = cpu_info();
  EXPECT_FALSE(cpu.brand.empty());
  EXPECT_GE(cpu.caches.l1d_bytes, 8u << 10) << cpu.cache_source;
  EXPECT_GT(cpu.caches.l2_bytes, cpu.caches.l1d_bytes) << cpu.cache_source;
  EXPECT_FALSE(cpu.cache_source.empty());
}

// Register values read off two machines: a VM of an AMD Turin-like CPU
// (48 KiB L1d, 1 MiB L2, the VM's 508 MiB L3) and an AMD part without L3.
TEST(CpuInfo, DecodesAmdLegacyCacheLeaves) {
  CacheSizes turin = decode_amd_cache_leaves(0x300c0140, 0x04006140, 0x0fe09140);
  EXPECT_EQ(turin.l1d_bytes, 48u << 10);
  EXPECT_EQ(turin.l2_bytes, 1u << 20);
  EXPECT_EQ(turin.l3_bytes, size_t(508) << 20);
  CacheSizes no_l3 = decode_amd_cache_leaves(0x40020140, 0x02008140, 0x0);
  EXPECT_EQ(no_l3.l1d_bytes, 64u << 10);
  EXPECT_EQ(no_l3.l2_bytes, 512u << 10);
  EXPECT_EQ(no_l3.l3_bytes, 0u);
}

TEST(CpuInfo, ParsesCacheSizesInKib) {
  CacheSizes pentium = parse_cache_sizes("32,256,0");
  EXPECT_EQ(pentium.l1d_bytes, 32u << 10);
  EXPECT_EQ(pentium.l2_bytes, 256u << 10);
  EXPECT_EQ(pentium.l3_bytes, 0u);
  CacheSizes big = parse_cache_sizes("48,1024,32768");
  EXPECT_EQ(big.l1d_bytes, 48u << 10);
  EXPECT_EQ(big.l2_bytes, 1u << 20);
  EXPECT_EQ(big.l3_bytes, 32u << 20);
  for (const char* bad : {"", "32,256", "32,256,0,0", "a,b,c", "0,256,0", "32,0,0", "32,,0", "32 ,256,0", "-1,2,3",
                          "32,256,0,", "1073741824,256,0", "32k,256,0"}) {
    try {
      parse_cache_sizes(bad);
      ADD_FAILURE() << "no error for '" << bad << "'";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(std::string("KILN_CACHES='") + bad + "'"), std::string::npos)
          << error.what();
    }
  }
}

TEST(CpuInfo, DescribePlatformNamesIsaCachesAndKernel) {
  std::string text = describe_platform();
  EXPECT_NE(text.find(cpu_info().brand), std::string::npos) << text;
  EXPECT_NE(text.find(std::string("ISA selected: ") + isa_name(selected_isa())), std::string::npos) << text;
  EXPECT_NE(text.find("L1d"), std::string::npos) << text;
  EXPECT_NE(text.find("f32_gemm_"), std::string::npos) << text;
}

}  // namespace
}  // namespace kiln
