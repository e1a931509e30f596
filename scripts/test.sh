#!/usr/bin/env bash
# README command 2: makes sure the dependencies are installed and the release
# preset is built (both skip what is already done), then runs every test with
# ctest. Extra arguments go to ctest, e.g. `scripts/test.sh -L models` or
# `scripts/test.sh -LE models`. Exits non-zero when any test fails; the last
# lines printed are ctest's own summary.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

"$repo_root/scripts/install_deps.sh"
"$repo_root/scripts/build.sh" release
echo "== ctest --test-dir build/release --output-on-failure $*"
exec ctest --test-dir build/release --output-on-failure "$@"
