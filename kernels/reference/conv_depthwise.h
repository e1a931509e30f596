// Moved to kernels/conv_depthwise.h: f32_conv_depthwise_plane is the
// production path for depthwise shapes no fast kernel covers, as well as the
// twin of kernels/f32_dwconv.h. runtime/ops/conv.cpp and kernels/f32_dwconv.h
// (edited on branch kerneltable), tests/unit/f32_dwconv_test.cpp and
// benchmarks/f32_dwconv_bench.cpp still include this path; point them at
// kernels/conv_depthwise.h and delete this file after the merge.
#pragma once

#include "kernels/conv_depthwise.h"
