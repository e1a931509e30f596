#!/usr/bin/env bash
# Runs ctest the one way every test stage does (scripts/test.sh, test_asan.sh,
# test_fuzz.sh): a selection that matches no test is an error, not a pass, and
# the counts of the run are printed as one line, "N passed, N failed, N
# skipped", read from ctest's JUnit report. ctest's own closing line ("100%
# tests passed, 0 tests failed out of 4") counts a skipped test as passed, so
# it is not the figure to trust.
#
#   scripts/run_ctest.sh [--counts FILE] [--] ctest-args...
#
# --counts FILE: also write "passed N failed N skipped N" to FILE (the stages
# sum these for scripts/test.sh's closing line). Exit status: ctest's, or 1
# when its report is missing or cannot be read.
set -euo pipefail

counts_file=
if [[ ${1:-} == --counts ]]; then
  counts_file=$2
  shift 2
fi
[[ ${1:-} != -- ]] || shift

junit=$(mktemp)
trap 'rm -f "$junit"' EXIT
status=0
ctest --no-tests=error --output-junit "$junit" "$@" || status=$?

# A testcase is failed when it has <failure> or <error>, skipped when it has
# <skipped> (ctest writes that for SKIP_RETURN_CODE / SKIP_REGULAR_EXPRESSION
# and for tests it could not start, which it also counts as failed: those are
# counted here as failed too, by their status attribute), passed otherwise.
if ! counts=$(python3 - "$junit" <<'EOF'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (ET.ParseError, OSError):
    sys.exit(1)
passed = failed = skipped = 0
for case in root.iter("testcase"):
    status = case.get("status", "")
    if case.find("failure") is not None or case.find("error") is not None or status == "fail":
        failed += 1
    elif case.find("skipped") is not None or status in ("notrun", "disabled"):
        # ctest marks a test it could not start "notrun" as well; its message says so.
        message = (case.find("skipped").get("message", "") if case.find("skipped") is not None else "")
        if "Could not find" in message or "Unable to find" in message:
            failed += 1
        else:
            skipped += 1
    else:
        passed += 1
print(f"passed {passed} failed {failed} skipped {skipped}")
EOF
); then
  if ((status == 0)); then
    echo "run_ctest: ctest wrote no readable JUnit report; counting this run as failed" >&2
    status=1
  fi
  counts="passed 0 failed 1 skipped 0"
fi

read -r _ passed _ failed _ skipped <<<"$counts"
echo "ctest counts: $passed passed, $failed failed, $skipped skipped"
[[ -z $counts_file ]] || echo "$counts" >"$counts_file"
exit $status
