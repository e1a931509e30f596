// Tests for include/kiln/image.h: files against an independent codec, resize,
// tensor layouts and ranges, and kiln::Error (never a crash) for missing,
// corrupt, truncated, oversized and non-image files. Every image is generated
// here with known pixels; files kiln writes are decoded by Pillow and files
// kiln reads are written by Pillow (../images/image_oracle.h), so a fault in
// kiln's encoder cannot be hidden by the matching fault in its decoder.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../images/image_oracle.h"
#include "kiln/error.h"
#include "kiln/image.h"

namespace fs = std::filesystem;

namespace kiln {
namespace {

using image_oracle::pillow_encode;
using image_oracle::pillow_read;
using image_oracle::pillow_write;

// Smooth gradients plus a few hard edges: compresses like a photo in JPEG.
RgbImage make_photo_like_image(int width, int height) {
  RgbImage image(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.pixel(x, y);
      p[0] = static_cast<uint8_t>(255 * x / (width - 1));
      p[1] = static_cast<uint8_t>(255 * y / (height - 1));
      p[2] = static_cast<uint8_t>(x < width / 2 ? 40 : 200);
    }
  }
  return image;
}

// Every byte value, in a pattern that differs per channel: exact codecs must keep it.
RgbImage make_noise_image(int width, int height, unsigned seed) {
  RgbImage image(width, height);
  std::mt19937 rng(seed);
  for (auto& byte : image.pixels) byte = static_cast<uint8_t>(rng());
  for (int i = 0; i < 256 && i < width * height; ++i) image.pixels[i * 3] = static_cast<uint8_t>(i);
  return image;
}

struct Difference {
  double mean_abs = 0;
  int max_abs = 0;
};

Difference compare(const RgbImage& a, const RgbImage& b) {
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  Difference d;
  if (a.pixels.size() != b.pixels.size() || a.pixels.empty()) {
    d.max_abs = 256;
    return d;
  }
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    int diff = std::abs(int{a.pixels[i]} - int{b.pixels[i]});
    d.mean_abs += diff;
    d.max_abs = std::max(d.max_abs, diff);
  }
  d.mean_abs /= static_cast<double>(a.pixels.size());
  return d;
}

// Runs fn and checks it throws kiln::Error whose message holds every part.
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected a kiln::Error mentioning '" << parts.front() << "'";
  } catch (const Error& error) {
    std::string message = error.what();
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message << "\n  lacks: " << part;
  }
}

class ImageFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("kiln_image_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write_bytes(const std::string& name, const std::vector<uint8_t>& bytes) const {
    std::ofstream out(path(name), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path(name);
  }

  fs::path dir_;
};

// PNG and BMP are lossless: kiln's file must decode in Pillow to the very
// pixels, and Pillow's file of them must decode in kiln to the same.
TEST_F(ImageFiles, PngIsExactBothWaysWithPillow) {
  RgbImage image = make_noise_image(37, 23, 1);
  write_image(image, path("kiln.png"));
  RgbImage in_pillow = pillow_read(path("kiln.png"));
  EXPECT_EQ(in_pillow.width, 37);
  EXPECT_EQ(in_pillow.height, 23);
  EXPECT_EQ(compare(image, in_pillow).max_abs, 0) << "kiln's PNG as Pillow decodes it";
  pillow_write(image, path("pillow.png"));
  RgbImage in_kiln = read_image(path("pillow.png"));
  EXPECT_EQ(in_kiln.width, 37);
  EXPECT_EQ(in_kiln.height, 23);
  EXPECT_EQ(compare(image, in_kiln).max_abs, 0) << "Pillow's PNG as kiln decodes it";
}

TEST_F(ImageFiles, BmpIsExactBothWaysWithPillow) {
  RgbImage image = make_noise_image(13, 7, 2);  // 13*3 bytes per row: exercises BMP row padding
  write_image(image, path("kiln.BMP"));
  EXPECT_EQ(compare(image, pillow_read(path("kiln.BMP"))).max_abs, 0) << "kiln's BMP as Pillow decodes it";
  pillow_write(image, path("pillow.bmp"));
  EXPECT_EQ(compare(image, read_image(path("pillow.bmp"))).max_abs, 0) << "Pillow's BMP as kiln decodes it";
}

