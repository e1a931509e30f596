// Image files: PNG/JPEG/BMP decode and encode through Debian's libstb.
//
// stb_image is not hardened against hostile input, so the data is screened
// before a decoder sees it: only PNG, JPEG and BMP signatures get through, and
// the header's dimensions must be within kMaxImageDimension.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include "kiln/error.h"
#include "kiln/image.h"
#include "runtime/image_exif.h"

namespace kiln {

namespace {

constexpr int kRgbChannels = 3;

const char* format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kBmp: return "BMP";
  }
  return "?";
}

bool starts_with(const uint8_t* bytes, size_t size, const char* signature, size_t signature_size) {
  return size >= signature_size && std::memcmp(bytes, signature, signature_size) == 0;
}

// The format the data's first bytes announce, or false for anything else.
bool sniff_format(const uint8_t* bytes, size_t size, ImageFormat* format) {
  if (starts_with(bytes, size, "\x89PNG\r\n\x1a\n", 8)) {
    *format = ImageFormat::kPng;
  } else if (starts_with(bytes, size, "\xff\xd8\xff", 3)) {
    *format = ImageFormat::kJpeg;
  } else if (starts_with(bytes, size, "BM", 2)) {
    *format = ImageFormat::kBmp;
  } else {
    return false;
  }
  return true;
}

const char* stb_reason() {
  const char* reason = stbi_failure_reason();
  return reason ? reason : "unknown reason";
}

void check_dimensions(int width, int height, const std::string& what) {
  if (width < 1 || height < 1 || width > kMaxImageDimension || height > kMaxImageDimension)
    fail(what, " has size ", width, "x", height, "; kiln handles 1..", kMaxImageDimension, " pixels a side");
}

void check_image(const RgbImage& image, const char* what) {
  check_dimensions(image.width, image.height, what);
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * kRgbChannels)
    fail(what, ": RgbImage of ", image.width, "x", image.height, " holds ", image.pixels.size(),
         " bytes instead of width*height*3");
}

std::string lowercase_extension(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

void append_to_vector(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* bytes = static_cast<const uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

RgbImage::RgbImage(int width_, int height_) : width(width_), height(height_) {
  check_dimensions(width, height, "image");
  pixels.assign(static_cast<size_t>(width) * height * kRgbChannels, 0);
}

GrayImage::GrayImage(int width_, int height_) : width(width_), height(height_) {
  check_dimensions(width, height, "image");
  pixels.assign(static_cast<size_t>(width) * height, 0);
}

ImageFormat image_format_from_path(const std::string& path) {
  std::string extension = lowercase_extension(path);
  if (extension == ".png") return ImageFormat::kPng;
  if (extension == ".jpg" || extension == ".jpeg") return ImageFormat::kJpeg;
  if (extension == ".bmp") return ImageFormat::kBmp;
  fail("image file '", path, "': unknown extension '", extension, "' (kiln writes .png, .jpg, .jpeg and .bmp)");
}

DecodedImage decode_image_details(const uint8_t* bytes, size_t size, const std::string& source) {
  if (size == 0) fail("image ", source, " is empty");
  if (size > static_cast<size_t>(INT_MAX)) fail("image ", source, " is larger than 2 GiB");
  ImageFormat format;
  if (!sniff_format(bytes, size, &format))
    fail("image ", source, " is not a PNG, JPEG or BMP file (unrecognized signature)");
  const int length = static_cast<int>(size);

  int width = 0, height = 0, channels_in_file = 0;
  if (!stbi_info_from_memory(bytes, length, &width, &height, &channels_in_file))
    fail("image ", source, ": cannot read the ", format_name(format), " header (", stb_reason(), ")");
  check_dimensions(width, height, "image " + source);

  // Grey+alpha (2) and RGBA (4) files are decoded with their alpha.
  const bool has_alpha = channels_in_file == 2 || channels_in_file == 4;
  const int channels = has_alpha ? 4 : kRgbChannels;
  int decoded_width = 0, decoded_height = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(bytes, length, &decoded_width, &decoded_height, &channels_in_file, channels),
      stbi_image_free);
  if (!decoded) fail("image ", source, ": cannot decode ", format_name(format), " data (", stb_reason(), ")");
  if (decoded_width != width || decoded_height != height)
    fail("image ", source, ": decoder returned ", decoded_width, "x", decoded_height, " for a header of ", width,
         "x", height);

  DecodedImage image;
  image.rgb = RgbImage(width, height);
  if (has_alpha) {
    image.alpha = GrayImage(width, height);
    const stbi_uc* rgba = decoded.get();
    for (size_t i = 0; i < image.alpha.pixels.size(); ++i) {
      std::memcpy(&image.rgb.pixels[i * 3], rgba + i * 4, 3);
      image.alpha.pixels[i] = rgba[i * 4 + 3];
    }
  } else {
    std::memcpy(image.rgb.pixels.data(), decoded.get(), image.rgb.pixels.size());
  }
  if (format == ImageFormat::kJpeg) {
    image.exif_orientation = read_exif_orientation(bytes, size);
    image.rgb = apply_exif_orientation(image.rgb, image.exif_orientation);
  }
  return image;
}

RgbImage decode_image(const uint8_t* bytes, size_t size, const std::string& source) {
  return decode_image_details(bytes, size, source).rgb;
}

namespace {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::error_code status;
  if (std::filesystem::is_directory(path, status)) fail("image file '", path, "' is a directory");
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) fail("cannot open image file '", path, "': ", std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    bytes.insert(bytes.end(), buffer, buffer + got);
    if (bytes.size() > static_cast<size_t>(INT_MAX)) fail("image file '", path, "' is larger than 2 GiB");
  }
  if (std::ferror(file.get())) fail("cannot read image file '", path, "': ", std::strerror(errno));
  return bytes;
}

}  // namespace

