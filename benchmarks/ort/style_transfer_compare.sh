#!/usr/bin/env bash
# kiln against onnxruntime-node on the AnimeGAN-shaped generator at 1x720x1280x3
# (NHWC), with 1 and 2 intra-op threads. The two run alternately, each round a
# fresh process per engine, so machine noise hits both alike:
#
#   benchmarks/ort/style_transfer_compare.sh [--rounds 3] [--runs 2] [--threads "1 2"]
#       [--kiln build/release/tools/kiln] [--model build/release/models/animegan_like.onnx]
#       [--shape 1x720x1280x3]
#
# Per process: kiln runs --runs+1 times and its first run (arena allocation,
# cold caches) is dropped; onnxruntime runs once to warm up, then --runs times.
# Prints, per thread count, each engine's median run time over all rounds,
# the ratio kiln/onnxruntime, and each engine's largest peak RSS (from
# /usr/bin/time -v, so model loading and session creation are included).
# onnxruntime-node comes from build/npm (scripts/fetch_models.sh) or KILN_NPM_DIR.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
rounds=3
runs=2
thread_counts="1 2"
kiln="$repo/build/release/tools/kiln"
model="$repo/build/release/models/animegan_like.onnx"
shape=1x720x1280x3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --threads) thread_counts=$2; shift 2 ;;
    --kiln) kiln=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --shape) shape=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "style_transfer_compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for file in "$kiln" "$model" /usr/bin/time; do
  [[ -e "$file" ]] || { echo "style_transfer_compare.sh: $file not found" >&2; exit 1; }
done
input=$(/usr/bin/python3 -c "import onnx,sys; print(onnx.load(sys.argv[1], load_external_data=False).graph.input[0].name)" "$model")

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# "Maximum resident set size (kbytes): N" from a /usr/bin/time -v log.
peak_kib() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"; }

echo "model $(basename "$model"), input $input $shape, $rounds rounds x $runs runs per engine and thread count"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for threads in $thread_counts; do
  : > "$scratch/kiln_ms"; : > "$scratch/ort_ms"; kiln_peak=0; ort_peak=0
  for ((round = 1; round <= rounds; ++round)); do
    /usr/bin/time -v -o "$scratch/kiln_time" env OMP_NUM_THREADS="$threads" "$kiln" run "$model" \
      --shape "$input=$shape" --threads "$threads" --runs $((runs + 1)) > "$scratch/kiln_out"
    # "all runs (ms): a b c" -> every run but the first.
    awk -F': ' '/all runs \(ms\)/ { n = split($2, t, " "); for (i = 2; i <= n; ++i) print t[i] }' \
      "$scratch/kiln_out" >> "$scratch/kiln_ms"
    kiln_peak=$(( $(peak_kib "$scratch/kiln_time") > kiln_peak ? $(peak_kib "$scratch/kiln_time") : kiln_peak ))

    /usr/bin/time -v -o "$scratch/ort_time" node "$repo/benchmarks/ort/ort_time_model.js" "$model" \
      --shape "$input=$shape" --threads "$threads" --runs "$runs" > "$scratch/ort_out"
    awk '/^run_ms/ { print $2 }' "$scratch/ort_out" >> "$scratch/ort_ms"
    ort_peak=$(( $(peak_kib "$scratch/ort_time") > ort_peak ? $(peak_kib "$scratch/ort_time") : ort_peak ))
  done
  kiln_median=$(median < "$scratch/kiln_ms")
  ort_median=$(median < "$scratch/ort_ms")
  ratio=$(awk -v k="$kiln_median" -v o="$ort_median" 'BEGIN { printf "%.2f", k / o }')
  printf 'threads %s: kiln median %.1f ms (%d runs), onnxruntime median %.1f ms (%d runs), kiln/ort %s; ' \
    "$threads" "$kiln_median" "$(wc -l < "$scratch/kiln_ms")" "$ort_median" "$(wc -l < "$scratch/ort_ms")" "$ratio"
  awk -v k="$kiln_peak" -v o="$ort_peak" 'BEGIN { printf "peak RSS kiln %.0f MiB, onnxruntime-node %.0f MiB\n", k / 1024, o / 1024 }'
done