TEST_F(ImageFiles, JpegAgreesWithPillow) {
  RgbImage image = make_photo_like_image(64, 48);
  write_image(image, path("photo.jpg"), 95);
  Difference d = compare(image, pillow_read(path("photo.jpg")));
  // kiln's encoder, judged by Pillow's decoder: quality 95 without chroma
  // subsampling gives small errors, larger only at the hard edge.
  EXPECT_LT(d.mean_abs, 2.0);
  EXPECT_LE(d.max_abs, 40);

  write_image(image, path("photo_low.jpeg"), 10);
  Difference low = compare(image, pillow_read(path("photo_low.jpeg")));
  EXPECT_GT(low.mean_abs, d.mean_abs) << "quality must matter";

  // kiln's decoder, judged against Pillow's decode of the same file (Pillow
  // writes it at quality 95, 4:4:4). The two decoders' integer IDCTs may each be
  // 1 off the exact transform (the IEEE 1180 peak error), and their fixed-point
  // YCbCr-to-RGB conversions round differently: at most 2 apart per byte.
  pillow_write(image, path("pillow.jpg"));
  Difference decoders = compare(read_image(path("pillow.jpg")), pillow_read(path("pillow.jpg")));
  EXPECT_LE(decoders.max_abs, 2);
}

TEST_F(ImageFiles, EncodeDecodeInMemory) {
  RgbImage image = make_noise_image(5, 3, 3);
  for (ImageFormat format : {ImageFormat::kPng, ImageFormat::kBmp}) {
    std::string extension = format == ImageFormat::kPng ? "png" : "bmp";
    std::vector<uint8_t> bytes = encode_image(image, format);
    std::string file = write_bytes("kiln." + extension, bytes);
    EXPECT_EQ(compare(image, pillow_read(file)).max_abs, 0) << extension << " encoded by kiln, decoded by Pillow";
    std::vector<uint8_t> theirs = pillow_encode(image, extension);
    EXPECT_EQ(compare(image, decode_image(theirs.data(), theirs.size(), "memory")).max_abs, 0)
        << extension << " encoded by Pillow, decoded by kiln";
  }
  RgbImage photo = make_photo_like_image(16, 16);
  std::vector<uint8_t> jpeg = encode_image(photo, ImageFormat::kJpeg);
  ASSERT_GE(jpeg.size(), 3u);
  EXPECT_EQ(jpeg[0], 0xFF);
  EXPECT_EQ(jpeg[1], 0xD8);
  // Same bound as the file test above: kiln's quality-95 encoder judged by Pillow.
  Difference d = compare(photo, pillow_read(write_bytes("kiln.jpg", jpeg)));
  EXPECT_LT(d.mean_abs, 2.0);
  EXPECT_LE(d.max_abs, 40);
}

TEST(ImageCodec, DropsAlphaOfA32BitBmp) {
  // A hand-made 1x1 32-bit BMP whose one pixel is stored B,G,R,A = 10,20,30,40.
  std::vector<uint8_t> bmp = {'B', 'M', 58, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0,  // file header
                              40, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 32, 0,  // 1x1, 1 plane, 32 bpp
                              0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                              10, 20, 30, 40};
  RgbImage image = decode_image(bmp.data(), bmp.size(), "bgra bmp");
  ASSERT_EQ(image.width, 1);
  ASSERT_EQ(image.height, 1);
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{30, 20, 10}));
}

TEST(ImageCodec, FormatFromExtension) {
  EXPECT_EQ(image_format_from_path("a/b.png"), ImageFormat::kPng);
  EXPECT_EQ(image_format_from_path("x.PNG"), ImageFormat::kPng);
  EXPECT_EQ(image_format_from_path("x.jpg"), ImageFormat::kJpeg);
  EXPECT_EQ(image_format_from_path("x.JPEG"), ImageFormat::kJpeg);
  EXPECT_EQ(image_format_from_path("x.bmp"), ImageFormat::kBmp);
  expect_error([] { image_format_from_path("out.gif"); }, {"out.gif", ".gif"});
  expect_error([] { image_format_from_path("out"); }, {"'out'"});
}

TEST(ImageCodec, RejectsBadEncodeArguments) {
  RgbImage image = make_photo_like_image(4, 4);
  expect_error([&] { encode_image(image, ImageFormat::kJpeg, 0); }, {"quality"});
  expect_error([&] { encode_image(image, ImageFormat::kJpeg, 101); }, {"quality"});
  RgbImage broken = image;
  broken.pixels.pop_back();
  expect_error([&] { encode_image(broken, ImageFormat::kPng); }, {"4x4"});
  expect_error([] { RgbImage(0, 5); }, {"0x5"});
  expect_error([] { RgbImage(kMaxImageDimension + 1, 1); }, {"16385x1"});
}

