#!/usr/bin/env bash
# Proves the no-AVX claim: the kiln binary runs a conv-heavy model under
# `qemu-x86_64 -cpu Westmere` (SSE4.2, no AVX/FMA/F16C), picks the SSE path
# by itself, and gives byte-identical outputs to the same binary forced to
# that path natively (KILN_ISA=sse41, one thread, same pseudo-random input,
# same KILN_CACHES).
# An instruction outside the dispatched files that needs AVX would die with
# SIGILL under qemu.
#
# usage: westmere_test.sh KILN_BINARY MODEL WORK_DIR
set -euo pipefail
kiln=$1 model=$2 work=$3
qemu=$(command -v qemu-x86_64 || true)
if [[ -z $qemu ]]; then
  echo "qemu-x86_64 not found (Debian package qemu-user); scripts/install_deps.sh installs it" >&2
  exit 1
fi
rm -rf "$work" && mkdir -p "$work/native" "$work/westmere"

echo "== kiln info under qemu -cpu Westmere"
info=$("$qemu" -cpu Westmere "$kiln" info)
echo "$info"
grep -q "ISA selected: sse41" <<<"$info" || { echo "FAIL: kiln did not select sse41 on Westmere" >&2; exit 1; }
# The peak measurement runs the SSE loop only (an AVX loop would die with SIGILL).
grep -q "f32 peak: .* sse [0-9.]* (" <<<"$info" || { echo "FAIL: kiln info measured no SSE-only peak on Westmere" >&2; exit 1; }

args=(run "$model" --shape input=1x3x40x56 --threads 1)
# Same cache sizes on both sides (qemu's Westmere reports its own), so the
# GEMM blocks K the same way and the sums round alike.
export KILN_CACHES=32,256,0
echo "== native, KILN_ISA=sse41"
KILN_ISA=sse41 "$kiln" "${args[@]}" --output-dir "$work/native"
echo "== qemu-x86_64 -cpu Westmere (ISA auto-detected)"
"$qemu" -cpu Westmere "$kiln" "${args[@]}" --output-dir "$work/westmere"

status=0
for native in "$work"/native/*.npy; do
  other="$work/westmere/$(basename "$native")"
  if cmp -s "$native" "$other"; then
    echo "PASS $(basename "$native"): identical under Westmere"
  else
    echo "FAIL $(basename "$native"): outputs differ between native sse41 and Westmere" >&2
    status=1
  fi
done
exit $status
