// The one inventory of depthwise convolution kernels (see f32_dwconv.h).
#include "kernels/f32_dwconv.h"

#include <array>

namespace kiln::kernels {
namespace {

constexpr std::array<F32DwconvKernel, 12> kF32DwconvKernels = {{
    {"f32_dwconv_3x3s1_sse41", Isa::sse41, 3, 1, &f32_dwconv_3x3s1_sse41},
    {"f32_dwconv_3x3s2_sse41", Isa::sse41, 3, 2, &f32_dwconv_3x3s2_sse41},
    {"f32_dwconv_5x5s1_sse41", Isa::sse41, 5, 1, &f32_dwconv_5x5s1_sse41},
    {"f32_dwconv_5x5s2_sse41", Isa::sse41, 5, 2, &f32_dwconv_5x5s2_sse41},
    {"f32_dwconv_3x3s1_avx2", Isa::avx2, 3, 1, &f32_dwconv_3x3s1_avx2},
    {"f32_dwconv_3x3s2_avx2", Isa::avx2, 3, 2, &f32_dwconv_3x3s2_avx2},
    {"f32_dwconv_5x5s1_avx2", Isa::avx2, 5, 1, &f32_dwconv_5x5s1_avx2},
    {"f32_dwconv_5x5s2_avx2", Isa::avx2, 5, 2, &f32_dwconv_5x5s2_avx2},
    {"f32_dwconv_3x3s1_avx512", Isa::avx512, 3, 1, &f32_dwconv_3x3s1_avx512},
    {"f32_dwconv_3x3s2_avx512", Isa::avx512, 3, 2, &f32_dwconv_3x3s2_avx512},
    {"f32_dwconv_5x5s1_avx512", Isa::avx512, 5, 1, &f32_dwconv_5x5s1_avx512},
    {"f32_dwconv_5x5s2_avx512", Isa::avx512, 5, 2, &f32_dwconv_5x5s2_avx512},
}};

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

}  // namespace

std::span<const F32DwconvKernel> f32_dwconv_kernels() { return kF32DwconvKernels; }

bool f32_dwconv_fits(const F32DwconvKernel& kernel, const WindowGeometry& g) {
  const bool plane = g.in[0] == 1 && g.out[0] == 1 && g.kernel[0] == 1 && g.pad_begin[0] == 0;
  return plane && g.kernel[1] == kernel.kernel_size && g.kernel[2] == kernel.kernel_size &&
         g.stride[1] == kernel.stride && g.stride[2] == kernel.stride && g.dilation[1] == 1 && g.dilation[2] == 1;
}

const F32DwconvKernel* select_f32_dwconv_kernel(const WindowGeometry& geometry, Isa isa) {
  const F32DwconvKernel* chosen = nullptr;
  for (const F32DwconvKernel& kernel : kF32DwconvKernels)
    if (static_cast<int>(kernel.isa) <= static_cast<int>(isa) && f32_dwconv_fits(kernel, geometry)) chosen = &kernel;
  return chosen;
}

F32DwconvScratchLayout f32_dwconv_scratch_layout(const WindowGeometry& g) {
  constexpr int64_t kLanes = F32DwconvScratchLayout::kMaxLanes;
  const int64_t kernel = g.kernel[2], stride = g.stride[2];
  // The last vector of a row covers output columns up to out_columns - 1;
  // output column x reads padded column x * stride + kw, which stride 2
  // splits into phase kw % 2 at index x + kw / 2.
  const int64_t out_columns = round_up(g.out[2], kLanes);
  F32DwconvScratchLayout layout;
  layout.slots = g.kernel[1] + g.stride[1];  // two output rows at a time read K + S input rows
  layout.phases = stride;
  layout.row_floats = round_up(out_columns + (kernel - 1) / stride, kLanes);
  layout.staging_floats = stride == 1 ? 0 : 2 * layout.row_floats;  // the padded row before it is split
  return layout;
}

int64_t f32_dwconv_scratch_floats(const WindowGeometry& geometry) {
  // 15 floats of slack let the kernel round the scratch start up to 64 bytes.
  return f32_dwconv_scratch_layout(geometry).total_floats() + F32DwconvScratchLayout::kMaxLanes - 1;
}

}  // namespace kiln::kernels
