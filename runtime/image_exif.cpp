// EXIF orientation: reading the tag (libexif) and turning the pixels upright.
#include "runtime/image_exif.h"

#include <libexif/exif-data.h>

#include <climits>
#include <memory>

#include "kiln/error.h"
#include "kiln/image.h"

namespace kiln {

int read_exif_orientation(const uint8_t* jpeg, size_t size) {
  if (size == 0 || size > UINT_MAX) return 1;
  std::unique_ptr<ExifData, void (*)(ExifData*)> exif(exif_data_new_from_data(jpeg, static_cast<unsigned int>(size)),
                                                       exif_data_unref);
  if (!exif) return 1;
  ExifEntry* entry = exif_content_get_entry(exif->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
  if (!entry || entry->format != EXIF_FORMAT_SHORT || entry->components < 1 || !entry->data || entry->size < 2)
    return 1;
  const int orientation = exif_get_short(entry->data, exif_data_get_byte_order(exif.get()));
  return orientation >= 1 && orientation <= 8 ? orientation : 1;
}

const char* exif_orientation_name(int orientation) {
  switch (orientation) {
    case 2: return "mirrored left to right";
    case 3: return "rotated 180 degrees";
    case 4: return "mirrored top to bottom";
    case 5: return "transposed (mirrored, rotated 90 degrees counter-clockwise)";
    case 6: return "rotated 90 degrees clockwise";
    case 7: return "transversed (mirrored, rotated 90 degrees clockwise)";
    case 8: return "rotated 90 degrees counter-clockwise";
    default: return "";
  }
}

RgbImage apply_exif_orientation(const RgbImage& image, int orientation) {
  if (orientation < 1 || orientation > 8) fail("EXIF orientation ", orientation, " is outside 1..8");
  if (orientation == 1) return image;
  const int w = image.width, h = image.height;
  const bool swaps = orientation >= 5;
  RgbImage upright(swaps ? h : w, swaps ? w : h);
  for (int y = 0; y < upright.height; ++y) {
    for (int x = 0; x < upright.width; ++x) {
      // The stored pixel shown at (x, y).
      int sx = x, sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; break;
        case 3: sx = w - 1 - x, sy = h - 1 - y; break;
        case 4: sy = h - 1 - y; break;
        case 5: sx = y, sy = x; break;
        case 6: sx = y, sy = h - 1 - x; break;
        case 7: sx = w - 1 - y, sy = h - 1 - x; break;
        case 8: sx = w - 1 - y, sy = x; break;
      }
      const uint8_t* from = image.pixel(sx, sy);
      uint8_t* to = upright.pixel(x, y);
      to[0] = from[0], to[1] = from[1], to[2] = from[2];
    }
  }
  return upright;
}

}  // namespace kiln
