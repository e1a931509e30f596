# Sourced by the shell tests of the test plumbing (tests/plumbing/,
# tests/conformance/runner_plumbing_test.sh, tests/lint/): one way to check that
# a command fails, or passes, exactly as it should.
#
#   expect NAME RC NEEDLE -- COMMAND...   the command must exit with exactly RC
#                                         and print NEEDLE (stdout or stderr)
#   expect_failed NAME WHY                count a check made by other means as failed
#   expect_summary SCRIPT                 print the result; exit 1 if any check failed
expect_failures=0

expect() {
  local name=$1 want=$2 needle=$3
  shift 4
  local out got=0
  out=$("$@" 2>&1) || got=$?
  if ((got != want)); then
    expect_failed "$name" "exit $got, expected $want; output:"
    sed 's/^/  | /' <<<"$out"
  elif ! grep -qF -- "$needle" <<<"$out"; then
    expect_failed "$name" "exit $got as expected, but the output lacks '$needle':"
    sed 's/^/  | /' <<<"$out"
  else
    echo "ok   $name"
  fi
}

expect_failed() {
  echo "FAIL $1: $2"
  expect_failures=$((expect_failures + 1))
}

expect_summary() {
  ((expect_failures == 0)) || { echo "$1: $expect_failures check(s) failed"; exit 1; }
  echo "$1: all checks passed"
}