TEST_F(ImageFiles, MissingFileNamesThePath) {
  expect_error([&] { read_image(path("nowhere.png")); }, {path("nowhere.png"), "No such file"});
}

TEST_F(ImageFiles, DirectoryIsAnError) {
  expect_error([&] { read_image(dir_.string()); }, {dir_.string(), "directory"});
}

TEST_F(ImageFiles, EmptyFileIsAnError) {
  std::string file = write_bytes("empty.png", {});
  expect_error([&] { read_image(file); }, {file, "empty"});
}

TEST_F(ImageFiles, NonImageFileIsAnError) {
  std::string text = "this is not an image\n";
  std::string file = write_bytes("notes.png", std::vector<uint8_t>(text.begin(), text.end()));
  expect_error([&] { read_image(file); }, {file, "not a PNG, JPEG or BMP"});
}

TEST_F(ImageFiles, OtherImageFormatsAreRejectedBeforeDecoding) {
  std::string gif = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
  std::string file = write_bytes("tiny.gif", std::vector<uint8_t>(gif.begin(), gif.end()));
  expect_error([&] { read_image(file); }, {file, "not a PNG, JPEG or BMP"});
}

TEST_F(ImageFiles, CorruptPngIsAnError) {
  std::vector<uint8_t> bytes = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  for (int i = 0; i < 64; ++i) bytes.push_back(static_cast<uint8_t>(i * 37 + 11));
  std::string file = write_bytes("corrupt.png", bytes);
  expect_error([&] { read_image(file); }, {file, "PNG"});
}

TEST_F(ImageFiles, TruncatedPngIsAnError) {
  std::vector<uint8_t> bytes = pillow_encode(make_noise_image(40, 30, 4), "png");
  for (size_t keep : {bytes.size() / 2, size_t{33}, size_t{20}, size_t{8}, bytes.size() - 13}) {
    std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep));
    std::string file = write_bytes("truncated_" + std::to_string(keep) + ".png", truncated);
    expect_error([&] { read_image(file); }, {file});
  }
}

TEST_F(ImageFiles, TruncatedJpegNeverCrashes) {
  // stb fills a JPEG cut off mid-scan with grey, so either outcome is acceptable;
  // anything but a full-size image or a kiln::Error is not.
  std::vector<uint8_t> bytes = encode_image(make_photo_like_image(40, 30), ImageFormat::kJpeg);
  for (size_t keep : {bytes.size() / 2, size_t{100}, size_t{3}}) {
    std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep));
    try {
      RgbImage image = decode_image(truncated.data(), truncated.size(), "cut jpeg");
      EXPECT_EQ(image.width, 40);
      EXPECT_EQ(image.height, 30);
    } catch (const Error&) {
    }
  }
}

TEST(ImageCodec, OversizedHeaderIsRejectedBeforeDecoding) {
  std::vector<uint8_t> png = pillow_encode(make_noise_image(4, 4, 5), "png");
  // IHDR width is the big-endian word at byte 16 (stb does not check chunk CRCs).
  png[16] = 0;
  png[17] = 0;
  png[18] = 0x4E;  // 20000
  png[19] = 0x20;
  expect_error([&] { decode_image(png.data(), png.size(), "huge png"); }, {"huge png", "20000x4", "16384"});
}

TEST(ImageCodec, RandomDamageGivesImageOrError) {
  // Flip bytes in valid files of every format: the decoder must return an image
  // or throw kiln::Error, never crash (run under ASan/UBSan in CI).
  const std::vector<std::vector<uint8_t>> originals = {
      encode_image(make_noise_image(24, 16, 6), ImageFormat::kPng),
      encode_image(make_photo_like_image(24, 16), ImageFormat::kJpeg),
      encode_image(make_noise_image(24, 16, 7), ImageFormat::kBmp),
  };
  std::mt19937 rng(1234);
  int decoded = 0, rejected = 0;
  for (const auto& original : originals) {
    for (int trial = 0; trial < 150; ++trial) {
      std::vector<uint8_t> bytes = original;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) {
        size_t at = 2 + rng() % (bytes.size() - 2);  // keep the signature
        bytes[at] = static_cast<uint8_t>(rng());
      }
      try {
        RgbImage image = decode_image(bytes.data(), bytes.size(), "damaged");
        EXPECT_EQ(image.pixels.size(), static_cast<size_t>(image.width) * image.height * 3);
        ++decoded;
      } catch (const Error&) {
        ++rejected;
      }
    }
  }
  EXPECT_EQ(decoded + rejected, 450);
}

