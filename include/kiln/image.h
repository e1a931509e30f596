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

// 8-bit single channel (a grey image, or an alpha plane), rows top to bottom:
// pixels.size() == width * height.
struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  GrayImage() = default;
  // Zero-filled; throws kiln::Error for sizes outside 1..kMaxImageDimension.
  GrayImage(int width, int height);
  bool empty() const { return pixels.empty(); }

  uint8_t& at(int x, int y) { return pixels[static_cast<size_t>(y) * width + x]; }
  uint8_t at(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x]; }
};

enum class ImageFormat { kPng, kJpeg, kBmp };

// ".png" -> kPng, ".jpg"/".jpeg" -> kJpeg, ".bmp" -> kBmp (any case); anything
// else is a kiln::Error naming the path.
ImageFormat image_format_from_path(const std::string& path);

// Decodes a PNG, JPEG or BMP file to RGB (grey is replicated, alpha dropped,
// 16-bit PNG reduced to 8 bits), upright: a JPEG's EXIF orientation (read with
// libexif) is applied, as photo viewers do. `source` names the data in error
// messages.
RgbImage decode_image(const uint8_t* bytes, size_t size, const std::string& source);
RgbImage read_image(const std::string& path);

// The same, with what else the file said.
struct DecodedImage {
  RgbImage rgb;
  // The file's alpha channel (PNG and BMP with alpha, grey+alpha PNG), or
  // empty when it has none.
  GrayImage alpha;
  // The JPEG's EXIF orientation tag, 1..8 (1: none; 6: the camera was turned,
  // the picture is rotated 90 degrees clockwise to show it), already applied
  // to `rgb`. 1 for PNG, BMP and JPEGs without the tag.
  int exif_orientation = 1;
};
DecodedImage decode_image_details(const uint8_t* bytes, size_t size, const std::string& source);
DecodedImage read_image_details(const std::string& path);

// An image file's size as read_image would return it (EXIF orientation
// applied), from its header alone, without decoding the pixels; the same
// errors as read_image for a file that is not a PNG, JPEG or BMP.
struct ImageInfo {
  int width = 0;
  int height = 0;
  int exif_orientation = 1;
};
ImageInfo read_image_info(const std::string& path);

// "rotated 90 degrees clockwise" and so on, for orientation 2..8; "" for 1.
const char* exif_orientation_name(int orientation);

// The pixels as the EXIF orientation says to show them (orientation 1..8;
// 5..8 swap width and height). kiln::Error for another value.
RgbImage apply_exif_orientation(const RgbImage& image, int orientation);

// jpeg_quality: 1..100 (ignored for PNG and BMP). PNG and BMP are lossless.
std::vector<uint8_t> encode_image(const RgbImage& image, ImageFormat format, int jpeg_quality = 95);
// Format from the path's extension.
void write_image(const RgbImage& image, const std::string& path, int jpeg_quality = 95);
// RGB with an alpha channel of the same size: PNG and BMP (32-bit) keep it;
// JPEG has no alpha, so it is a kiln::Error naming the format.
std::vector<uint8_t> encode_image_with_alpha(const RgbImage& image, const GrayImage& alpha, ImageFormat format);
void write_image_with_alpha(const RgbImage& image, const GrayImage& alpha, const std::string& path);
// An 8-bit grey image (PNG and JPEG store one channel; BMP stores grey as RGB).
std::vector<uint8_t> encode_gray_image(const GrayImage& image, ImageFormat format, int jpeg_quality = 95);
void write_gray_image(const GrayImage& image, const std::string& path, int jpeg_quality = 95);

// Bilinear resize (stb's triangle filter, clamped edges; when shrinking, the
// filter widens to average every source pixel, like PIL's BILINEAR).
RgbImage resize_image(const RgbImage& image, int width, int height);
GrayImage resize_gray_image(const GrayImage& image, int width, int height);

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

// What a tensor-to-image conversion saw, so a caller can tell a model whose
// output is in another range than the one assumed: how many values fell
// outside 0..255 (and were clamped) and the extremes of element * stddev +
// mean, the values `range` maps to bytes (NaN is counted as clipped).
struct ConversionStats {
  size_t values = 0;
  size_t clipped = 0;
  float min = 0.f;
  float max = 0.f;
};

// The inverse: element * stddev + mean, back to bytes, clamped to 0..255 and
// rounded to nearest (NaN becomes 0). Accepts float32 [1,H,W,3] / [1,3,H,W] per
// format.layout, or the same without the batch dimension.
RgbImage tensor_to_image(const Tensor& tensor, const ImageTensorFormat& format, ConversionStats* stats = nullptr);

// The same for a one-channel tensor (a probability map, a mask): float32
// [1,1,H,W] / [1,H,W] (nchw) or [1,H,W,1] / [H,W,1] (nhwc); mean[0] and
// stddev[0] apply.
GrayImage tensor_to_gray_image(const Tensor& tensor, const ImageTensorFormat& format,
                               ConversionStats* stats = nullptr);

}  // namespace kiln
