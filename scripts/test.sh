#!/usr/bin/env bash
# README command 2 (and CI: .ci/run calls it): installs what is missing, then
# runs three test stages, each building what it needs (an up-to-date build only
# checks):
#
#   release  build/release (scripts/build.sh release), then every ctest test:
#            unit, ONNX conformance, CLI, qemu, PaddleOCR models vs onnxruntime
#   asan     build/asan, g++ -O1 AddressSanitizer + UndefinedBehaviorSanitizer
#            (scripts/test_asan.sh): every test but the qemu one (ASan cannot
#            run under qemu-user)
#   fuzz     build/fuzz, clang-14 -O1 + libFuzzer + ASan/UBSan (scripts/test_fuzz.sh):
#            each fuzz target replays its kept crash inputs, then fuzzes for
#            KILN_FUZZ_SECONDS (60) seconds
#
# Every selected stage runs even when an earlier one failed; the script exits
# non-zero when any failed. The last lines printed are one line per stage:
# its result and how long its build and its tests took.
#
#   scripts/test.sh                              all three stages
#   KILN_TEST_STAGES=asan scripts/test.sh        only the listed stages (release,asan,fuzz)
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
  stages=release,asan,fuzz
fi
IFS=, read -r -a stage_list <<<"$stages"
for stage in "${stage_list[@]}"; do
  case "$stage" in
    release | asan | fuzz) ;;
    *) echo "test: unknown stage '$stage' in KILN_TEST_STAGES (release, asan, fuzz)" >&2; exit 2 ;;
  esac
done

"$repo_root/scripts/install_deps.sh"

# Each stage script writes "build N s, tests M s" into this file.
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT
export KILN_STAGE_TIMES=$times_file

release_stage() {
  local start built status=0
  start=$(date +%s)
  "$repo_root/scripts/build.sh" release || { echo "build $(($(date +%s) - start)) s, build failed" >"$times_file"; return 1; }
  built=$(date +%s)
  echo "== ctest --test-dir build/release --output-on-failure $*"
  ctest --test-dir build/release --output-on-failure "$@" || status=$?
  echo "build $((built - start)) s, tests $(($(date +%s) - built)) s" >"$times_file"
  return $status
}

summary=()
failed=0
total_start=$(date +%s)
for stage in "${stage_list[@]}"; do
  echo "==== stage $stage"
  : >"$times_file"
  start=$(date +%s)
  status=0
  case "$stage" in
    release) release_stage "$@" || status=$? ;;
    asan) "$repo_root/scripts/test_asan.sh" || status=$? ;;
    fuzz) "$repo_root/scripts/test_fuzz.sh" || status=$? ;;
  esac
  result=passed
  ((status == 0)) || { result="FAILED (exit $status)"; failed=1; }
  detail=$(cat "$times_file")
  summary+=("$(printf '%-8s %-17s %5d s  %s' "$stage" "$result" $(($(date +%s) - start)) "${detail:+($detail)}")")
done

echo "==== test stages (total $(($(date +%s) - total_start)) s)"
printf '%s\n' "${summary[@]}"
exit $failed