TEST_F(ImageFiles, WriteToMissingDirectoryNamesThePath) {
  std::string target = path("no/such/dir/out.png");
  expect_error([&] { write_image(make_noise_image(2, 2, 8), target); }, {target});
}

TEST(ImageResize, SameSizeIsACopy) {
  RgbImage image = make_noise_image(9, 5, 9);
  EXPECT_EQ(compare(image, resize_image(image, 9, 5)).max_abs, 0);
}

TEST(ImageResize, ConstantStaysConstant) {
  RgbImage image(7, 5);
  for (int i = 0; i < 35; ++i) {
    image.pixels[i * 3] = 10;
    image.pixels[i * 3 + 1] = 128;
    image.pixels[i * 3 + 2] = 250;
  }
  for (auto [w, h] : {std::pair{14, 10}, std::pair{3, 2}, std::pair{1, 1}, std::pair{20, 3}}) {
    RgbImage resized = resize_image(image, w, h);
    ASSERT_EQ(resized.width, w);
    ASSERT_EQ(resized.height, h);
    for (int i = 0; i < w * h; ++i) {
      EXPECT_EQ(resized.pixels[i * 3], 10);
      EXPECT_EQ(resized.pixels[i * 3 + 1], 128);
      EXPECT_EQ(resized.pixels[i * 3 + 2], 250);
    }
  }
}

TEST(ImageResize, UpscaleInterpolatesBetweenNeighbours) {
  RgbImage image(2, 1);
  image.pixel(1, 0)[0] = 200;  // red: 0 then 200
  RgbImage resized = resize_image(image, 8, 1);
  int previous = -1;
  for (int x = 0; x < 8; ++x) {
    int red = resized.pixel(x, 0)[0];
    EXPECT_GE(red, previous) << "x=" << x;  // a bilinear ramp is monotonic
    previous = red;
  }
  EXPECT_EQ(resized.pixel(0, 0)[0], 0);    // clamped edge
  EXPECT_EQ(resized.pixel(7, 0)[0], 200);
  EXPECT_GT(resized.pixel(3, 0)[0], 40);   // interior pixels are blended, not nearest
  EXPECT_LT(resized.pixel(3, 0)[0], 160);
}

TEST(ImageResize, DownscaleAveragesACheckerboard) {
  RgbImage image(16, 16);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) image.pixel(x, y)[1] = ((x + y) % 2) ? 255 : 0;
  RgbImage resized = resize_image(image, 4, 4);
  // Clamped edges weigh the border pixels a little more (~132 in the corners);
  // point sampling would give 0 or 255.
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(resized.pixels[i * 3 + 1], 127.5, 8.0) << i;
}

// Against the triangle filter computed from its definition (image_oracle.h) on
// noise, where any shifted tap, wrong weight or edge rule shows: enlarging,
// shrinking by whole and fractional factors, both at once, and down to 1 pixel.
// stb accumulates in float32, so a sum that is exactly k + 0.5 may round
// either way: bytes may differ by 1, never more.
TEST(ImageResize, MatchesTheTriangleFilterDefinition) {
  RgbImage image = make_noise_image(23, 17, 11);
  for (auto [w, h] : {std::pair{46, 34}, std::pair{61, 29}, std::pair{11, 8}, std::pair{7, 5}, std::pair{40, 6},
                      std::pair{1, 1}, std::pair{23, 3}}) {
    RgbImage resized = resize_image(image, w, h);
    RgbImage expected = image_oracle::reference_resize(image, w, h);
    Difference d = compare(resized, expected);
    EXPECT_LE(d.max_abs, 1) << "23x17 -> " << w << "x" << h << ", mean difference " << d.mean_abs;
  }
}

TEST(ImageResize, RejectsBadSizes) {
  RgbImage image = make_noise_image(4, 4, 10);
  expect_error([&] { resize_image(image, 0, 4); }, {"0x4"});
  expect_error([&] { resize_image(image, 4, kMaxImageDimension + 1); }, {"4x16385"});
}

