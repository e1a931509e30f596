#!/usr/bin/env bash
# README command 2 (and CI: .ci/run calls it): installs what is missing, then
# runs four test stages, each building what it needs (an up-to-date build only
# checks):
#
#   release  build/release (scripts/build.sh release), then every ctest test:
#            unit, ONNX conformance, CLI, qemu, PaddleOCR models vs onnxruntime
#   asan     build/asan, g++ -O1 AddressSanitizer + UndefinedBehaviorSanitizer
#            (scripts/test_asan.sh): every test but the qemu one (ASan cannot
#            run under qemu-user)
#   tsan     build/tsan, g++ -O1 ThreadSanitizer, the unit tests only
#            (scripts/test_tsan.sh): the tests with several threads (one
#            session run from 4 threads, the thread pool)
#   fuzz     build/fuzz, clang-14 -O1 + libFuzzer + ASan/UBSan (scripts/test_fuzz.sh):
#            each fuzz target replays its kept crash inputs, then fuzzes for
#            KILN_FUZZ_SECONDS (60) seconds
#
# Every selected stage runs even when an earlier one failed; the script exits
# non-zero when any failed. Each stage runs ctest through scripts/run_ctest.sh:
# a selection that matches no test fails the stage. The last lines printed are
# one line per stage (result, counts, build and test seconds), then one line
# for the whole run in the plain form CI reads:
#   total: N passed, N failed, N skipped
# A stage that failed before its tests ran (a build error) counts as 1 failed.
#
# The release stage always configures the PaddleOCR/onnxruntime model tests in
# (-DKILN_MODEL_TESTS=ON, so a build folder once configured without them cannot
# drop them silently); KILN_SKIP_MODEL_TESTS=1 leaves them out, and says so.
#
#   scripts/test.sh                              all four stages
#   KILN_TEST_STAGES=asan scripts/test.sh        only the listed stages (release,asan,tsan,fuzz)
#   scripts/test.sh -L models                    extra arguments go to the release
#   scripts/test.sh -LE models                   stage's ctest; with extra arguments
#                                                and no KILN_TEST_STAGES, only the
#                                                release stage runs
#
# KILN_BUILD_JOBS=N sets the build (and test) parallelism of every stage.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

if [[ -n ${KILN_TEST_STAGES:-} ]]; then
  stages=$KILN_TEST_STAGES
elif (($#)); then
  stages=release
else
  stages=release,asan,tsan,fuzz
fi
IFS=, read -r -a stage_list <<<"$stages"
for stage in "${stage_list[@]}"; do
  case "$stage" in
    release | asan | tsan | fuzz) ;;
    *) echo "test: unknown stage '$stage' in KILN_TEST_STAGES (release, asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
done

"$repo_root/scripts/install_deps.sh"

# Each stage script writes "build N s, tests M s" into the times file and
# "passed N failed N skipped N" into the counts file (scripts/run_ctest.sh).
times_file=$(mktemp)
counts_file=$(mktemp)
trap 'rm -f "$times_file" "$counts_file"' EXIT
export KILN_STAGE_TIMES=$times_file KILN_STAGE_COUNTS=$counts_file

release_stage() {
  local start built status=0 model_tests=ON
  start=$(date +%s)
  if [[ ${KILN_SKIP_MODEL_TESTS:-0} == 1 ]]; then
    model_tests=OFF
    echo "== KILN_SKIP_MODEL_TESTS=1: the PaddleOCR/onnxruntime model tests are left out"
  fi
  "$repo_root/scripts/build.sh" release -DKILN_MODEL_TESTS=$model_tests ||
    { echo "build $(($(date +%s) - start)) s, build failed" >"$times_file"; return 1; }
  built=$(date +%s)
  if [[ $model_tests == ON ]] && ! ctest --test-dir build/release -N -L models | grep -q 'Total Tests: [1-9]'; then
    echo "test: build/release registers no model tests although KILN_MODEL_TESTS=ON was asked for" >&2
    echo "build $((built - start)) s, no model tests" >"$times_file"
    return 1
  fi
  echo "== ctest --test-dir build/release --output-on-failure $*"
  "$repo_root/scripts/run_ctest.sh" --counts "$counts_file" --test-dir build/release --output-on-failure "$@" || status=$?
  echo "build $((built - start)) s, tests $(($(date +%s) - built)) s" >"$times_file"
  return $status
}

summary=()
failed=0
total_passed=0 total_failed=0 total_skipped=0
total_start=$(date +%s)
for stage in "${stage_list[@]}"; do
  echo "==== stage $stage"
  : >"$times_file"
  : >"$counts_file"
  start=$(date +%s)
  status=0
  case "$stage" in
    release) release_stage "$@" || status=$? ;;
    asan) "$repo_root/scripts/test_asan.sh" || status=$? ;;
    tsan) "$repo_root/scripts/test_tsan.sh" || status=$? ;;
    fuzz) "$repo_root/scripts/test_fuzz.sh" || status=$? ;;
  esac
  result=passed
  ((status == 0)) || { result="FAILED (exit $status)"; failed=1; }
  passed=0 stage_failed=0 skipped=0
  if [[ -s $counts_file ]]; then
    read -r _ passed _ stage_failed _ skipped <"$counts_file"
  fi
  # A stage that failed with no failed test counted (its build, its
  # configuration, or no test selected) is one failure in the totals.
  ((status == 0 || stage_failed > 0)) || stage_failed=1
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + stage_failed))
  total_skipped=$((total_skipped + skipped))
  detail=$(cat "$times_file")
  summary+=("$(printf '%-8s %-17s %5d s  %d passed, %d failed, %d skipped  %s' "$stage" "$result" \
    $(($(date +%s) - start)) "$passed" "$stage_failed" "$skipped" "${detail:+($detail)}")")
done

echo "==== test stages (total $(($(date +%s) - total_start)) s)"
printf '%s\n' "${summary[@]}"
echo "total: $total_passed passed, $total_failed failed, $total_skipped skipped"
exit $failed
