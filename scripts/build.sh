#!/usr/bin/env bash
# Configures and builds one CMake preset of kiln with Ninja (release by default).
# Idempotent: on an up-to-date build it only checks. CMake's configure output is
# shown only when it fails; the compiler's output (warnings, errors) is shown.
#
#   scripts/build.sh [release|debug|asan] [-DVAR=VALUE...]
#   (KILN_BUILD_JOBS=N sets the parallelism; -D arguments go to the configure step)
set -euo pipefail

preset=${1:-release}
(($# == 0)) || shift
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
jobs=${KILN_BUILD_JOBS:-$(nproc)}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== configure: cmake --preset $preset -G Ninja $*"
if ! cmake --preset "$preset" -G Ninja "$@" >"$log" 2>&1; then
  cat "$log" >&2
  echo "build: cmake configure of preset $preset failed" >&2
  exit 1
fi
grep -E '^CMake (Warning|Deprecation Warning)' -A6 "$log" >&2 || true
echo "== build: cmake --build --preset $preset -j $jobs"
cmake --build --preset "$preset" -j "$jobs"
