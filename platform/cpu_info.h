// What the CPU and the OS let kiln use, detected once with CPUID and XGETBV,
// and which instruction-set level the kernels run at.
//
// This file and cpu_info.cpp are compiled for baseline x86-64 (no -m flags):
// they must run on any CPU, including ones that lack the ISAs they detect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

// Instruction-set levels, lowest first. Each level includes the ones before it.
//   sse2   : baseline x86-64, always present.
//   sse41  : SSE4.1 (the Pentium-class target; kernels use mul+add, no FMA).
//   avx2   : AVX2 + FMA3, with the OS saving YMM state.
//   avx512 : AVX-512 F+BW+VL+DQ, with the OS saving ZMM and opmask state.
enum class Isa { sse2 = 0, sse41 = 1, avx2 = 2, avx512 = 3 };

// "sse2", "sse41", "avx2", "avx512".
const char* isa_name(Isa isa);
// The inverse of isa_name (case-sensitive). Throws kiln::Error naming the
// accepted values when `name` is not one of them; `source` says where the
// name came from ("KILN_ISA", "SessionOptions::isa").
Isa parse_isa_name(std::string_view name, const char* source = "KILN_ISA");

// Data-cache sizes in bytes. l1d and l2 are per core; l3 is the whole cache
// shared by the cores (0 when the CPU has none or it could not be read).
struct CacheSizes {
  size_t l1d_bytes = 0;
  size_t l2_bytes = 0;
  size_t l3_bytes = 0;
};

struct CpuInfo {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", ...
  std::string brand;   // the CPUID brand string, trimmed
  bool sse41 = false;
  bool avx2_fma = false;  // AVX2 and FMA3, and the OS saves YMM registers
  bool avx512 = false;    // F, BW, VL and DQ, and the OS saves ZMM and k registers
  CacheSizes caches;
  std::string cache_source;  // where the cache sizes came from, for `kiln info`

  // The highest level this CPU (and OS) supports.
  Isa best_isa() const;
  bool supports(Isa isa) const;
};

// AMD's CPUID leaves 0x80000005 and 0x80000006 as cache sizes: ECX[31:24] of
// the first is the L1 data cache in KiB; of the second, ECX[31:16] is the L2
// in KiB and EDX[31:18] the L3 in 512 KiB units (0: none). detect_cpu reads
// them on AMD CPUs whose leaf 0x8000001D is empty (as in some VMs) and when
// sysfs has no cache folders.
CacheSizes decode_amd_cache_leaves(uint32_t ecx_80000005, uint32_t ecx_80000006, uint32_t edx_80000006);

// Runs CPUID/XGETBV and reads the cache sizes. Never throws.
CpuInfo detect_cpu();

// "L1D,L2,L3" in KiB (L3 may be 0) as cache sizes, e.g. "32,256,0".
// Throws kiln::Error naming the expected form otherwise.
CacheSizes parse_cache_sizes(std::string_view text);

// The detection result for this machine, computed on first use. The
// environment variable KILN_CACHES="L1D,L2,L3" (KiB) replaces the detected
// cache sizes, and with them the GEMM's cache blocking: to run a Pentium's
// blocking (KILN_CACHES=32,256,0) on another machine, or the same blocking
// on two machines. Throws kiln::Error (on every call) when it is malformed.
const CpuInfo& cpu_info();

// The level the kernels should run at on `cpu`. `requested` is the level a
// user asked for in `source` ("KILN_ISA", "SessionOptions::isa"; nullptr or
// empty when unset): it can only lower the level. Throws kiln::Error naming
// `source` when it names an unknown level or one `cpu` does not support.
Isa select_isa(const CpuInfo& cpu, const char* requested, const char* source = "KILN_ISA");

// The level a session runs at when SessionOptions::isa is empty:
// select_isa(cpu_info(), getenv("KILN_ISA")), read on every call (the session
// keeps its own choice in its kernel table). Throws kiln::Error when KILN_ISA
// is invalid.
Isa selected_isa();

// A multi-line, human-readable report: CPU brand, detected and selected ISA
// (or why none could be selected), cache sizes. `kiln info` prints it with the
// kernels the dispatch tables chose (kernels/describe_platform.h).
std::string describe_cpu();

}  // namespace kiln