// A 3x2 image whose every byte is distinct and known: pixel (x, y) channel c = 10*(y*3+x) + c*3.
RgbImage make_indexed_image() {
  RgbImage image(3, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) image.pixel(x, y)[c] = static_cast<uint8_t>(10 * (y * 3 + x) + c * 3 + 100);
  return image;
}

double expected_element(int byte, PixelRange range, float mean, float stddev) {
  double value = range == PixelRange::kMinusOneToOne ? byte / 127.5 - 1.0
                 : range == PixelRange::kZeroToOne   ? byte / 255.0
                                                     : double(byte);
  return (value - mean) / stddev;
}

TEST(ImageTensor, LayoutsAndRanges) {
  RgbImage image = make_indexed_image();
  for (PixelRange range : {PixelRange::kMinusOneToOne, PixelRange::kZeroToOne, PixelRange::kZeroTo255}) {
    for (TensorLayout layout : {TensorLayout::kNHWC, TensorLayout::kNCHW}) {
      ImageTensorFormat format;
      format.layout = layout;
      format.range = range;
      Tensor tensor = image_to_tensor(image, format);
      ASSERT_EQ(tensor.dtype(), DataType::kFloat32);
      Shape want = layout == TensorLayout::kNHWC ? Shape{1, 2, 3, 3} : Shape{1, 3, 2, 3};
      ASSERT_EQ(tensor.shape(), want);
      const float* data = tensor.data<float>();
      for (int y = 0; y < 2; ++y) {
        for (int x = 0; x < 3; ++x) {
          for (int c = 0; c < 3; ++c) {
            int index = layout == TensorLayout::kNHWC ? (y * 3 + x) * 3 + c : c * 6 + y * 3 + x;
            EXPECT_NEAR(data[index], expected_element(image.pixel(x, y)[c], range, 0.f, 1.f), 1e-5)
                << pixel_range_name(range) << " " << tensor_layout_name(layout) << " x=" << x << " y=" << y
                << " c=" << c;
          }
        }
      }
    }
  }
}

TEST(ImageTensor, RangeEndpoints) {
  RgbImage image(2, 1);
  image.pixel(1, 0)[0] = image.pixel(1, 0)[1] = image.pixel(1, 0)[2] = 255;
  ImageTensorFormat format;
  format.layout = TensorLayout::kNHWC;
  format.range = PixelRange::kMinusOneToOne;
  Tensor t = image_to_tensor(image, format);
  EXPECT_FLOAT_EQ(t.data<float>()[0], -1.f);
  EXPECT_FLOAT_EQ(t.data<float>()[3], 1.f);
  format.range = PixelRange::kZeroToOne;
  t = image_to_tensor(image, format);
  EXPECT_FLOAT_EQ(t.data<float>()[0], 0.f);
  EXPECT_FLOAT_EQ(t.data<float>()[3], 1.f);
}

TEST(ImageTensor, MeanAndStddevPerChannel) {
  RgbImage image = make_indexed_image();
  ImageTensorFormat format;  // ImageNet-style: NCHW, 0..1, then per-channel mean/std
  format.mean = {0.485f, 0.456f, 0.406f};
  format.stddev = {0.229f, 0.224f, 0.225f};
  Tensor tensor = image_to_tensor(image, format);
  const float* data = tensor.data<float>();
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 6; ++i) {
      int byte = image.pixels[i * 3 + c];
      EXPECT_NEAR(data[c * 6 + i], expected_element(byte, format.range, format.mean[c], format.stddev[c]), 1e-5)
          << "c=" << c << " i=" << i;
    }
  }
}

TEST(ImageTensor, EveryByteRoundTrips) {
  RgbImage image(256, 1);
  for (int x = 0; x < 256; ++x) {
    image.pixel(x, 0)[0] = static_cast<uint8_t>(x);
    image.pixel(x, 0)[1] = static_cast<uint8_t>(255 - x);
    image.pixel(x, 0)[2] = static_cast<uint8_t>((x * 7) % 256);
  }
  for (PixelRange range : {PixelRange::kMinusOneToOne, PixelRange::kZeroToOne, PixelRange::kZeroTo255}) {
    for (TensorLayout layout : {TensorLayout::kNHWC, TensorLayout::kNCHW}) {
      for (bool normalized : {false, true}) {
        ImageTensorFormat format;
        format.layout = layout;
        format.range = range;
        if (normalized) {
          format.mean = {0.5f, -3.f, 100.f};
          format.stddev = {0.25f, 7.f, -2.f};
        }
        RgbImage back = tensor_to_image(image_to_tensor(image, format), format);
        EXPECT_EQ(compare(image, back).max_abs, 0)
            << pixel_range_name(range) << " " << tensor_layout_name(layout) << " normalized=" << normalized;
      }
    }
  }
}