DecodedImage read_image_details(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  return decode_image_details(bytes.data(), bytes.size(), "file '" + path + "'");
}

ImageInfo read_image_info(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  const std::string source = "file '" + path + "'";
  if (bytes.empty()) fail("image ", source, " is empty");
  ImageFormat format;
  if (!sniff_format(bytes.data(), bytes.size(), &format))
    fail("image ", source, " is not a PNG, JPEG or BMP file (unrecognized signature)");
  ImageInfo info;
  int channels = 0;
  if (!stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &info.width, &info.height, &channels))
    fail("image ", source, ": cannot read the ", format_name(format), " header (", stb_reason(), ")");
  check_dimensions(info.width, info.height, "image " + source);
  if (format == ImageFormat::kJpeg) {
    info.exif_orientation = read_exif_orientation(bytes.data(), bytes.size());
    if (info.exif_orientation >= 5) std::swap(info.width, info.height);
  }
  return info;
}

RgbImage read_image(const std::string& path) { return read_image_details(path).rgb; }

namespace {

// `channels` interleaved bytes per pixel (1 grey, 3 RGB).
std::vector<uint8_t> encode_pixels(const uint8_t* pixels, int width, int height, int channels, ImageFormat format,
                                   int jpeg_quality) {
  if (format == ImageFormat::kJpeg && (jpeg_quality < 1 || jpeg_quality > 100))
    fail("JPEG quality ", jpeg_quality, " is outside 1..100");
  std::vector<uint8_t> out;
  int ok = 0;
  switch (format) {
    case ImageFormat::kPng:
      ok = stbi_write_png_to_func(append_to_vector, &out, width, height, channels, pixels, width * channels);
      break;
    case ImageFormat::kJpeg:
      ok = stbi_write_jpg_to_func(append_to_vector, &out, width, height, channels, pixels, jpeg_quality);
      break;
    case ImageFormat::kBmp:
      ok = stbi_write_bmp_to_func(append_to_vector, &out, width, height, channels, pixels);
      break;
  }
  if (!ok || out.empty())
    fail("cannot encode a ", width, "x", height, channels == 1 ? " grey" : channels == 4 ? " RGBA" : "", " image as ",
         format_name(format));
  return out;
}

void write_bytes(const std::vector<uint8_t>& bytes, const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file) fail("cannot create image file '", path, "': ", std::strerror(errno));
  if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size())
    fail("cannot write image file '", path, "': ", std::strerror(errno));
  if (std::fclose(file.release()) != 0) fail("cannot write image file '", path, "': ", std::strerror(errno));
}

}  // namespace

std::vector<uint8_t> encode_image(const RgbImage& image, ImageFormat format, int jpeg_quality) {
  check_image(image, "encode_image");
  return encode_pixels(image.pixels.data(), image.width, image.height, kRgbChannels, format, jpeg_quality);
}

std::vector<uint8_t> encode_gray_image(const GrayImage& image, ImageFormat format, int jpeg_quality) {
  check_dimensions(image.width, image.height, "encode_gray_image");
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height)
    fail("encode_gray_image: GrayImage of ", image.width, "x", image.height, " holds ", image.pixels.size(),
         " bytes instead of width*height");
  return encode_pixels(image.pixels.data(), image.width, image.height, 1, format, jpeg_quality);
}

std::vector<uint8_t> encode_image_with_alpha(const RgbImage& image, const GrayImage& alpha, ImageFormat format) {
  check_image(image, "encode_image_with_alpha");
  if (alpha.width != image.width || alpha.height != image.height ||
      alpha.pixels.size() != static_cast<size_t>(image.width) * image.height)
    fail("encode_image_with_alpha: an alpha channel of ", alpha.width, "x", alpha.height, " for an image of ",
         image.width, "x", image.height);
  if (format == ImageFormat::kJpeg) fail("JPEG has no alpha channel; write a .png or .bmp to keep it");
  std::vector<uint8_t> rgba(alpha.pixels.size() * 4);
  for (size_t i = 0; i < alpha.pixels.size(); ++i) {
    std::memcpy(&rgba[i * 4], &image.pixels[i * 3], 3);
    rgba[i * 4 + 3] = alpha.pixels[i];
  }
  return encode_pixels(rgba.data(), image.width, image.height, 4, format, 95);
}

void write_image_with_alpha(const RgbImage& image, const GrayImage& alpha, const std::string& path) {
  write_bytes(encode_image_with_alpha(image, alpha, image_format_from_path(path)), path);
}

void write_image(const RgbImage& image, const std::string& path, int jpeg_quality) {
  write_bytes(encode_image(image, image_format_from_path(path), jpeg_quality), path);
}

void write_gray_image(const GrayImage& image, const std::string& path, int jpeg_quality) {
  write_bytes(encode_gray_image(image, image_format_from_path(path), jpeg_quality), path);
}

}  // namespace kiln
