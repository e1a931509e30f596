// RGB8 images to float32 model tensors and back: layout (NHWC/NCHW), value
// range and per-channel mean/stddev. Byte b becomes
//   (b / bytes_per_unit + range_offset - mean[c]) / stddev[c]
// and the way back inverts that, then clamps to 0..255 and rounds to nearest.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <utility>

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

namespace {

// The image part of an output tensor's shape: height and width, after checking
// dtype, batch and that the channel dimension holds `channels`.
std::pair<int, int> image_extent(const Tensor& tensor, TensorLayout layout, int channels) {
  const Shape& shape = tensor.shape();
  const std::string described = std::string(dtype_name(tensor.dtype())) + " tensor of shape " + shape_to_string(shape);
  const char* kind = channels == 1 ? "a one-channel image" : "an image";
  if (tensor.dtype() != DataType::kFloat32) fail("cannot make ", kind, " from a ", described, ": it must be float32");
  Shape image_shape = shape;  // without the batch dimension
  if (shape.size() == 4) {
    if (shape[0] != 1) fail("cannot make ", kind, " from a ", described, ": batch size must be 1");
    image_shape.erase(image_shape.begin());
  }
  const bool nhwc = layout == TensorLayout::kNHWC;
  if (image_shape.size() != 3 || image_shape[nhwc ? 2 : 0] != channels) {
    const std::string c = std::to_string(channels);
    fail("cannot make ", kind, " from a ", described, ": expected ",
         nhwc ? "[1,H,W," + c + "] or [H,W," + c + "] (nhwc)" : "[1," + c + ",H,W] or [" + c + ",H,W] (nchw)");
  }
  const int64_t height = image_shape[nhwc ? 0 : 1];
  const int64_t width = image_shape[nhwc ? 1 : 2];
  if (height < 1 || width < 1 || height > kMaxImageDimension || width > kMaxImageDimension)
    fail("cannot make ", kind, " from a ", described, ": height and width must be 1..", kMaxImageDimension);
  return {static_cast<int>(width), static_cast<int>(height)};
}

// One channel of the tensor to bytes: out[(y * width + x) * out_step].
void channel_to_bytes(const float* in, const TensorStrides& stride, int channel, int width, int height,
                      const ImageTensorFormat& format, uint8_t* out, int out_step, ConversionStats* stats) {
  const RangeMap map = range_map(format.range);
  const float scale = format.stddev[channel], shift = format.mean[channel];
  size_t clipped = 0;
  float lo = stats ? stats->min : 0.f, hi = stats ? stats->max : 0.f;
  bool first = !stats || stats->values == 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float value = in[y * stride.y + x * stride.x + channel * stride.channel] * scale + shift;
      float byte = (value - map.offset) * map.bytes_per_unit;
      if (std::isnan(byte)) {
        byte = 0.f;
        ++clipped;
      } else {
        if (first) lo = hi = value, first = false;
        lo = std::min(lo, value);
        hi = std::max(hi, value);
        // Rounding keeps -0.5..255.5 in range: only values beyond it are clipped.
        if (byte < -0.5f || byte >= 255.5f) ++clipped;
      }
      byte = std::clamp(byte, 0.f, 255.f);
      out[(static_cast<size_t>(y) * width + x) * out_step] = static_cast<uint8_t>(byte + 0.5f);
    }
  }
  if (stats) {
    stats->values += static_cast<size_t>(width) * height;
    stats->clipped += clipped;
    stats->min = lo;
    stats->max = hi;
  }
}

}  // namespace

RgbImage tensor_to_image(const Tensor& tensor, const ImageTensorFormat& format, ConversionStats* stats) {
  check_format(format);
  auto [width, height] = image_extent(tensor, format.layout, 3);
  RgbImage image(width, height);
  const TensorStrides stride = strides_for(format.layout, width, height);
  for (int c = 0; c < 3; ++c)
    channel_to_bytes(tensor.data<float>(), stride, c, width, height, format, image.pixels.data() + c, 3, stats);
  return image;
}

GrayImage tensor_to_gray_image(const Tensor& tensor, const ImageTensorFormat& format, ConversionStats* stats) {
  check_format(format);
  auto [width, height] = image_extent(tensor, format.layout, 1);
  GrayImage image(width, height);
  // One channel: NCHW and NHWC hold the same order of values.
  const TensorStrides stride = {1, width, 0};
  channel_to_bytes(tensor.data<float>(), stride, 0, width, height, format, image.pixels.data(), 1, stats);
  return image;
}

}  // namespace kiln
