#!/usr/bin/env bash
# Builds the libFuzzer targets (build/fuzz: clang++, -DKILN_FUZZ=ON, ASan+UBSan)
# and runs `ctest -L fuzz` there: each target replays its kept crash inputs
# (tests/fuzz_regressions/) and then fuzzes for KILN_FUZZ_SECONDS (60) seconds
# from the conformance-data seed corpus. Extra arguments go to ctest.
#
#   scripts/test_fuzz.sh           (KILN_BUILD_JOBS=N, KILN_FUZZ_SECONDS=N)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
build_dir="$repo_root/build/fuzz"
seconds=${KILN_FUZZ_SECONDS:-60}

echo "== configure: $build_dir (clang++, KILN_FUZZ=ON, ${seconds} s per target)"
compiler=()  # chosen only when the folder is new: changing it later would rebuild everything
[[ -f "$build_dir/CMakeCache.txt" ]] || compiler=(-DCMAKE_CXX_COMPILER="${KILN_FUZZ_CXX:-clang++-14}")
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${compiler[@]}" \
  -DKILN_FUZZ=ON -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCHMARKS=OFF -DKILN_FUZZ_SECONDS="$seconds" >/dev/null
echo "== build: fuzz targets"
cmake --build "$build_dir" -j "${KILN_BUILD_JOBS:-$(nproc)}" --target kiln_fuzz_model kiln_fuzz_tensor_pb kiln_fuzz_npy
echo "== ctest --test-dir $build_dir -L fuzz $*"
exec ctest --test-dir "$build_dir" --output-on-failure -L fuzz "$@"
