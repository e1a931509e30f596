#!/usr/bin/env bash
# The asan stage of scripts/test.sh: builds the asan preset (g++ -O1 -g1 with
# AddressSanitizer + UndefinedBehaviorSanitizer, build/asan; everything but the
# benchmarks; -O1 and line-tables-only debug info build in about half the time
# of -O2 -g and still give file:line stack traces) and runs its tests with
# ctest. A sanitizer report fails the run (UBSan does not recover; ASan aborts;
# LeakSanitizer is on).
#
# Every test of the release build runs here too (unit, conformance, bad models,
# CLI, the PaddleOCR models vs onnxruntime: about 4 s for the text detector
# under ASan) except the Westmere run under qemu-user (label qemu), which
# cannot host ASan's shadow memory.
#
#   scripts/test_asan.sh [ctest args...]   e.g. -R BadModels
#   (KILN_BUILD_JOBS=N sets the build and test parallelism)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
jobs=${KILN_BUILD_JOBS:-$(nproc)}

start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== configure: cmake --preset asan -G Ninja -DKILN_MODEL_TESTS=ON"
if ! cmake --preset asan -G Ninja -DKILN_MODEL_TESTS=ON >"$log" 2>&1; then
  cat "$log" >&2
  echo "test_asan: cmake configure of preset asan failed" >&2
  exit 1
fi
echo "== build: cmake --build build/asan -j $jobs"
if ! cmake --build build/asan -j "$jobs"; then
  [[ -z ${KILN_STAGE_TIMES:-} ]] || echo "build $(($(date +%s) - start)) s, build failed" >"$KILN_STAGE_TIMES"
  exit 1
fi
built=$(date +%s)

# detect_leaks: the tests must not leak either. halt_on_error keeps the first
# report readable.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== ctest --test-dir build/asan --output-on-failure -j $jobs -LE qemu $*"
status=0
"$repo_root/scripts/run_ctest.sh" --counts "${KILN_STAGE_COUNTS:-/dev/null}" \
  --test-dir build/asan --output-on-failure -j "$jobs" -LE qemu "$@" || status=$?
times="build $((built - start)) s, tests $(($(date +%s) - built)) s"
[[ -z ${KILN_STAGE_TIMES:-} ]] || echo "$times" >"$KILN_STAGE_TIMES"
echo "test_asan: $times"
exit $status
