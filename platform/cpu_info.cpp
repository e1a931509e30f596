#include "platform/cpu_info.h"

#include <cpuid.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "kiln/error.h"

namespace kiln {
namespace {

struct CpuidRegisters {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegisters cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidRegisters r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

bool bit(uint32_t value, int index) { return (value >> index) & 1u; }

// XCR0: which register states the OS saves on a context switch. Only valid
// when CPUID says OSXSAVE; written as inline asm so no -mxsave is needed.
uint64_t read_xcr0() {
  uint32_t low = 0, high = 0;
  __asm__ __volatile__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return (static_cast<uint64_t>(high) << 32) | low;
}

constexpr uint64_t kXcr0SseAvx = 0x6;   // XMM (bit 1) and YMM upper halves (bit 2)
constexpr uint64_t kXcr0Avx512 = 0xE0;  // opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7)

// Deterministic cache parameters: Intel leaf 4 and AMD leaf 0x8000001D use the
// same layout. Returns false when the leaf lists no data or unified cache.
bool read_cache_leaf(uint32_t leaf, CacheSizes& caches) {
  bool found = false;
  for (uint32_t index = 0; index < 16; ++index) {
    CpuidRegisters r = cpuid(leaf, index);
    uint32_t type = r.eax & 0x1f;  // 0 none, 1 data, 2 instruction, 3 unified
    if (type == 0) break;
    if (type == 2) continue;
    uint32_t level = (r.eax >> 5) & 0x7;
    size_t ways = ((r.ebx >> 22) & 0x3ff) + 1;
    size_t partitions = ((r.ebx >> 12) & 0x3ff) + 1;
    size_t line = (r.ebx & 0xfff) + 1;
    size_t sets = static_cast<size_t>(r.ecx) + 1;
    size_t bytes = ways * partitions * line * sets;
    if (level == 1) caches.l1d_bytes = bytes;
    if (level == 2) caches.l2_bytes = bytes;
    if (level == 3) caches.l3_bytes = bytes;
    found = true;
  }
  return found && caches.l1d_bytes > 0 && caches.l2_bytes > 0;
}

// AMD's older cache leaves (see decode_amd_cache_leaves), which virtual
// machines often fill in when they leave 0x8000001D empty.
bool read_amd_legacy_cache_leaves(uint32_t max_extended, CacheSizes& caches) {
  if (max_extended < 0x80000006) return false;
  const CpuidRegisters l1 = cpuid(0x80000005), l2_l3 = cpuid(0x80000006);
  caches = decode_amd_cache_leaves(l1.ecx, l2_l3.ecx, l2_l3.edx);
  return caches.l1d_bytes > 0 && caches.l2_bytes > 0;
}

// Linux sysfs: /sys/devices/system/cpu/cpu0/cache/indexN/{level,type,size}.
bool read_cache_sysfs(CacheSizes& caches) {
  bool found = false;
  for (int index = 0; index < 8; ++index) {
    std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    std::ifstream level_file(dir + "level"), type_file(dir + "type"), size_file(dir + "size");
    if (!level_file || !type_file || !size_file) break;
    int level = 0;
    std::string type, size_text;
    level_file >> level;
    type_file >> type;
    size_file >> size_text;
    if (type == "Instruction" || size_text.empty()) continue;
    size_t bytes = std::strtoull(size_text.c_str(), nullptr, 10);
    char unit = size_text.back();
    if (unit == 'K') bytes <<= 10;
    if (unit == 'M') bytes <<= 20;
    if (level == 1) caches.l1d_bytes = bytes;
    if (level == 2) caches.l2_bytes = bytes;
    if (level == 3) caches.l3_bytes = bytes;
    found = true;
  }
  return found && caches.l1d_bytes > 0 && caches.l2_bytes > 0;
}

std::string read_brand() {
  uint32_t max_extended = cpuid(0x80000000).eax;
  if (max_extended < 0x80000004) return "unknown";
  char text[49] = {};
  for (uint32_t i = 0; i < 3; ++i) {
    CpuidRegisters r = cpuid(0x80000002 + i);
    uint32_t words[4] = {r.eax, r.ebx, r.ecx, r.edx};
    for (int w = 0; w < 4; ++w)
      for (int b = 0; b < 4; ++b) text[i * 16 + w * 4 + b] = static_cast<char>(words[w] >> (8 * b));
  }
  std::string brand(text);
  size_t first = brand.find_first_not_of(' ');
  size_t last = brand.find_last_not_of(' ');
  return first == std::string::npos ? "unknown" : brand.substr(first, last - first + 1);
}

std::string format_bytes(size_t bytes) {
  if (bytes == 0) return "none";
  if (bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes >> 10) + " KiB";
}

}  // namespace

CacheSizes decode_amd_cache_leaves(uint32_t ecx_80000005, uint32_t ecx_80000006, uint32_t edx_80000006) {
  CacheSizes caches;
  caches.l1d_bytes = size_t(ecx_80000005 >> 24) << 10;
  caches.l2_bytes = size_t(ecx_80000006 >> 16) << 10;
  caches.l3_bytes = size_t(edx_80000006 >> 18) << 19;
  return caches;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::sse2: return "sse2";
    case Isa::sse41: return "sse41";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "unknown";
}

namespace {

// How an error names where an ISA name came from: a bare "KILN_ISA" reads like
// a setting of the model, so the variable is called what it is.
std::string isa_source_label(const char* source) {
  return std::string_view(source) == "KILN_ISA" ? "the environment variable KILN_ISA" : source;
}

}  // namespace

Isa parse_isa_name(std::string_view name, const char* source) {
  for (Isa isa : {Isa::sse2, Isa::sse41, Isa::avx2, Isa::avx512})
    if (name == isa_name(isa)) return isa;
  fail(isa_source_label(source), "='", name,
       "' is not an instruction-set level kiln knows; use one of sse2, sse41, avx2, avx512",
       std::string_view(source) == "KILN_ISA" ? " (or unset it for the best level this CPU has)" : "");
}

Isa CpuInfo::best_isa() const {
  if (avx512 && avx2_fma) return Isa::avx512;
  if (avx2_fma) return Isa::avx2;
  if (sse41) return Isa::sse41;
  return Isa::sse2;
}

bool CpuInfo::supports(Isa isa) const { return static_cast<int>(isa) <= static_cast<int>(best_isa()); }

CpuInfo detect_cpu() {
  CpuInfo info;
  CpuidRegisters leaf0 = cpuid(0);
  uint32_t max_leaf = leaf0.eax;
  char vendor[13] = {};
  uint32_t vendor_words[3] = {leaf0.ebx, leaf0.edx, leaf0.ecx};
  for (int w = 0; w < 3; ++w)
    for (int b = 0; b < 4; ++b) vendor[w * 4 + b] = static_cast<char>(vendor_words[w] >> (8 * b));
  info.vendor = vendor;
  info.brand = read_brand();

  CpuidRegisters leaf1 = cpuid(1);
  info.sse41 = bit(leaf1.ecx, 19);
  bool osxsave = bit(leaf1.ecx, 27);
  uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  bool os_saves_ymm = (xcr0 & kXcr0SseAvx) == kXcr0SseAvx;
  bool os_saves_zmm = os_saves_ymm && (xcr0 & kXcr0Avx512) == kXcr0Avx512;
  bool avx = bit(leaf1.ecx, 28), fma = bit(leaf1.ecx, 12);
  if (max_leaf >= 7) {
    CpuidRegisters leaf7 = cpuid(7, 0);
    bool avx2 = bit(leaf7.ebx, 5);
    info.avx2_fma = info.sse41 && avx && avx2 && fma && os_saves_ymm;
    bool avx512f = bit(leaf7.ebx, 16), avx512dq = bit(leaf7.ebx, 17);
    bool avx512bw = bit(leaf7.ebx, 30), avx512vl = bit(leaf7.ebx, 31);
    info.avx512 = info.avx2_fma && avx512f && avx512dq && avx512bw && avx512vl && os_saves_zmm;
  }

  uint32_t max_extended = cpuid(0x80000000).eax;
  bool amd_topology = max_extended >= 0x8000001D && bit(cpuid(0x80000001).ecx, 22);
  if (max_leaf >= 4 && info.vendor == "GenuineIntel" && read_cache_leaf(4, info.caches)) {
    info.cache_source = "cpuid leaf 4";
  } else if (amd_topology && read_cache_leaf(0x8000001D, info.caches)) {
    info.cache_source = "cpuid leaf 0x8000001D";
  } else if (info.caches = CacheSizes{}; read_cache_sysfs(info.caches)) {
    info.cache_source = "sysfs";
  } else if (info.caches = CacheSizes{};
             info.vendor == "AuthenticAMD" && read_amd_legacy_cache_leaves(max_extended, info.caches)) {
    info.cache_source = "cpuid leaves 0x80000005/6";
  } else {
    info.caches = CacheSizes{32u << 10, 256u << 10, 0};
    info.cache_source = "defaults (detection failed)";
  }
  return info;
}

CacheSizes parse_cache_sizes(std::string_view text) {
  std::vector<size_t> kib;
  bool valid = true;
  for (size_t begin = 0; valid;) {
    const size_t comma = text.find(',', begin);
    const std::string_view field = text.substr(begin, comma == std::string_view::npos ? comma : comma - begin);
    size_t value = 0;
    auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
    valid = !field.empty() && error == std::errc() && end == field.data() + field.size() && value < (1u << 30);
    kib.push_back(value);
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  if (!valid || kib.size() != 3 || kib[0] == 0 || kib[1] == 0)
    fail("KILN_CACHES='", text,
         "' is not three cache sizes in KiB, L1d,L2,L3 (L3 may be 0, L1d and L2 may not), e.g. 32,256,0");
  return CacheSizes{kib[0] << 10, kib[1] << 10, kib[2] << 10};
}

const CpuInfo& cpu_info() {
  // Not cached on failure, so every caller sees a bad KILN_CACHES.
  static const CpuInfo info = [] {
    CpuInfo detected = detect_cpu();
    if (const char* forced = std::getenv("KILN_CACHES"); forced != nullptr && *forced != '\0') {
      const CacheSizes own = detected.caches;
      detected.caches = parse_cache_sizes(forced);
      detected.cache_source = "KILN_CACHES (detected: L1d " + format_bytes(own.l1d_bytes) + ", L2 " +
                              format_bytes(own.l2_bytes) + ", L3 " + format_bytes(own.l3_bytes) + " from " +
                              detected.cache_source + ")";
    }
    return detected;
  }();
  return info;
}

Isa select_isa(const CpuInfo& cpu, const char* requested, const char* source) {
  if (requested == nullptr || *requested == '\0') return cpu.best_isa();
  Isa isa = parse_isa_name(requested, source);
  if (!cpu.supports(isa))
    fail(isa_source_label(source), "=", requested, " asks for an instruction set this CPU (", cpu.brand,
         ") or its OS does not support; the highest available is ", isa_name(cpu.best_isa()));
  return isa;
}

Isa selected_isa() { return select_isa(cpu_info(), std::getenv("KILN_ISA")); }

std::string describe_cpu() {
  const CpuInfo& cpu = cpu_info();
  std::ostringstream out;
  out << "CPU:          " << cpu.brand << " (" << cpu.vendor << ")\n";
  out << "ISA detected: sse41=" << (cpu.sse41 ? "yes" : "no") << " avx2+fma=" << (cpu.avx2_fma ? "yes" : "no")
      << " avx512(f,bw,vl,dq)=" << (cpu.avx512 ? "yes" : "no") << " -> best " << isa_name(cpu.best_isa()) << "\n";
  const char* requested = std::getenv("KILN_ISA");
  out << "ISA selected: ";
  try {
    out << isa_name(selected_isa());
    if (requested != nullptr && *requested != '\0') out << " (forced by KILN_ISA)";
    out << "\n";
  } catch (const Error& error) {
    out << "none: " << error.what() << "\n";
    return out.str();
  }
  out << "Caches:       L1d " << format_bytes(cpu.caches.l1d_bytes) << ", L2 " << format_bytes(cpu.caches.l2_bytes)
      << " (per core), L3 " << format_bytes(cpu.caches.l3_bytes) << " (shared); from " << cpu.cache_source << "\n";
  return out.str();
}

}  // namespace kiln
