#!/usr/bin/env bash
# The tsan stage of scripts/test.sh: builds the tsan preset (g++ -O1 -g1 with
# ThreadSanitizer, build/tsan) for the unit tests only, and runs the tests
# that exercise threads: several callers of Session::run on one session
# (SessionThreads.*, the contract stated in include/kiln/session.h) and the
# intra-op thread pool (ThreadPool.*). A data race report fails the run.
# Only these run here: the other tests use one caller thread, which the
# release and asan stages cover, and TSan slows everything 5-15x.
#
#   scripts/test_tsan.sh [ctest args...]
#   (KILN_BUILD_JOBS=N sets the build and test parallelism)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
jobs=${KILN_BUILD_JOBS:-$(nproc)}

start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== configure: cmake --preset tsan -G Ninja -DKILN_MODEL_TESTS=OFF"
if ! cmake --preset tsan -G Ninja -DKILN_MODEL_TESTS=OFF >"$log" 2>&1; then
  cat "$log" >&2
  echo "test_tsan: cmake configure of preset tsan failed" >&2
  exit 1
fi
echo "== build: cmake --build build/tsan -j $jobs --target kiln_unit_tests"
if ! cmake --build build/tsan -j "$jobs" --target kiln_unit_tests; then
  [[ -z ${KILN_STAGE_TIMES:-} ]] || echo "build $(($(date +%s) - start)) s, build failed" >"$KILN_STAGE_TIMES"
  exit 1
fi
built=$(date +%s)

export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
echo "== ctest --test-dir build/tsan --output-on-failure -j $jobs -R '^(SessionThreads|ThreadPool)\\.' $*"
status=0
"$repo_root/scripts/run_ctest.sh" --counts "${KILN_STAGE_COUNTS:-/dev/null}" \
  --test-dir build/tsan --output-on-failure -j "$jobs" -R '^(SessionThreads|ThreadPool)\.' "$@" || status=$?
times="build $((built - start)) s, tests $(($(date +%s) - built)) s"
[[ -z ${KILN_STAGE_TIMES:-} ]] || echo "$times" >"$KILN_STAGE_TIMES"
echo "test_tsan: $times"
exit $status
