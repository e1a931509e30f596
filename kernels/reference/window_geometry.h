// Moved to kernels/window_geometry.h (it is production code, not a twin).
// kernels/f32_dwconv.h (edited on branch kerneltable) still includes this
// path; point it at kernels/window_geometry.h and delete this file after the merge.
#pragma once

#include "kernels/window_geometry.h"
