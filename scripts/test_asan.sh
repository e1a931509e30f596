#!/usr/bin/env bash
# Builds the asan preset (g++ with AddressSanitizer + UndefinedBehaviorSanitizer,
# build/asan) and runs its unit tests and the ONNX conformance tests there.
# A sanitizer report fails the run (UBSan does not recover; ASan aborts).
# Extra arguments go to ctest, e.g. `scripts/test_asan.sh -R BadModels`.
#
#   scripts/test_asan.sh            (KILN_BUILD_JOBS=N sets the build parallelism)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
jobs=${KILN_BUILD_JOBS:-$(nproc)}

start=$(date +%s)
echo "== configure: cmake --preset asan -G Ninja -DKILN_MODEL_TESTS=OFF"
cmake --preset asan -G Ninja -DKILN_MODEL_TESTS=OFF >/dev/null
echo "== build: kiln_unit_tests kiln_conformance (asan)"
cmake --build build/asan -j "$jobs" --target kiln_unit_tests kiln_conformance kiln_bad_models kiln_style_models
built=$(date +%s)

# detect_leaks: the unit tests must not leak either. halt_on_error keeps the
# first report readable.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== ctest --test-dir build/asan -LE 'models|fuzz' $*"
status=0
ctest --test-dir build/asan --output-on-failure -j "$jobs" -LE 'models|fuzz' "$@" || status=$?
echo "test_asan: build $((built - start)) s, tests $(($(date +%s) - built)) s"
exit $status
