#!/usr/bin/env bash
# ctest install.external_consumer: `cmake --install` of a kiln build into a
# temporary prefix, then tests/install/consumer/ (a program outside kiln's
# tree) built against that prefix two ways and run on an ONNX node test:
#   1. CMake: find_package(kiln CONFIG) with CMAKE_PREFIX_PATH=prefix, linking kiln::kiln;
#   2. plain g++ with `pkg-config --cflags --libs --static kiln`.
# Each must compile with only the installed headers, link with no library
# named by hand, and reproduce the node test's stored output.
#
#   external_consumer_test.sh --build-dir BUILD --work-dir DIR --node-test DIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_dir= work_dir= node_test=
while (($#)); do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    --work-dir) work_dir=$2; shift 2 ;;
    --node-test) node_test=$2; shift 2 ;;
    *) echo "external_consumer_test: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n $build_dir && -n $work_dir && -n $node_test ]] || {
  echo "usage: $0 --build-dir BUILD --work-dir DIR --node-test DIR" >&2
  exit 2
}
[[ -f $node_test/model.onnx ]] || { echo "external_consumer_test: no model.onnx in $node_test" >&2; exit 1; }

fail() { echo "external_consumer_test: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

rm -rf "$work_dir"
mkdir -p "$work_dir"
prefix=$work_dir/prefix

step "cmake --install $build_dir --prefix $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work_dir/install.log" 2>&1 || { cat "$work_dir/install.log" >&2; fail "cmake --install failed"; }
for f in bin/kiln include/kiln/session.h include/kiln/tensor.h include/kiln/error.h lib/libkiln.a \
         lib/cmake/kiln/kilnConfig.cmake lib/cmake/kiln/kilnConfigVersion.cmake lib/pkgconfig/kiln.pc; do
  [[ -f $prefix/$f ]] || fail "$f is not installed"
done
# The public API only: no header of the layers below it.
extra=$(find "$prefix/include" -type f ! -path "$prefix/include/kiln/*.h")
[[ -z $extra ]] || fail "installed headers outside include/kiln: $extra"
"$prefix/bin/kiln" --version | grep -Eq '^kiln [0-9]+\.[0-9]+\.[0-9]+$' || fail "the installed kiln binary does not run"

# 1. CMake. CMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY: only the prefix may supply kiln.
step "find_package(kiln): configure, build, run"
cmake -S "$here/consumer" -B "$work_dir/cmake_build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
      >"$work_dir/cmake_configure.log" 2>&1 || { cat "$work_dir/cmake_configure.log" >&2; fail "configuring the consumer failed"; }
grep -q "kiln_DIR:PATH=$prefix/lib/cmake/kiln" "$work_dir/cmake_build/CMakeCache.txt" ||
  fail "find_package(kiln) did not use $prefix: $(grep kiln_DIR "$work_dir/cmake_build/CMakeCache.txt")"
cmake --build "$work_dir/cmake_build" >"$work_dir/cmake_build.log" 2>&1 || { cat "$work_dir/cmake_build.log" >&2; fail "building the consumer with CMake failed"; }
out=$("$work_dir/cmake_build/kiln_consumer" "$node_test") || fail "the CMake-built consumer failed: $out"
echo "$out"
[[ $out == ok:* ]] || fail "unexpected output: $out"

# 2. pkg-config, static: the dependencies come from kiln.pc alone.
step "pkg-config --static kiln: g++, run"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs --static kiln) || fail "pkg-config cannot read kiln.pc"
echo "pkg-config: $flags"
[[ $flags == *"-lkiln"* ]] || fail "pkg-config gives no -lkiln: $flags"
# shellcheck disable=SC2086  # the flags are words
g++ -O1 "$here/consumer/main.cpp" -o "$work_dir/pkgconfig_consumer" $flags >"$work_dir/gxx.log" 2>&1 ||
  { cat "$work_dir/gxx.log" >&2; fail "g++ with pkg-config's flags failed"; }
out=$("$work_dir/pkgconfig_consumer" "$node_test") || fail "the pkg-config-built consumer failed: $out"
echo "$out"
[[ $out == ok:* ]] || fail "unexpected output: $out"

rm -rf "$work_dir"
echo "external_consumer_test: both consumers built against the installed kiln and matched the stored output"
