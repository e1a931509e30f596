#!/usr/bin/env bash
# ctest zoo_vs_ort: every model of the zoo (make_zoo.py) at its --small input size, run by kiln
# and by onnxruntime-node on the same seeded input; each model's outputs must agree within
# max |kiln - ort| <= 1e-4 + 1e-3 * max |ort| (compare.js --check, 2 threads), except the models
# in expected_failures.txt, which must still fail.
#
#   benchmarks/zoo/zoo_test.sh --kiln PATH --work-dir DIR [--node PATH]
#
# The zoo is written into DIR/zoo_small by Debian's /usr/bin/python3 (python3-torch,
# python3-torchvision) and kept: it is written again only when make_zoo.py changed (DIR/zoo_small/
# stamp holds the script's sha256). onnxruntime-node comes from KILN_NPM_DIR, else build/npm
# (scripts/fetch_models.sh, run here when it is missing).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
python=/usr/bin/python3
kiln="" work_dir="" node=node
while (($#)); do
  case "$1" in
    --kiln) kiln=${2:?}; shift 2 ;;
    --work-dir) work_dir=${2:?}; shift 2 ;;
    --node) node=${2:?}; shift 2 ;;
    *) echo "usage: $0 --kiln PATH --work-dir DIR [--node PATH]" >&2; exit 2 ;;
  esac
done
[[ -n "$kiln" && -n "$work_dir" ]] || { echo "usage: $0 --kiln PATH --work-dir DIR [--node PATH]" >&2; exit 2; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ -x "$kiln" ]] || fail "kiln binary not found at $kiln"
command -v "$node" >/dev/null 2>&1 || fail "node not found ('$node'); run scripts/install_deps.sh"
"$python" -c 'import torch, torchvision, onnx' 2>/dev/null ||
  fail "$python cannot import torch, torchvision and onnx; run scripts/install_deps.sh"
if [[ ! -d "${KILN_NPM_DIR:-$repo_root/build/npm}/node_modules/onnxruntime-node" ]]; then
  echo "== fetching onnxruntime-node (scripts/fetch_models.sh)"
  "$repo_root/scripts/fetch_models.sh" --quiet
fi

zoo="$work_dir/zoo_small"
want=$(sha256sum "$here/make_zoo.py" | cut -d' ' -f1)
if [[ "$(cat "$zoo/stamp" 2>/dev/null)" != "$want" || ! -s "$zoo/zoo.txt" ]]; then
  echo "== writing the small zoo into $zoo (make_zoo.py changed or no zoo yet)"
  rm -rf "$zoo"
  "$python" "$here/make_zoo.py" "$zoo" --small || fail "make_zoo.py failed"
  echo "$want" >"$zoo/stamp"
else
  echo "== the small zoo in $zoo is up to date with make_zoo.py"
fi

echo "== node benchmarks/zoo/compare.js --check --zoo $zoo"
"$node" "$here/compare.js" --check --zoo "$zoo" --kiln "$kiln" --threads 2 --atol 1e-4 --rtol 1e-3 \
  --expected-failures "$here/expected_failures.txt"
