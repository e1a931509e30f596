// Image files in and out of kiln: decode PNG/JPEG/BMP to 8-bit RGB, resize,
// convert to and from float tensors, encode by file extension.
//
// Decoding and encoding use Debian's stb (stb_image, stb_image_write,
// stb_image_resize). Every failure is a kiln::Error that names the file; a
// decoder is only handed data that starts with a PNG, JPEG or BMP signature
// and whose header dimensions are within kMaxImageDimension.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln {

// Largest width or height kiln decodes, encodes or resizes to.
inline constexpr int kMaxImageDimension = 16384;

// 8-bit RGB, rows top to bottom, each pixel R, G, B: pixels.size() == width * height * 3.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  RgbImage() = default;
  // Zero-filled; throws kiln::Error for sizes outside 1..kMaxImageDimension.
  RgbImage(int width, int height);

  uint8_t* pixel(int x, int y) { return pixels.data() + (static_cast<size_t>(y) * width + x) * 3; }
  const uint8_t* pixel(int x, int y) const { return pixels.data() + (static_cast<size_t>(y) * width + x) * 3; }
};

enum class ImageFormat { kPng, kJpeg, kBmp };

// ".png" -> kPng, ".jpg"/".jpeg" -> kJpeg, ".bmp" -> kBmp (any case); anything
// else is a kiln::Error naming the path.
ImageFormat image_format_from_path(const std::string& path);

// Decodes a PNG, JPEG or BMP file to RGB (grey is replicated, alpha dropped,
// 16-bit PNG reduced to 8 bits). `source` names the data in error messages.
RgbImage decode_image(const uint8_t* bytes, size_t size, const std::string& source);
RgbImage read_image(const std::string& path);

// jpeg_quality: 1..100 (ignored for PNG and BMP). PNG and BMP are lossless.
std::vector<uint8_t> encode_image(const RgbImage& image, ImageFormat format, int jpeg_quality = 95);
// Format from the path's extension.
void write_image(const RgbImage& image, const std::string& path, int jpeg_quality = 95);

// Bilinear resize (stb's triangle filter, clamped edges; when shrinking, the
// filter widens to average every source pixel, like PIL's BILINEAR).
RgbImage resize_image(const RgbImage& image, int width, int height);

enum class TensorLayout { kNHWC, kNCHW };
// What the 0..255 byte range maps to before mean/std.
enum class PixelRange { kMinusOneToOne, kZeroToOne, kZeroTo255 };

// How a model wants its image: element = (range(byte) - mean[c]) / stddev[c],
// a float32 tensor [1,H,W,3] (NHWC) or [1,3,H,W] (NCHW), channels R, G, B.
struct ImageTensorFormat {
  TensorLayout layout = TensorLayout::kNCHW;
  PixelRange range = PixelRange::kZeroToOne;
  std::array<float, 3> mean = {0.f, 0.f, 0.f};
  std::array<float, 3> stddev = {1.f, 1.f, 1.f};
};

// "nhwc" / "nchw"; "-1..1" / "0..1" / "0..255" (for command lines and messages).
TensorLayout parse_tensor_layout(const std::string& text);
PixelRange parse_pixel_range(const std::string& text);
const char* tensor_layout_name(TensorLayout layout);
const char* pixel_range_name(PixelRange range);

Tensor image_to_tensor(const RgbImage& image, const ImageTensorFormat& format);

// The inverse: element * stddev + mean, back to bytes, clamped to 0..255 and
// rounded to nearest (NaN becomes 0). Accepts float32 [1,H,W,3] / [1,3,H,W] per
// format.layout, or the same without the batch dimension.
RgbImage tensor_to_image(const Tensor& tensor, const ImageTensorFormat& format);

}  // namespace kiln
