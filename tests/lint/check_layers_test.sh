#!/usr/bin/env bash
# scripts/check_layers.sh on a small fixture tree: it passes the tree while
# every include points down (or to kiln/ types), then fails, naming the file
# and line, once one back-edge is added per rule it enforces.
#
#   tests/lint/check_layers_test.sh SCRIPT
set -euo pipefail

script=${1:?usage: check_layers_test.sh path/to/check_layers.sh}
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../expect_exit.sh"
check() {  # check NAME WANT_RC WANT_TEXT: runs the script on $tree
  expect "$1" "$2" "$3" -- bash "$script" "$tree"
}

mkdir -p "$tree"/{platform,kernels/x86,graph/passes,runtime/ops,tools,python}
printf '#include "kiln/tensor.h"\n#include <vector>\n' >"$tree/platform/pool.cpp"
printf '#include "platform/pool.h"\n#include "kiln/error.h"\n' >"$tree/kernels/x86/gemm_avx2.cpp"
printf '#include "graph/ir.h"\n#include "platform/memory_budget.h"\n#include "kiln/optimize.h"\n' \
  >"$tree/graph/passes/fold.cpp"
printf '#include "graph/ir.h"\n#include "kernels/gemm.h"\n#include "kiln/session.h"\n' >"$tree/runtime/ops/conv.cpp"
printf '#include "kiln/model_info.h"\n#include "platform/cpu_info.h"\n#include "kernels/f32_peak.h"\n#include "tools/cli_common.h"\n' \
  >"$tree/tools/main.cpp"
printf '#include "kiln/session.h"\n#include "platform/cpu_info.h"\n#include <pybind11/pybind11.h>\n' >"$tree/python/module.cpp"
check "a tree whose includes all point down passes" 0 "check_layers: ok"

printf '#include "graph/ir.h"\n// a pass that runs a kernel\n  #  include "runtime/op_registry.h"\n' \
  >"$tree/graph/passes/bad.cpp"
check "graph/ including runtime/ fails naming file and line" 1 'graph/passes/bad.cpp:3: #  include "runtime/op_registry.h"'
rm "$tree/graph/passes/bad.cpp"

printf '#include "kernels/data_movement.h"\n' >"$tree/graph/bad.h"
check "graph/ including kernels/ fails" 1 'graph/bad.h:1: #include "kernels/data_movement.h"'
rm "$tree/graph/bad.h"

printf '#include "kiln/session.h"  // OptLevel\n' >"$tree/graph/bad.h"
check "graph/ including kiln/session.h fails" 1 'graph/bad.h:1: #include "kiln/session.h"'
rm "$tree/graph/bad.h"

printf '#include <vector>\n#include <runtime/op_registry.h>\n' >"$tree/kernels/x86/bad_avx2.cpp"
check "kernels/ including runtime/ (angle brackets) fails" 1 'kernels/x86/bad_avx2.cpp:2: #include <runtime/op_registry.h>'
rm "$tree/kernels/x86/bad_avx2.cpp"

printf '#include "kernels/f32_gemm_packed.h"\n' >"$tree/platform/bad.cpp"
check "platform/ including kernels/ fails" 1 'platform/bad.cpp:1: #include "kernels/f32_gemm_packed.h"'
rm "$tree/platform/bad.cpp"

printf '#include "tools/cli_common.h"\n' >"$tree/runtime/bad.cpp"
check "runtime/ including tools/ fails" 1 'runtime/bad.cpp:1: #include "tools/cli_common.h"'
rm "$tree/runtime/bad.cpp"

printf '#include "kiln/session.h"\n#include "graph/onnx_loader.h"\n' >"$tree/tools/bad.cpp"
check "tools/ including graph/ fails" 1 'tools/bad.cpp:2: #include "graph/onnx_loader.h"'
rm "$tree/tools/bad.cpp"

printf '#include "runtime/op_registry.h"\n' >"$tree/tools/bad.h"
check "tools/ including runtime/ fails" 1 'tools/bad.h:1: #include "runtime/op_registry.h"'
rm "$tree/tools/bad.h"

printf '#include "kiln/model_info.h"\n' >"$tree/graph/bad.h"
check "graph/ including kiln/model_info.h fails" 1 'graph/bad.h:1: #include "kiln/model_info.h"'
rm "$tree/graph/bad.h"

printf '#include "kiln/session.h"\n#include "runtime/executor.h"\n' >"$tree/python/bad.cpp"
check "python/ including runtime/ fails" 1 'python/bad.cpp:2: #include "runtime/executor.h"'
rm "$tree/python/bad.cpp"

printf '#include "tools/cli_common.h"\n' >"$tree/python/bad.cpp"
check "python/ including tools/ fails" 1 'python/bad.cpp:1: #include "tools/cli_common.h"'
rm "$tree/python/bad.cpp"

check "the tree passes again once the back-edges are gone" 0 "check_layers: ok"

expect_summary check_layers_test
