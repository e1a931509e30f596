#!/usr/bin/env bash
# Checks that the test plumbing reports what ran (ctest test
# plumbing.test_runners_report_what_ran):
#   - scripts/run_ctest.sh fails on a selection that matches no test, and prints
#     the true counts (a skipped test is not counted as passed);
#   - tests/run_gtest_selection.sh reports an all-skip selection as a skip (77),
#     a failure next to a skip as a failure, a selection matching nothing as a
#     failure, and a level this CPU lacks as a skip;
#   - every test of the build folder that is not a single discovered GoogleTest
#     declares SKIP_RETURN_CODE or SKIP_REGULAR_EXPRESSION.
#
#   plumbing_test.sh --source-dir DIR --build-dir DIR --fixture BINARY
set -euo pipefail

while (($#)); do
  case "$1" in
    --source-dir) source_dir=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --fixture) fixture=$2; shift 2 ;;
    *) echo "plumbing_test: unknown option '$1'" >&2; exit 2 ;;
  esac
done
# Absolute paths: the hand-written ctest folder below runs them from elsewhere.
source_dir=$(realpath "$source_dir") build_dir=$(realpath "$build_dir") fixture=$(realpath "$fixture")
run_ctest=$source_dir/scripts/run_ctest.sh
selection=$source_dir/tests/run_gtest_selection.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$source_dir/tests/expect_exit.sh"

# run_gtest_selection.sh on the fixture's outcomes.
expect "one passing test passes" 0 "[  PASSED  ] 1 test." -- \
  bash "$selection" -- "$fixture" --gtest_filter=PlumbingFixture.Passes
expect "an all-skip selection is a skip" 77 "SKIPPED: all 1 selected tests skipped" -- \
  bash "$selection" -- "$fixture" --gtest_filter=PlumbingFixture.Skips
expect "a pass beside a skip passes and names the skip" 0 "1 passed, 1 skipped" -- \
  bash "$selection" -- "$fixture" --gtest_filter=PlumbingFixture.Passes:PlumbingFixture.Skips
expect "a failure beside a skip fails" 1 "the fixture's failure" -- \
  bash "$selection" -- "$fixture" --gtest_filter=PlumbingFixture.Skips:PlumbingFixture.Fails
expect "a selection matching nothing fails" 1 "the selection matched no test" -- \
  bash "$selection" -- "$fixture" --gtest_filter=NoSuchSuite.*
# A level no x86 CPU has a flag for cannot be asked for; an unknown level is a usage error.
expect "an unknown level is a usage error" 2 "unknown ISA" -- \
  bash "$selection" --requires-isa avx9000 -- "$fixture" --gtest_filter=PlumbingFixture.Passes
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
if [[ $flags != *" avx512f "* ]]; then
  expect "a level this CPU lacks is a skip" 77 "this CPU lacks avx512f" -- \
    bash "$selection" --requires-isa avx512 -- "$fixture" --gtest_filter=PlumbingFixture.Fails
else
  expect "a level this CPU has runs the tests" 1 "the fixture's failure" -- \
    bash "$selection" --requires-isa avx512 -- "$fixture" --gtest_filter=PlumbingFixture.Fails
fi

# run_ctest.sh over a hand-written ctest folder: the same wrapper, as the
# build registers it, must come out of ctest as Skipped and be counted so.
mkdir -p "$work/ctest"
cat >"$work/ctest/CTestTestfile.cmake" <<CTEST
add_test(fixture_passes bash "$selection" -- "$fixture" --gtest_filter=PlumbingFixture.Passes)
set_tests_properties(fixture_passes PROPERTIES SKIP_RETURN_CODE 77 LABELS good)
add_test(fixture_all_skip bash "$selection" -- "$fixture" --gtest_filter=PlumbingFixture.Skips)
set_tests_properties(fixture_all_skip PROPERTIES SKIP_RETURN_CODE 77 LABELS good)
add_test(fixture_fails bash "$selection" -- "$fixture" --gtest_filter=PlumbingFixture.Fails)
set_tests_properties(fixture_fails PROPERTIES SKIP_RETURN_CODE 77 LABELS bad)
CTEST
expect "ctest counts a skip as a skip" 0 "ctest counts: 1 passed, 0 failed, 1 skipped" -- \
  bash "$run_ctest" --test-dir "$work/ctest" -L good
expect "ctest counts a failure" 8 "ctest counts: 1 passed, 1 failed, 1 skipped" -- \
  bash "$run_ctest" --test-dir "$work/ctest"
expect "a label that matches nothing fails" 8 "No tests were found" -- \
  bash "$run_ctest" --test-dir "$work/ctest" -L no_such_label
expect "the same against the real build fails" 8 "No tests were found" -- \
  bash "$run_ctest" --test-dir "$build_dir" -L no_such_label
bash "$run_ctest" --counts "$work/counts" --test-dir "$work/ctest" -L good >/dev/null 2>&1 || true
if [[ "$(cat "$work/counts")" == "passed 1 failed 0 skipped 1" ]]; then
  echo "ok   --counts writes the counts"
else
  expect_failed "--counts writes the counts" "it wrote '$(cat "$work/counts")'"
fi

# Every test of the real build folder declares how it reports a skip.
ctest --test-dir "$build_dir" --show-only=json-v1 >"$work/tests.json"
if python3 - "$work/tests.json" <<'PY'
import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
missing = []
for test in tests:
    names = {p["name"] for p in test.get("properties", [])}
    if not names & {"SKIP_RETURN_CODE", "SKIP_REGULAR_EXPRESSION"}:
        missing.append(test["name"])
print(f"{len(tests)} tests listed")
if missing:
    print("tests without SKIP_RETURN_CODE or SKIP_REGULAR_EXPRESSION: " + ", ".join(missing))
    sys.exit(1)
PY
then
  echo "ok   every test declares how it reports a skip"
else
  expect_failed "every test declares how it reports a skip" "some tests cannot report a skip"
fi

expect_summary plumbing_test
