#!/usr/bin/env bash
# Checks that no source file includes a header from a layer above its own
# (README "Layers"; the CMake libraries make the same order a link error):
#
#   platform/  may include kiln/ headers and platform/
#   kernels/   adds platform/
#   graph/     adds platform/ (not kernels/: graph passes never run kernels)
#   runtime/   adds kernels/ and graph/
#   tools/     the public API (include/kiln/), platform/, kernels/ and tools/:
#              never graph/ or runtime/, so the `kiln` command needs nothing
#              a library user could not have
#   python/    the Python module's C++ side: the same rule as tools/ (and
#              never tools/ either)
#
# include/kiln/ headers are the shared types and may be included by every
# layer, except the ones that only runtime implements: kiln/session.h,
# kiln/image.h, kiln/tensor_io.h, kiln/model_info.h and kiln/optimize_model.h
# (the types the optimizer needs are in the header-only kiln/optimize.h).
#
#   scripts/check_layers.sh [ROOT]     ROOT: the source tree (default: this repo)
#
# Prints one line per forbidden include (file:line: the include, and the rule)
# and exits 1 when there is any, 0 otherwise.
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
if [[ ! -d $root ]]; then
  echo "check_layers: no such folder: $root" >&2
  exit 2
fi
cd "$root"

runtime_only_api='kiln/(session|image|tensor_io|model_info|optimize_model)\.h'
# layer folder -> the include prefixes it must not use
declare -A forbidden=(
  [platform]="kernels/|graph/|runtime/|tools/|$runtime_only_api"
  [kernels]="graph/|runtime/|tools/|$runtime_only_api"
  [graph]="kernels/|runtime/|tools/|$runtime_only_api"
  [runtime]="tools/"
  [tools]="graph/|runtime/"
  [python]="graph/|runtime/|tools/"
)

violations=0
checked=0
for layer in platform kernels graph runtime tools python; do
  [[ -d $layer ]] || continue
  pattern="^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"](${forbidden[$layer]})"
  while IFS= read -r file; do
    checked=$((checked + 1))
    while IFS= read -r hit; do
      [[ -n $hit ]] || continue
      line=${hit%%:*}
      text=${hit#*:}
      echo "$file:$line: ${text#"${text%%[![:space:]]*}"}   (not allowed in $layer/)"
      violations=$((violations + 1))
    done < <(grep -nE "$pattern" "$file" || true)
  done < <(find "$layer" -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.inc' \) | sort)
done

if ((violations > 0)); then
  echo "check_layers: $violations forbidden include(s) in $checked files (README \"Layers\" gives the order)" >&2
  exit 1
fi
echo "check_layers: ok ($checked files in platform/, kernels/, graph/, runtime/, tools/, python/)"
