#!/usr/bin/env bash
# Checks that kiln_conformance fails when it checked less than it should:
# nothing to run, a filter matching nothing, every test skipped, too few passes,
# a test folder whose data sets do not match its model, a stale list line.
# Fixtures are built here in a temporary folder from one real node test.
#
#   runner_plumbing_test.sh KILN_CONFORMANCE NODE_TEST_DATA_DIR
set -uo pipefail

runner=${1:?usage: runner_plumbing_test.sh KILN_CONFORMANCE NODE_TEST_DATA_DIR}
data=${2:?usage: runner_plumbing_test.sh KILN_CONFORMANCE NODE_TEST_DATA_DIR}
# test_unique_sorted_without_axis: a model kiln does not claim (Unique); pick
# another unsupported one if kiln gains Unique.
unclaimed=test_unique_sorted_without_axis
# test_training_dropout: a model kiln loads but refuses to run (random dropout
# in training mode, an UnsupportedError at run time).
refused_at_run=test_training_dropout
for t in test_abs $unclaimed $refused_at_run; do
  [[ -d $data/$t ]] || { echo "runner_plumbing_test: $data/$t is missing (apt-get install libonnx-testdata)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../expect_exit.sh"

# fixture NAME [TEST]: a data folder holding a copy of one real node test.
fixture() {
  mkdir -p "$tmp/$1"
  cp -r "$data/${2:-test_abs}" "$tmp/$1/"
  echo "$tmp/$1"
}

mkdir "$tmp/empty"
expect empty_folder 1 "error: no test folder in $tmp/empty: nothing was tested" -- "$runner" --data "$tmp/empty"

intact=$(fixture intact)
expect filter_matches_nothing 1 "matches --filter 'no_such_test': nothing was tested" -- \
  "$runner" --data "$intact" --filter no_such_test

# The control: the untouched copy passes, so the failures below come from the damage.
expect intact_fixture_passes 0 "conformance: 1 passed, 0 failed, 0 skipped, 0 expected failures" -- \
  "$runner" --data "$intact" --opt-levels none,all --min-passed 1
expect min_passed_not_reached 1 "error: 1 tests passed, fewer than --min-passed 2" -- \
  "$runner" --data "$intact" --min-passed 2

dir=$(fixture missing_output)
rm "$dir/test_abs/test_data_set_0/output_0.pb"
expect missing_output_file 1 "FAIL test_abs: test_data_set_0: 0 output files for 1 model outputs" -- \
  "$runner" --data "$dir"

dir=$(fixture extra_output)
cp "$dir/test_abs/test_data_set_0/output_0.pb" "$dir/test_abs/test_data_set_0/output_1.pb"
expect extra_output_file 1 "FAIL test_abs: test_data_set_0: 2 output files for 1 model outputs" -- \
  "$runner" --data "$dir"

dir=$(fixture missing_input)
rm "$dir/test_abs/test_data_set_0/input_0.pb"
expect missing_input_file 1 "FAIL test_abs: test_data_set_0: 0 input files for 1 model inputs" -- \
  "$runner" --data "$dir"

dir=$(fixture missing_data_set)
rm -r "$dir/test_abs/test_data_set_0"
expect missing_data_set 1 "FAIL test_abs: no test_data_set_* folder" -- "$runner" --data "$dir"

dir=$(fixture all_skipped $unclaimed)
expect every_test_skipped 1 "error: every test was skipped" -- "$runner" --data "$dir"

# Only an unsupported model at the first level's load is a skip.
dir=$(fixture refused_at_run $refused_at_run)
expect unsupported_at_run_is_a_failure 1 \
  "FAIL $refused_at_run: at levels none,all: test_data_set_0: node 'Dropout_0' (Dropout): training mode" -- \
  "$runner" --data "$dir" --opt-levels none,all

echo "fail test_abs listed to check the runner" >"$tmp/passing_listed.txt"
expect expected_failure_passes 1 "FAIL test_abs: listed as an expected failure but passes" -- \
  "$runner" --data "$intact" --expected-failures "$tmp/passing_listed.txt"

echo "fail test_gone a test folder that no longer exists" >"$tmp/stale.txt"
expect stale_list_line 1 "FAIL test_gone: listed in $tmp/stale.txt but there is no such test folder" -- \
  "$runner" --data "$intact" --expected-failures "$tmp/stale.txt"

expect_summary runner_plumbing_test
