#!/usr/bin/env bash
# The fuzz stage of scripts/test.sh: builds the libFuzzer targets (build/fuzz:
# clang++-14, -DKILN_FUZZ=ON, ASan+UBSan, no unit tests, no benchmarks) and runs
# `ctest -L fuzz` there: each target replays its kept crash inputs
# (tests/fuzz_regressions/) and then fuzzes for KILN_FUZZ_SECONDS (60) seconds
# from the conformance-data seed corpus. The targets fuzz side by side
# (ctest -j KILN_BUILD_JOBS). Extra arguments go to ctest. To fuzz one target
# for longer, use scripts/fuzz.sh.
#
#   scripts/test_fuzz.sh [ctest args...]   (KILN_BUILD_JOBS=N, KILN_FUZZ_SECONDS=N)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
build_dir="$repo_root/build/fuzz"
seconds=${KILN_FUZZ_SECONDS:-60}
jobs=${KILN_BUILD_JOBS:-$(nproc)}

start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== configure: $build_dir (clang++, KILN_FUZZ=ON, ${seconds} s per target)"
compiler=()  # chosen only when the folder is new: changing it later would rebuild everything
[[ -f "$build_dir/CMakeCache.txt" ]] || compiler=(-DCMAKE_CXX_COMPILER="${KILN_FUZZ_CXX:-clang++-14}")
if ! cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${compiler[@]}" \
  -DKILN_FUZZ=ON -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCHMARKS=OFF -DKILN_FUZZ_SECONDS="$seconds" >"$log" 2>&1; then
  cat "$log" >&2
  echo "test_fuzz: cmake configure of $build_dir failed" >&2
  exit 1
fi
echo "== build: fuzz targets"
if ! cmake --build "$build_dir" -j "$jobs" --target kiln_fuzz_model kiln_fuzz_tensor_pb kiln_fuzz_npy; then
  [[ -z ${KILN_STAGE_TIMES:-} ]] || echo "build $(($(date +%s) - start)) s, build failed" >"$KILN_STAGE_TIMES"
  exit 1
fi
built=$(date +%s)

# The seed corpus once, here: the fuzz tests run in parallel and would race to write it.
[[ -f "$build_dir/fuzz_seeds/complete" ]] || {
  rm -rf "$build_dir/fuzz_seeds"
  "$repo_root/scripts/fuzz_corpus.sh" "$build_dir/fuzz_seeds"
  touch "$build_dir/fuzz_seeds/complete"
}
# Symbolized stack traces in sanitizer and libFuzzer reports (Debian's llvm-14).
symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[[ -n ${ASAN_SYMBOLIZER_PATH:-} || ! -x $symbolizer ]] || export ASAN_SYMBOLIZER_PATH=$symbolizer

echo "== ctest --test-dir $build_dir --output-on-failure -j $jobs -L fuzz $*"
status=0
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" -L fuzz "$@" || status=$?
times="build $((built - start)) s, tests $(($(date +%s) - built)) s"
[[ -z ${KILN_STAGE_TIMES:-} ]] || echo "$times" >"$KILN_STAGE_TIMES"
echo "test_fuzz: $times"
exit $status
