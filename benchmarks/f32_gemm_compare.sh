#!/bin/bash
# kiln's f32 GEMM against OpenBLAS cblas_sgemm at each ISA level, in separate
# processes that alternate, and one Markdown table of the medians.
#
#   benchmarks/f32_gemm_compare.sh [--rounds N] [--filter REGEX] [--out DIR]
#
# For each level (sse41 / OpenBLAS Nehalem, avx2 / Haswell, avx512 /
# SkylakeX) it runs kiln_f32_gemm_bench once for kiln's kernel and once for
# OpenBLAS, N rounds (default 2), alternating. Separate processes matter:
# after a multi-threaded call OpenBLAS's idle workers spin for a while, and in
# the same process they take a core from kiln's next run (kiln's 2-thread
# square 1024 AVX2 read 139 instead of 171 GFLOP/s that way). Each
# benchmark's figure is the median over all repetitions of all rounds;
# GFLOP/s with the share of the ISA's peak (measured by each process, x
# threads) in brackets, bold where kiln is behind; then each side's 2-thread
# over 1-thread ratio. --filter narrows the shapes (default: all), e.g.
# 'square/M:1024|conv/M:64'.
set -euo pipefail
ROUNDS=2
FILTER='(square|conv)/'
OUT=gemm_compare
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --filter) FILTER="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "f32_gemm_compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="${KILN_GEMM_BENCH:-$ROOT/build/release/benchmarks/kiln_f32_gemm_bench}"
[[ -x "$BENCH" ]] || { echo "f32_gemm_compare.sh: $BENCH not built (cmake --build build/release --target kiln_f32_gemm_bench)" >&2; exit 1; }
mkdir -p "$OUT"
COMMON=(--benchmark_min_time=0.2 --benchmark_repetitions=3 --benchmark_format=json)
LEVELS=("sse41 Nehalem" "avx2 Haswell" "avx512 SkylakeX")
for ((round = 1; round <= ROUNDS; round++)); do
  for level in "${LEVELS[@]}"; do
    read -r isa core <<<"$level"
    for side in kiln openblas; do
      if [[ $side == kiln ]]; then pattern="f32_gemm_[0-9x]+_${isa}/.*($FILTER)"; else pattern="openblas.*($FILTER)"; fi
      file="$OUT/${isa}_${side}_round${round}.json"
      echo "round $round/$ROUNDS: $side at $isa ($(cut -d' ' -f1-3 /proc/loadavg) load)" >&2
      OPENBLAS_CORETYPE=$core "$BENCH" --benchmark_filter="$pattern" "${COMMON[@]}" >"$file"
    done
  done
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
levels = [("sse41", "Nehalem"), ("avx2", "Haswell"), ("avx512", "SkylakeX")]
runs, loads, peaks = {}, [], {}
for isa, _ in levels:
    for side in ("kiln", "openblas"):
        for r in range(1, rounds + 1):
            data = json.load(open(f"{out}/{isa}_{side}_round{r}.json"))
            loads.append(data["context"].get("load_avg", [0])[0])
            for name, value in data["context"].items():
                if name.startswith("peak_gflops_per_core_"):
                    peaks.setdefault(name[len("peak_gflops_per_core_"):], []).append(float(value))
            for b in data["benchmarks"]:
                if b.get("run_type") != "iteration":
                    continue
                m = re.search(r"/((square|conv)/M:\d+/N:\d+/K:\d+)/threads:(\d)", b["name"])
                if m:
                    runs.setdefault((isa, side, m.group(1), m.group(3)), []).append((b["GFLOPS"], b["pct_peak"]))
shapes = []
for (isa, side, shape, t) in runs:
    if shape not in shapes:
        shapes.append(shape)
def key(s):
    fam, m, n, k = re.match(r"(\w+)/M:(\d+)/N:(\d+)/K:(\d+)", s).groups()
    return (fam != "square", int(m), int(n), int(k))
shapes.sort(key=key)
print(f"load average at the start of each process: {min(loads):.2f} to {max(loads):.2f}")
if peaks:
    print("per-core peaks measured by each process (median, GFLOP/s): "
          + ", ".join(f"{isa} {statistics.median(v):.1f}" for isa, v in sorted(peaks.items())))
for t in ("1", "2"):
    print(f"\n{t} thread{'s' if t == '2' else ''}, GFLOP/s (% of peak); bold: kiln behind OpenBLAS\n")
    print("| shape M/N/K | " + " | ".join(f"kiln {isa} | OpenBLAS {core}" for isa, core in levels) + " |")
    print("|---" * 7 + "|")
    for s in shapes:
        cells = []
        for isa, _ in levels:
            med = {}
            for side in ("kiln", "openblas"):
                v = runs.get((isa, side, s, t))
                med[side] = (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) if v else None
            for side in ("kiln", "openblas"):
                v = med[side]
                text = "-" if v is None else f"{v[0]:.1f} ({v[1]:.0f}%)"
                if side == "kiln" and v and med["openblas"] and v[0] < med["openblas"][0]:
                    text = f"**{text}**"
                cells.append(text)
        print(f"| {s.replace('M:', '').replace('N:', '').replace('K:', '')} | " + " | ".join(cells) + " |")
print("\nScaling, 2-thread GFLOP/s over 1-thread GFLOP/s (medians above)\n")
print("| shape M/N/K | " + " | ".join(f"kiln {isa} | OpenBLAS {core}" for isa, core in levels) + " |")
print("|---" * 7 + "|")
for s in shapes:
    cells = []
    for isa, _ in levels:
        for side in ("kiln", "openblas"):
            one, two = runs.get((isa, side, s, "1")), runs.get((isa, side, s, "2"))
            cells.append("-" if not one or not two else
                         f"{statistics.median(x[0] for x in two) / statistics.median(x[0] for x in one):.2f}x")
    print(f"| {s.replace('M:', '').replace('N:', '').replace('K:', '')} | " + " | ".join(cells) + " |")
PY
