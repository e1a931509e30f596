#!/usr/bin/env bash
# Runs a selection of a GoogleTest binary as one ctest test (the hand-written
# add_test wrappers in tests/CMakeLists.txt) so that ctest reports what really
# happened, not "Passed" for everything that exited 0:
#
#   failed   any test failed, the binary crashed, or the selection matched no test
#   skipped  (exit 77, the wrappers' SKIP_RETURN_CODE) every selected test skipped,
#            or --requires-isa names a level this CPU lacks: a run forced to a
#            level the CPU cannot run checks nothing that level is about
#   passed   otherwise; tests of the selection that skipped are named on the last line
#
#   tests/run_gtest_selection.sh [--requires-isa sse41|avx2|avx512] -- BINARY ARGS...
set -euo pipefail

skip_code=77
requires_isa=
while (($#)); do
  case "$1" in
    --requires-isa) requires_isa=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "run_gtest_selection: unknown option '$1'" >&2; exit 2 ;;
  esac
done
(($#)) || { echo "run_gtest_selection: no binary given" >&2; exit 2; }

if [[ -n $requires_isa ]]; then
  # The kernel's flags line lists what the CPU and the OS's saved state support.
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  case "$requires_isa" in
    sse41) needed=(sse4_1) ;;
    avx2) needed=(avx2 fma) ;;
    avx512) needed=(avx512f avx512bw avx512vl avx512dq) ;;
    *) echo "run_gtest_selection: unknown ISA '$requires_isa'" >&2; exit 2 ;;
  esac
  for flag in "${needed[@]}"; do
    if [[ $flags != *" $flag "* ]]; then
      echo "SKIPPED: this CPU lacks $flag, so a run forced to $requires_isa checks nothing of $requires_isa"
      exit $skip_code
    fi
  done
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
if ((status != 0)); then
  # 77 from the binary itself is not a skip this script vouches for.
  ((status != skip_code)) || status=1
  exit $status
fi

# GoogleTest's summary: "[  PASSED  ] N tests." and "[  SKIPPED ] M tests, listed below:".
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\{0,1\}\..*/\1/p' "$log" | tail -1)
skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) tests\{0,1\}, listed below:.*/\1/p' "$log" | tail -1)
if [[ -z $passed ]]; then
  echo "run_gtest_selection: no GoogleTest summary in the output; counting this as a failure" >&2
  exit 1
fi
skipped=${skipped:-0}
if ((passed == 0 && skipped == 0)); then
  echo "run_gtest_selection: the selection matched no test" >&2
  exit 1
fi
if ((passed == 0)); then
  echo "SKIPPED: all $skipped selected tests skipped"
  exit $skip_code
fi
((skipped == 0)) || echo "run_gtest_selection: $passed passed, $skipped skipped (named above)"
exit 0
