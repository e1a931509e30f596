// Bilinear resize of RGB8 images through Debian's stb_image_resize.
//
// The triangle filter is bilinear interpolation when enlarging; when shrinking
// its support widens with the scale so every source pixel contributes (no
// aliasing), as PIL's BILINEAR does. Edges clamp; values are treated as plain
// numbers (no sRGB linearization), which is how models see pixels.
#include <stb/stb_image_resize.h>

#include "kiln/error.h"
#include "kiln/image.h"

namespace kiln {

RgbImage resize_image(const RgbImage& image, int width, int height) {
  if (image.width < 1 || image.height < 1 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3)
    fail("resize_image: the source image of ", image.width, "x", image.height, " holds ", image.pixels.size(),
         " bytes instead of width*height*3");
  RgbImage resized(width, height);  // checks the target size
  if (width == image.width && height == image.height) {
    resized.pixels = image.pixels;
    return resized;
  }
  int ok = stbir_resize_uint8_generic(image.pixels.data(), image.width, image.height, image.width * 3,
                                      resized.pixels.data(), width, height, width * 3, 3, STBIR_ALPHA_CHANNEL_NONE,
                                      0, STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr);
  if (!ok) fail("cannot resize a ", image.width, "x", image.height, " image to ", width, "x", height);
  return resized;
}

GrayImage resize_gray_image(const GrayImage& image, int width, int height) {
  if (image.width < 1 || image.height < 1 || image.pixels.size() != static_cast<size_t>(image.width) * image.height)
    fail("resize_gray_image: the source image of ", image.width, "x", image.height, " holds ", image.pixels.size(),
         " bytes instead of width*height");
  GrayImage resized(width, height);
  if (width == image.width && height == image.height) {
    resized.pixels = image.pixels;
    return resized;
  }
  int ok = stbir_resize_uint8_generic(image.pixels.data(), image.width, image.height, image.width,
                                      resized.pixels.data(), width, height, width, 1, STBIR_ALPHA_CHANNEL_NONE, 0,
                                      STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr);
  if (!ok) fail("cannot resize a ", image.width, "x", image.height, " grey image to ", width, "x", height);
  return resized;
}

}  // namespace kiln
