// RGB8 images to float32 model tensors and back: layout (NHWC/NCHW), value
// range and per-channel mean/stddev. Byte b becomes
//   (b / bytes_per_unit + range_offset - mean[c]) / stddev[c]
// and the way back inverts that, then clamps to 0..255 and rounds to nearest.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "kiln/error.h"
#include "kiln/image.h"

namespace kiln {

namespace {

// value = byte / bytes_per_unit + offset; byte = (value - offset) * bytes_per_unit.
// (Multiplying by 127.5 on the way back, not dividing by a rounded 1/127.5,
// keeps 0 in -1..1 at exactly 127.5.)
struct RangeMap {
  float bytes_per_unit;
  float offset;
};

RangeMap range_map(PixelRange range) {
  switch (range) {
    case PixelRange::kMinusOneToOne: return {127.5f, -1.f};
    case PixelRange::kZeroToOne: return {255.f, 0.f};
    case PixelRange::kZeroTo255: return {1.f, 0.f};
  }
  fail("unknown PixelRange ", static_cast<int>(range));
}

void check_format(const ImageTensorFormat& format) {
  for (int c = 0; c < 3; ++c) {
    if (!std::isfinite(format.mean[c])) fail("image tensor format: mean[", c, "] is not finite");
    if (!std::isfinite(format.stddev[c]) || format.stddev[c] == 0.f)
      fail("image tensor format: stddev[", c, "] is ", format.stddev[c], "; it must be finite and non-zero");
  }
}

// Element offsets of pixel (x, y) channel c in an H x W x 3 image tensor.
struct TensorStrides {
  int64_t x, y, channel;
};

TensorStrides strides_for(TensorLayout layout, int width, int height) {
  if (layout == TensorLayout::kNHWC) return {3, int64_t{width} * 3, 1};
  return {1, width, int64_t{width} * height};
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

TensorLayout parse_tensor_layout(const std::string& text) {
  std::string lower = lowercase(text);
  if (lower == "nhwc") return TensorLayout::kNHWC;
  if (lower == "nchw") return TensorLayout::kNCHW;
  fail("unknown image tensor layout '", text, "' (use nhwc or nchw)");
}

PixelRange parse_pixel_range(const std::string& text) {
  if (text == "-1..1") return PixelRange::kMinusOneToOne;
  if (text == "0..1") return PixelRange::kZeroToOne;
  if (text == "0..255") return PixelRange::kZeroTo255;
  fail("unknown pixel range '", text, "' (use -1..1, 0..1 or 0..255)");
}

const char* tensor_layout_name(TensorLayout layout) {
  return layout == TensorLayout::kNHWC ? "nhwc" : "nchw";
}

const char* pixel_range_name(PixelRange range) {
  switch (range) {
    case PixelRange::kMinusOneToOne: return "-1..1";
    case PixelRange::kZeroToOne: return "0..1";
    case PixelRange::kZeroTo255: return "0..255";
  }
  return "?";
}

Tensor image_to_tensor(const RgbImage& image, const ImageTensorFormat& format) {
  check_format(format);
  if (image.width < 1 || image.height < 1 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3)
    fail("image_to_tensor: image of ", image.width, "x", image.height, " holds ", image.pixels.size(),
         " bytes instead of width*height*3");
  Shape shape = format.layout == TensorLayout::kNHWC ? Shape{1, image.height, image.width, 3}
                                                     : Shape{1, 3, image.height, image.width};
  Tensor tensor(DataType::kFloat32, shape);
  float* out = tensor.data<float>();
  const RangeMap map = range_map(format.range);
  const TensorStrides stride = strides_for(format.layout, image.width, image.height);
  for (int c = 0; c < 3; ++c) {
    // (b / bytes_per_unit + offset - mean) / stddev == b * gain + bias
    const float gain = 1.f / (map.bytes_per_unit * format.stddev[c]);
    const float bias = (map.offset - format.mean[c]) / format.stddev[c];
    for (int y = 0; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) {
        out[y * stride.y + x * stride.x + c * stride.channel] = image.pixel(x, y)[c] * gain + bias;
      }
    }
  }
  return tensor;
}

RgbImage tensor_to_image(const Tensor& tensor, const ImageTensorFormat& format) {
  check_format(format);
  const Shape& shape = tensor.shape();
  const std::string described = std::string(dtype_name(tensor.dtype())) + " tensor of shape " + shape_to_string(shape);
  if (tensor.dtype() != DataType::kFloat32) fail("cannot make an image from a ", described, ": it must be float32");
  Shape image_shape = shape;  // without the batch dimension
  if (shape.size() == 4) {
    if (shape[0] != 1) fail("cannot make an image from a ", described, ": batch size must be 1");
    image_shape.erase(image_shape.begin());
  }
  const bool nhwc = format.layout == TensorLayout::kNHWC;
  if (image_shape.size() != 3 || image_shape[nhwc ? 2 : 0] != 3)
    fail("cannot make an image from a ", described, ": expected ",
         nhwc ? "[1,H,W,3] or [H,W,3] (nhwc)" : "[1,3,H,W] or [3,H,W] (nchw)");
  const int64_t height = image_shape[nhwc ? 0 : 1];
  const int64_t width = image_shape[nhwc ? 1 : 2];
  if (height < 1 || width < 1 || height > kMaxImageDimension || width > kMaxImageDimension)
    fail("cannot make an image from a ", described, ": height and width must be 1..", kMaxImageDimension);

  RgbImage image(static_cast<int>(width), static_cast<int>(height));
  const float* in = tensor.data<float>();
  const RangeMap map = range_map(format.range);
  const TensorStrides stride = strides_for(format.layout, image.width, image.height);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) {
        float value = in[y * stride.y + x * stride.x + c * stride.channel];
        float byte = ((value * format.stddev[c] + format.mean[c]) - map.offset) * map.bytes_per_unit;
        if (std::isnan(byte)) byte = 0.f;
        byte = std::clamp(byte, 0.f, 255.f);
        image.pixel(x, y)[c] = static_cast<uint8_t>(byte + 0.5f);
      }
    }
  }
  return image;
}

}  // namespace kiln
