// The EXIF orientation tag of JPEG data, read with Debian's libexif.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln {

// 1..8 from the JPEG's EXIF APP1 segment; 1 when there is no EXIF data, no
// orientation tag or a value outside 1..8 (a broken tag is not worth refusing
// the picture for).
int read_exif_orientation(const uint8_t* jpeg, size_t size);

}  // namespace kiln
