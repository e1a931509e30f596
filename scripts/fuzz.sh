#!/usr/bin/env bash
# Runs one libFuzzer target of kiln for a given time.
#
#   scripts/fuzz.sh [--no-build] [--build-dir DIR] TARGET SECONDS [libFuzzer flags...]
#
# TARGET is model, tensor_pb or npy (fuzz/fuzz_TARGET.cpp). The script configures
# and builds DIR (default build/fuzz; the fuzz preset: clang++-14, -DKILN_FUZZ=ON) unless
# --no-build, writes the seed corpus from the ONNX conformance data into
# DIR/fuzz_seeds once (scripts/fuzz_corpus.sh), and fuzzes with one process,
# keeping what it learns in DIR/fuzz_corpus/TARGET. A crash, leak or timeout
# is saved as DIR/fuzz_artifacts/TARGET/crash-* (or leak-*, timeout-*) and the
# script exits non-zero; replay it with `DIR/fuzz/kiln_fuzz_TARGET FILE`.
# The last lines printed are libFuzzer's final stats (executions, coverage).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=yes
build_dir="$repo_root/build/fuzz"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) build=no; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    *) break ;;
  esac
done
target=${1:?usage: fuzz.sh [--no-build] [--build-dir DIR] TARGET SECONDS [libFuzzer flags...]}
seconds=${2:?usage: fuzz.sh [--no-build] [--build-dir DIR] TARGET SECONDS [libFuzzer flags...]}
shift 2

if [[ $build == yes ]]; then
  if [[ ! -f "$build_dir/build.ninja" ]]; then
    compiler=()
    [[ -z ${KILN_FUZZ_CXX:-} ]] || compiler=(-DCMAKE_CXX_COMPILER="$KILN_FUZZ_CXX")
    (cd "$repo_root" && cmake --preset fuzz -G Ninja -B "$build_dir" "${compiler[@]}" >/dev/null)
  fi
  cmake --build "$build_dir" -j "${KILN_BUILD_JOBS:-2}" --target "kiln_fuzz_$target"
fi
binary="$build_dir/fuzz/kiln_fuzz_$target"
[[ -x "$binary" ]] || { echo "fuzz: $binary is not built" >&2; exit 1; }

seeds="$build_dir/fuzz_seeds"
[[ -d "$seeds/$target" ]] || "$repo_root/scripts/fuzz_corpus.sh" "$seeds"
corpus="$build_dir/fuzz_corpus/$target"
artifacts="$build_dir/fuzz_artifacts/$target"
mkdir -p "$corpus" "$artifacts"

# One process (the machine is shared); 20 s per input is a hang; a model that
# needs more than 2 GiB of RSS is a failure of kiln's memory budget.
dict=()
[[ -f "$repo_root/fuzz/$target.dict" ]] && dict=("-dict=$repo_root/fuzz/$target.dict")
exec "$binary" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$@" "$corpus" "$seeds/$target"