TEST(ImageTensor, ToImageClampsAndRounds) {
  ImageTensorFormat format;
  format.layout = TensorLayout::kNHWC;
  format.range = PixelRange::kZeroTo255;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  Tensor tensor = Tensor::from_floats({1, 1, 3, 3}, {-20.f, 300.f, 127.4f, 127.6f, 0.49f, 254.5f, nan, inf, -inf});
  RgbImage image = tensor_to_image(tensor, format);
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{0, 255, 127, 128, 0, 255, 0, 255, 0}));

  format.range = PixelRange::kMinusOneToOne;
  tensor = Tensor::from_floats({1, 1, 1, 3}, {-1.5f, 0.f, 1.5f});
  EXPECT_EQ(tensor_to_image(tensor, format).pixels, (std::vector<uint8_t>{0, 128, 255}));  // 127.5 rounds up
}

TEST(ImageTensor, ToImageAcceptsUnbatchedTensors) {
  ImageTensorFormat format;  // NCHW
  format.range = PixelRange::kZeroTo255;
  Tensor chw = Tensor::from_floats({3, 1, 2}, {1, 2, 3, 4, 5, 6});
  RgbImage image = tensor_to_image(chw, format);
  ASSERT_EQ(image.width, 2);
  ASSERT_EQ(image.height, 1);
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{1, 3, 5, 2, 4, 6}));
}

TEST(ImageTensor, ToImageRejectsWrongTensors) {
  ImageTensorFormat nchw;
  ImageTensorFormat nhwc;
  nhwc.layout = TensorLayout::kNHWC;
  expect_error([&] { tensor_to_image(Tensor::from_int64s({1, 3, 2, 2}, std::vector<int64_t>(12)), nchw); },
               {"int64", "1x3x2x2", "float32"});
  expect_error([&] { tensor_to_image(Tensor::zeros(DataType::kFloat32, {2, 3, 2, 2}), nchw); },
               {"2x3x2x2", "batch"});
  expect_error([&] { tensor_to_image(Tensor::zeros(DataType::kFloat32, {1, 4, 2, 2}), nchw); }, {"1x4x2x2"});
  expect_error([&] { tensor_to_image(Tensor::zeros(DataType::kFloat32, {1, 3, 2, 2}), nhwc); },
               {"1x3x2x2", "nhwc"});
  expect_error([&] { tensor_to_image(Tensor::zeros(DataType::kFloat32, {6, 2}), nchw); }, {"6x2"});
  expect_error([&] { tensor_to_image(Tensor::zeros(DataType::kFloat32, {1, 3, 0, 2}), nchw); }, {"1x3x0x2"});
}

TEST(ImageTensor, RejectsZeroStddev) {
  ImageTensorFormat format;
  format.stddev = {1.f, 0.f, 1.f};
  expect_error([&] { image_to_tensor(make_indexed_image(), format); }, {"stddev[1]"});
  expect_error([&] { tensor_to_image(Tensor::zeros(DataType::kFloat32, {1, 3, 1, 1}), format); }, {"stddev[1]"});
}

TEST(ImageTensor, ParsesNames) {
  EXPECT_EQ(parse_tensor_layout("NHWC"), TensorLayout::kNHWC);
  EXPECT_EQ(parse_tensor_layout("nchw"), TensorLayout::kNCHW);
  EXPECT_EQ(parse_pixel_range("-1..1"), PixelRange::kMinusOneToOne);
  EXPECT_EQ(parse_pixel_range("0..1"), PixelRange::kZeroToOne);
  EXPECT_EQ(parse_pixel_range("0..255"), PixelRange::kZeroTo255);
  expect_error([] { parse_tensor_layout("chw"); }, {"'chw'"});
  expect_error([] { parse_pixel_range("0-255"); }, {"'0-255'"});
}

}  // namespace
}  // namespace kiln
