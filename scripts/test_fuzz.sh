#!/usr/bin/env bash
# The fuzz stage of scripts/test.sh: builds the libFuzzer targets with the fuzz
# preset (build/fuzz: clang++-14 -O1, -DKILN_FUZZ=ON, ASan+UBSan, no unit tests,
# no benchmarks) and runs `ctest -L fuzz` there: each target replays its kept crash inputs
# (tests/fuzz_regressions/) and then fuzzes for KILN_FUZZ_SECONDS (60) seconds
# from the conformance-data seed corpus. The targets fuzz side by side
# (ctest -j KILN_BUILD_JOBS). Extra arguments go to ctest. To fuzz one target
# for longer, use scripts/fuzz.sh.
#
#   scripts/test_fuzz.sh [ctest args...]   (KILN_BUILD_JOBS=N, KILN_FUZZ_SECONDS=N, KILN_FUZZ_CXX=clang++)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
build_dir="$repo_root/build/fuzz"
seconds=${KILN_FUZZ_SECONDS:-60}
jobs=${KILN_BUILD_JOBS:-$(nproc)}

start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== configure: cmake --preset fuzz -G Ninja (${seconds} s per target)"
# KILN_FUZZ_CXX replaces the preset's clang++-14; give it on every run, since
# changing the compiler of a build folder makes CMake start it afresh.
compiler=()
[[ -z ${KILN_FUZZ_CXX:-} ]] || compiler=(-DCMAKE_CXX_COMPILER="$KILN_FUZZ_CXX")
if ! cmake --preset fuzz -G Ninja "${compiler[@]}" -DKILN_FUZZ_SECONDS="$seconds" >"$log" 2>&1; then
  cat "$log" >&2
  echo "test_fuzz: cmake configure of preset fuzz failed" >&2
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
"$repo_root/scripts/run_ctest.sh" --counts "${KILN_STAGE_COUNTS:-/dev/null}" \
  --test-dir "$build_dir" --output-on-failure -j "$jobs" -L fuzz "$@" || status=$?
times="build $((built - start)) s, tests $(($(date +%s) - built)) s"
[[ -z ${KILN_STAGE_TIMES:-} ]] || echo "$times" >"$KILN_STAGE_TIMES"
echo "test_fuzz: $times"
exit $status
