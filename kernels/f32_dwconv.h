// Direct SIMD kernels for float32 depthwise convolution of one NCHW channel
// plane (3x3 and 5x5 windows, stride 1 and 2, dilation 1, any pads), with the
// bias and a fused activation, and their inventory.
//
// A kernel computes, for one plane,
//   output[oh][ow] = act(bias + sum over taps inside the image of
//                      weights[kh][kw] * input[oh*S - pad_top + kh][ow*S - pad_left + kw])
// (bias and act from a F32DwconvEpilogue), exactly as the reference twin
// f32_conv_depthwise_plane (kernels/conv_depthwise.h) does,
// vectorized across the output columns
// of a row (and two rows at a time inside the image). It copies each input
// row once into a zero-padded row buffer in `scratch` (split into even and
// odd columns for stride 2), so the loop over a row needs no border tests and
// its tail is one masked vector; output rows at the top and bottom use only
// the kernel rows that fall inside the image.
//
// It never allocates or spawns threads: the driver (runtime/ops/conv.cpp)
// gives each thread f32_dwconv_scratch_floats(geometry) floats of scratch
// (any alignment) and runs planes in parallel.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/conv_depthwise.h"
#include "kernels/window_geometry.h"
#include "platform/cpu_info.h"

namespace kiln::kernels {

// input: geometry.in[1] x geometry.in[2] floats, rows contiguous;
// weights: kernel[1] x kernel[2] taps; output: out[1] x out[2] floats.
using F32DwconvPlaneFn = void(const WindowGeometry& geometry, const float* input, const float* weights,
                              const F32DwconvEpilogue& epilogue, float* output, float* scratch);

struct F32DwconvKernel {
  const char* name;  // op-datatype-tile-ISA, e.g. "f32_dwconv_3x3s1_avx2"
  Isa isa;           // the level the CPU must support to run it
  int kernel_size;   // the window is kernel_size x kernel_size
  int stride;        // in both spatial dims
  F32DwconvPlaneFn* run;
};

// The kernels of kernels/x86/f32_dwconv_<isa>.cpp: one per window and stride.
F32DwconvPlaneFn f32_dwconv_3x3s1_sse41, f32_dwconv_3x3s2_sse41, f32_dwconv_5x5s1_sse41, f32_dwconv_5x5s2_sse41;
F32DwconvPlaneFn f32_dwconv_3x3s1_avx2, f32_dwconv_3x3s2_avx2, f32_dwconv_5x5s1_avx2, f32_dwconv_5x5s2_avx2;
F32DwconvPlaneFn f32_dwconv_3x3s1_avx512, f32_dwconv_3x3s2_avx512, f32_dwconv_5x5s1_avx512, f32_dwconv_5x5s2_avx512;

// Every fast depthwise kernel, lowest ISA first. Dispatch, unit tests and
// benchmarks all iterate over this one list.
std::span<const F32DwconvKernel> f32_dwconv_kernels();

// Whether `kernel` computes `geometry`: a 2-D problem (depth 1) with a
// kernel_size x kernel_size window, that stride in both dims, dilation 1.
bool f32_dwconv_fits(const F32DwconvKernel& kernel, const WindowGeometry& geometry);

// The highest-ISA kernel at or below `isa` that fits `geometry`; nullptr when
// none does (the caller then runs the reference, f32_conv_depthwise_plane).
const F32DwconvKernel* select_f32_dwconv_kernel(const WindowGeometry& geometry, Isa isa);

// Where a kernel keeps its padded input rows, in floats from the 64-byte
// aligned start of its scratch. Shared by the kernels and
// f32_dwconv_scratch_floats so the two cannot disagree.
struct F32DwconvScratchLayout {
  // Vector widths up to this many floats read the same buffers.
  static constexpr int64_t kMaxLanes = 16;

  int64_t row_floats;      // one padded row (one phase of it for stride 2), a multiple of kMaxLanes
  int64_t slots;           // rows kept: kernel height + stride
  int64_t phases;          // 1 (stride 1) or 2 (stride 2: even and odd columns)
  int64_t staging_floats;  // stride 2: the padded row before it is split; 0 for stride 1

  // Row buffer `slot`, phase `phase` starts at (slot * phases + phase) * row_floats;
  // the staging row follows the last of them.
  int64_t total_floats() const { return slots * phases * row_floats + staging_floats; }
};

// For a geometry some kernel fits.
F32DwconvScratchLayout f32_dwconv_scratch_layout(const WindowGeometry& geometry);

// The scratch a kernel needs for `geometry`, in floats (alignment slack included).
int64_t f32_dwconv_scratch_floats(const WindowGeometry& geometry);

}  // namespace kiln::kernels
