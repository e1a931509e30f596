#!/usr/bin/env bash
# Runs one generated style-transfer model (models/generate_style_models.py)
# with kiln and with onnxruntime-node on the same seeded uniform input at a
# small size and compares the outputs: an element passes when
# |kiln - ort| <= atol + rtol * |ort|.
#
#   tests/models/style_model_ort_test.sh --kiln PATH --node PATH --work-dir DIR
#       --model FILE.onnx --input NAME --shape DIMS --low L --high H
#       [--atol 1e-3] [--rtol 1e-3] [--opt-level LEVEL]
#
# tests/CMakeLists.txt sets the tolerance per model: animegan_like (tanh
# output in [-1, 1]) atol 1e-4; fast_neural_style (outputs up to ~300, after
# a 0..255 input) atol 5e-3 and rtol 1e-4. Seen: max abs diff 3.3e-6 and
# 6.6e-4 respectively (each engine sums in its own order).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ort_tools="$repo_root/benchmarks/ort"
kiln="" node=node work_dir="" model="" input_name="" shape="" low="" high="" atol=1e-3 rtol=1e-3 opt_level=all
while (($#)); do
  case "$1" in
    --kiln) kiln=${2:?}; shift 2 ;;
    --node) node=${2:?}; shift 2 ;;
    --work-dir) work_dir=${2:?}; shift 2 ;;
    --model) model=${2:?}; shift 2 ;;
    --input) input_name=${2:?}; shift 2 ;;
    --shape) shape=${2:?}; shift 2 ;;
    --low) low=${2:?}; shift 2 ;;
    --high) high=${2:?}; shift 2 ;;
    --atol) atol=${2:?}; shift 2 ;;
    --rtol) rtol=${2:?}; shift 2 ;;
    --opt-level) opt_level=${2:?}; shift 2 ;;
    *) echo "style_model_ort_test.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for value in "$kiln" "$work_dir" "$model" "$input_name" "$shape" "$low" "$high"; do
  [[ -n "$value" ]] || { echo "style_model_ort_test.sh: missing an argument (see the header)" >&2; exit 2; }
done
[[ -x "$kiln" ]] || { echo "FAIL: kiln binary not found at $kiln" >&2; exit 1; }
[[ -s "$model" ]] || { echo "FAIL: model not found at $model (built by the kiln_style_models target)" >&2; exit 1; }
PATH="$(dirname "$(command -v "$node")"):$PATH"
export PATH
if [[ ! -d "$repo_root/build/npm/node_modules/onnxruntime-node" && -z ${KILN_NPM_DIR:-} ]]; then
  echo "== fetching onnxruntime-node (scripts/fetch_models.sh)"
  "$repo_root/scripts/fetch_models.sh" --quiet
fi

case_dir="$work_dir/$(basename "$model" .onnx)_$opt_level"
rm -rf "$case_dir"
mkdir -p "$case_dir"
input="$case_dir/input.npy"
echo "== $(basename "$model"): input $input_name $shape uniform in [$low, $high]"
"$node" "$ort_tools/random_npy.js" "$input" --shape "$shape" --pattern uniform --seed 7 --low "$low" --high "$high"
"$node" "$ort_tools/ort_reference.js" "$model" --input "$input_name=$input" --output-dir "$case_dir/ort"
"$kiln" run "$model" --input "$input_name=$input" --opt-level "$opt_level" --output-dir "$case_dir/kiln"
echo "== compare kiln at level $opt_level (actual) with onnxruntime (expected), atol $atol rtol $rtol"
"$node" "$ort_tools/compare_npy.js" "$case_dir/kiln" "$case_dir/ort" --atol "$atol" --rtol "$rtol"
