// `kiln run MODEL --image/--images`: image files through a model, driven as a
// user would. Input files are written and output files decoded by Pillow
// (../images/image_oracle.h), never by kiln's image library, and the expected
// pixels come from the known inputs by plain arithmetic: small models built
// here with the ONNX protobuf API (identity, Transpose, constant minus input),
// resizes from the triangle filter's definition, and, for the generated
// style-transfer models (KILN_STYLE_MODEL_DIR, target kiln_style_models), the
// float64 numpy evaluator of models/generate_style_models.py.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../images/image_oracle.h"
#include "kiln/image.h"
#include "kiln_binary_test.h"
#include "tools/progress.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using testing::KilnResult;
using testing::lines_of;
using testing::read_text;
using image_oracle::pillow_read;
using image_oracle::pillow_read_upright;
using image_oracle::pillow_read_alpha;
using image_oracle::pillow_write_rgba;
using image_oracle::pillow_write;
using image_oracle::reference_resize;


// A smooth colour gradient with a diagonal stripe: every channel varies, and
// a transposed or channel-swapped copy differs from it.
RgbImage test_image(int width, int height) {
  RgbImage image(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.pixel(x, y);
      p[0] = static_cast<uint8_t>(255 * x / std::max(1, width - 1));
      p[1] = static_cast<uint8_t>(255 * y / std::max(1, height - 1));
      p[2] = static_cast<uint8_t>((x + 2 * y) % 7 == 0 ? 250 : 40 + (x * y) % 60);
    }
  return image;
}

// Every byte within `tolerance` of the expected one (0: identical).
void expect_pixels_within(const RgbImage& actual, const RgbImage& expected, int tolerance, const std::string& what) {
  ASSERT_EQ(actual.width, expected.width) << what;
  ASSERT_EQ(actual.height, expected.height) << what;
  size_t beyond = 0, differing = 0;
  int worst = 0;
  for (size_t i = 0; i < expected.pixels.size(); ++i) {
    int difference = std::abs(int{actual.pixels[i]} - int{expected.pixels[i]});
    differing += difference != 0;
    beyond += difference > tolerance;
    worst = std::max(worst, difference);
  }
  EXPECT_EQ(beyond, 0u) << what << ": " << beyond << " of " << expected.pixels.size() << " bytes differ by more than "
                        << tolerance << " (" << differing << " differ at all, by up to " << worst << ")";
}

void expect_same_pixels(const RgbImage& actual, const RgbImage& expected, const std::string& what) {
  expect_pixels_within(actual, expected, 0, what);
}

bool has_varying_pixels(const RgbImage& image) {
  auto [lo, hi] = std::minmax_element(image.pixels.begin(), image.pixels.end());
  return *hi - *lo > 20;
}

// --- models -----------------------------------------------------------------

void set_value_info(onnx::ValueInfoProto* value, const std::string& name, const std::vector<std::string>& dims) {
  value->set_name(name);
  auto* tensor_type = value->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor_type->mutable_shape();
  for (const std::string& d : dims) {
    auto* dim = shape->add_dim();
    if (std::isdigit(static_cast<unsigned char>(d[0]))) dim->set_dim_value(std::stoll(d));
    else dim->set_dim_param(d);
  }
}

onnx::ModelProto empty_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("kiln-image-cli-test");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  model.mutable_graph()->set_name("test");
  return model;
}

// The input is the output: the image comes back as it went in.
onnx::ModelProto passthrough_model(const std::vector<std::string>& dims) {
  onnx::ModelProto model = empty_model();
  set_value_info(model.mutable_graph()->add_input(), "img", dims);
  set_value_info(model.mutable_graph()->add_output(), "img", dims);
  return model;
}

// y = c - x with a per-channel constant c (shape [1,3,1,1] for NCHW, [1,1,1,3]
// for NHWC): the output depends on every step of the range, mean and std
// mapping and on which channel is which, where a passthrough would hide a
// mistake made the same way in both directions.
onnx::ModelProto constant_minus_input_model(bool nhwc, const std::vector<float>& c) {
  onnx::ModelProto model = empty_model();
  auto* g = model.mutable_graph();
  std::vector<std::string> dims = nhwc ? std::vector<std::string>{"1", "H", "W", "3"}
                                       : std::vector<std::string>{"1", "3", "H", "W"};
  set_value_info(g->add_input(), "x", dims);
  set_value_info(g->add_output(), "y", dims);
  auto* constant = g->add_initializer();
  constant->set_name("c");
  constant->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : nhwc ? std::vector<int64_t>{1, 1, 1, 3} : std::vector<int64_t>{1, 3, 1, 1}) constant->add_dims(d);
  for (float value : c) constant->add_float_data(value);
  auto* node = g->add_node();
  node->set_op_type("Sub");
  node->set_name("c_minus_x");
  node->add_input("c");
  node->add_input("x");
  node->add_output("y");
  return model;
}

// NHWC in, Transpose to NCHW out: the output's shape, not the input's layout,
// says where its channels are.
onnx::ModelProto nhwc_to_nchw_model() {
  onnx::ModelProto model = empty_model();
  auto* g = model.mutable_graph();
  set_value_info(g->add_input(), "x", {"1", "H", "W", "3"});
  set_value_info(g->add_output(), "y", {"1", "3", "H", "W"});
  auto* node = g->add_node();
  node->set_op_type("Transpose");
  node->set_name("to_nchw");
  node->add_input("x");
  node->add_output("y");
  auto* perm = node->add_attribute();
  perm->set_name("perm");
  perm->set_type(onnx::AttributeProto::INTS);
  for (int axis : {0, 3, 1, 2}) perm->add_ints(axis);
  return model;
}

// The brightest channel of each pixel as a one-channel map (ReduceMax over the
// channel axis, keepdims): [1,1,H,W] for NCHW, [1,H,W,1] for NHWC, like a text
// detector's probability map. Exact in bytes: no rounding can move a value.
onnx::ModelProto channel_max_model(bool nhwc) {
  onnx::ModelProto model = empty_model();
  auto* g = model.mutable_graph();
  set_value_info(g->add_input(), "x", nhwc ? std::vector<std::string>{"1", "H", "W", "3"}
                                          : std::vector<std::string>{"1", "3", "H", "W"});
  set_value_info(g->add_output(), "map", nhwc ? std::vector<std::string>{"1", "H", "W", "1"}
                                             : std::vector<std::string>{"1", "1", "H", "W"});
  auto* node = g->add_node();
  node->set_op_type("ReduceMax");
  node->set_name("channel_max");
  node->add_input("x");
  node->add_output("map");
  auto* axes = node->add_attribute();
  axes->set_name("axes");
  axes->set_type(onnx::AttributeProto::INTS);
  axes->add_ints(nhwc ? 3 : 1);
  return model;
}

RgbImage channel_max_of(const RgbImage& image) {
  RgbImage expected(image.width, image.height);
  for (size_t i = 0; i < image.pixels.size(); i += 3) {
    uint8_t m = std::max({image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]});
    expected.pixels[i] = expected.pixels[i + 1] = expected.pixels[i + 2] = m;
  }
  return expected;
}

// The colour type in a PNG's IHDR chunk (byte 25): 0 grey, 2 RGB, 6 RGBA.
int png_color_type(const std::string& file) {
  std::string bytes = testing::read_text(file);
  return bytes.size() > 25 ? static_cast<unsigned char>(bytes[25]) : -1;
}

class KilnImageCli : public testing::KilnBinaryTest {
 protected:
  std::string style_model(const std::string& name) const {
    fs::path model = fs::path(KILN_STYLE_MODEL_DIR) / name;
    EXPECT_TRUE(fs::exists(model)) << model << " is missing: build the target kiln_style_models";
    return model.string();
  }

  // The style model's output bytes for these input pixels, from the float64
  // numpy evaluator in models/generate_style_models.py (not kiln).
  RgbImage reference_style_output(const std::string& model, const RgbImage& input, const std::string& layout,
                                  const std::string& range) const {
    image_oracle::write_ppm(input, path("reference_in.ppm"));
    image_oracle::run_pillow({"style", model, path("reference_in.ppm"), path("reference_out.ppm"), "--layout",
                              layout, "--range", range});
    return image_oracle::read_ppm(path("reference_out.ppm"));
  }
};

TEST_F(KilnImageCli, FastNeuralStyleRunsAtTheRequestedSizeAndComesBackAtThePhotos) {
  std::string model = style_model("fast_neural_style.onnx");
  RgbImage image = test_image(100, 80);
  pillow_write(image, path("in.png"));
  KilnResult r = kiln({"run", model, "--image", path("in.png"), "--out", path("out.png"), "--size", "64x48",
                       "--fit", "stretch", "--range", "0,255", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  RgbImage out = pillow_read(path("out.png"));
  EXPECT_EQ(out.width, 100);
  EXPECT_EQ(out.height, 80);
  EXPECT_TRUE(has_varying_pixels(out));
  // kiln's float32 run is held to 1e-3 + 1e-2*|y| of the float64 reference
  // (models/style_model_tolerances.txt), up to 2.6 of a byte at 255: after
  // rounding, at most 3 apart. The reference is fed the test's own resize,
  // which may be 1 off stb's on the few bytes whose exact sum ends in .5, and
  // its output resized back the same way: at most 4 apart.
  RgbImage reference = reference_style_output(model, reference_resize(image, 64, 48), "nchw", "0,255");
  expect_pixels_within(out, reference_resize(reference, 100, 80), 4, "fast_neural_style");

  EXPECT_NE(r.out.find("input        input 1x3x48x64 nchw (from the model's shape 1x3x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("image        " + path("in.png") + " 100x80 -> 64x48"), std::string::npos) << r.out;
  for (const char* stage : {"decode       ", "preprocess   ", "inference    ", "postprocess  ", "encode       ",
                            "session      created in "})
    EXPECT_NE(r.out.find(stage), std::string::npos) << stage << " missing from:\n" << r.out;
  EXPECT_NE(r.out.find("output       " + path("out.png") + " 100x80 (output 1x3x48x64, nchw)"), std::string::npos)
      << r.out;
}

TEST_F(KilnImageCli, AnimeganNhwcKeepsTheImageSize) {
  std::string model = style_model("animegan_like.onnx");
  RgbImage image = test_image(44, 30);  // odd inner sizes: 30 -> 15 -> 8
  pillow_write(image, path("in.bmp"));
  KilnResult r = kiln({"run", model, "--image", path("in.bmp"), "--out", path("out.png"), "--range=-1,1",
                       "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RgbImage out = pillow_read(path("out.png"));
  EXPECT_EQ(out.width, 44);
  EXPECT_EQ(out.height, 30);
  EXPECT_TRUE(has_varying_pixels(out));
  // kiln's float32 run is held to 1e-3 + 1e-4*|y| of the float64 reference
  // (models/style_model_tolerances.txt), at most 0.14 of a byte in -1..1:
  // after rounding, at most 1 apart.
  expect_pixels_within(out, reference_style_output(model, image, "nhwc", "-1,1"), 1, "animegan_like");
  EXPECT_NE(r.out.find("input        generator_input:0 1x30x44x3 nhwc (from the model's shape 1x"), std::string::npos)
      << r.out;
  // The same with "--range -1,1" as two words.
  r = kiln({"run", model, "--image", path("in.bmp"), "--out", path("out2.png"), "--range", "-1,1", "--size",
            "20x16", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RgbImage out2 = pillow_read(path("out2.png"));
  EXPECT_EQ(out2.width, 44);
  EXPECT_EQ(out2.height, 30);
}

TEST_F(KilnImageCli, PassthroughReturnsTheImageInEveryRangeAndLayout) {
  RgbImage image = test_image(21, 13);
  pillow_write(image, path("in.png"));
  std::string nhwc = save_model("nhwc.onnx", passthrough_model({"1", "H", "W", "3"}));
  std::string nchw = save_model("nchw.onnx", passthrough_model({"N", "3", "H", "W"}));
  for (const std::string& model : {nhwc, nchw})
    for (const char* range : {"--range=-1,1", "--range=0,1", "--range=0,255"}) {
      std::string what = model + " " + range;
      KilnResult r = kiln({"run", model, "--image", path("in.png"), "--out", path("out.png"), range, "--mean",
                           "0.5,0.25,0.125", "--std", "0.5,2,1"});
      ASSERT_EQ(r.exit_code, 0) << what << ": " << r.err;
      expect_same_pixels(pillow_read(path("out.png")), image, what);
      std::string layout = model == nhwc ? "nhwc" : "nchw";
      EXPECT_NE(r.out.find(layout + " (from the model's shape "), std::string::npos) << what << "\n" << r.out;
    }
  // Resized for the model and back: the output is the triangle-filter resize
  // of the input to 9x7 and back to 21x13, within 1 per resize because stb sums
  // in float32 and a sum of exactly k + 0.5 may round either way.
  KilnResult r = kiln({"run", nhwc, "--image", path("in.png"), "--out", path("small.bmp"), "--size", "9x7",
                       "--fit", "stretch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_pixels_within(pillow_read(path("small.bmp")), reference_resize(reference_resize(image, 9, 7), 21, 13), 2,
                       "--size 9x7");
}

TEST_F(KilnImageCli, ConstantMinusInputSeesTheRangeMeanAndStd) {
  RgbImage image = test_image(19, 11);
  pillow_write(image, path("in.png"));
  const std::vector<float> c = {0.2f, 0.4f, 0.8f};
  struct Mapping {
    const char* range;
    double bytes_per_unit, offset;
    std::array<double, 3> mean, stddev;
  };
  // Element x = (byte / bytes_per_unit + offset - mean) / std; the output byte
  // is ((c - x) * std + mean - offset) * bytes_per_unit
  //   = c * std * bytes_per_unit + 2 * (mean - offset) * bytes_per_unit - byte.
  // These means and stds make every expected value a whole number, so float32
  // rounding inside kiln cannot move a byte: the check is exact.
  const std::vector<Mapping> mappings = {
      {"0,255", 1.0, 0.0, {100, 120, 20}, {5, 10, 100}},
      {"0,1", 255.0, 0.0, {0.2, 0, 0.1}, {1, 0.5, 0.25}},
      {"-1,1", 127.5, -1.0, {0, -0.6, -0.8}, {2, 1, 0.5}},
  };
  auto list = [](const std::array<double, 3>& values) {
    std::ostringstream text;
    text << values[0] << "," << values[1] << "," << values[2];
    return text.str();
  };
  for (bool nhwc : {true, false}) {
    std::string model = save_model(nhwc ? "nhwc.onnx" : "nchw.onnx", constant_minus_input_model(nhwc, c));
    for (const Mapping& m : mappings) {
      std::string what = std::string(nhwc ? "nhwc" : "nchw") + " --range " + m.range;
      KilnResult r = kiln({"run", model, "--image", path("in.png"), "--out", path("out.png"),
                           std::string("--range=") + m.range, "--mean=" + list(m.mean), "--std=" + list(m.stddev)});
      ASSERT_EQ(r.exit_code, 0) << what << ": " << r.err;
      RgbImage expected(image.width, image.height);
      for (size_t i = 0; i < image.pixels.size(); ++i) {
        size_t ch = i % 3;
        double value = c[ch] * m.stddev[ch] * m.bytes_per_unit + 2 * (m.mean[ch] - m.offset) * m.bytes_per_unit -
                       image.pixels[i];
        expected.pixels[i] = static_cast<uint8_t>(std::clamp(std::floor(value + 0.5), 0.0, 255.0));
      }
      expect_same_pixels(pillow_read(path("out.png")), expected, what);
    }
  }
}

TEST_F(KilnImageCli, OutputLayoutFollowsTheOutputShape) {
  RgbImage image = test_image(17, 11);
  pillow_write(image, path("in.png"));
  KilnResult r = kiln({"run", save_model("t.onnx", nhwc_to_nchw_model()), "--image", path("in.png"), "--out",
                       path("out.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_pixels(pillow_read(path("out.png")), image, "NHWC in, NCHW out");
  EXPECT_NE(r.out.find("(y 1x3x11x17, nchw)"), std::string::npos) << r.out;
}

TEST_F(KilnImageCli, OneChannelOutputIsAGreyImageAndTensorsGoToOutputDir) {
  RgbImage image = test_image(21, 13);
  pillow_write(image, path("in.png"));
  for (bool nhwc : {false, true}) {
    std::string what = nhwc ? "nhwc" : "nchw";
    std::string model = save_model(what + ".onnx", channel_max_model(nhwc));
    KilnResult r = kiln({"run", model, "--image", path("in.png"), "--out", path("map.png"), "--output-dir",
                         path("tensors_" + what)});
    ASSERT_EQ(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_EQ(png_color_type(path("map.png")), 0) << what << ": the map must be written as a grey PNG";
    expect_same_pixels(pillow_read(path("map.png")), channel_max_of(image), what);
    std::string shape = nhwc ? "1x13x21x1" : "1x1x13x21";
    EXPECT_NE(r.out.find("(map " + shape + ", " + what + ", grey)"), std::string::npos) << r.out;
    // The raw tensor as .npy, beside the picture.
    std::string npy = path("tensors_" + what + "/map.npy");
    ASSERT_TRUE(fs::exists(npy)) << r.out;
    std::string npy_shape = nhwc ? "(1, 13, 21, 1)" : "(1, 1, 13, 21)";
    EXPECT_NE(read_text(npy).find("'shape': " + npy_shape), std::string::npos) << read_text(npy).substr(0, 100);
    EXPECT_NE(r.out.find("saved to " + npy), std::string::npos) << r.out;
  }
  // A 1-channel map can be a JPEG or BMP too.
  std::string model = save_model("nchw.onnx", channel_max_model(false));
  KilnResult r = kiln({"run", model, "--image", path("in.png"), "--out", path("map.bmp")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_pixels(pillow_read(path("map.bmp")), channel_max_of(image), "bmp");
  // Folder mode writes images only.
  fs::create_directories(path("frames"));
  pillow_write(image, path("frames/a.png"));
  expect_one_line_error({"run", model, "--images", path("frames"), "--out", path("maps"), "--output-dir",
                         path("t")}, 1, "--output-dir is for --image");
}

TEST_F(KilnImageCli, OverlayDrawsABoxAroundEachBrightRegionOfAOneChannelMap) {
  // Two white bars on black: the channel-max map is 1 on them and 0 elsewhere,
  // so each bar is one component, grown on each side by
  // area * 1.5 / perimeter (DB's unclip): 20x7 by 3.9, 25x10 by 5.4.
  RgbImage image(60, 40);
  auto fill = [&](int x0, int y0, int x1, int y1) {
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) std::fill_n(image.pixel(x, y), 3, uint8_t{255});
  };
  fill(5, 5, 25, 12);
  fill(30, 20, 55, 30);
  pillow_write(image, path("page.png"));
  std::string model = save_model("map.onnx", channel_max_model(false));
  KilnResult r = kiln({"run", model, "--image", path("page.png"), "--overlay", path("boxes.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("overlay      " + path("boxes.png") + " 60x40: 2 text boxes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("box          1 1 29 16 score 1.000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("box          25 15 60 35 score 1.000"), std::string::npos) << r.out;
  RgbImage drawn = pillow_read(path("boxes.png"));
  ASSERT_EQ(drawn.width, 60);
  // The outline is drawn just outside the box (x = 1 - 2 = -1 is clipped, so x = 0 at y = 8 is red).
  const uint8_t* edge = drawn.pixel(0, 8);
  EXPECT_GT(edge[0], 150) << int{edge[0]} << "," << int{edge[1]} << "," << int{edge[2]};
  EXPECT_LT(edge[1], 80);
  // Far from both bars the page is untouched.
  EXPECT_EQ(drawn.pixel(10, 35)[0], 0);
  // A three-channel output has no probability map to draw.
  std::string rgb = save_model("rgb.onnx", passthrough_model({"1", "3", "H", "W"}));
  expect_one_line_error({"run", rgb, "--image", path("page.png"), "--overlay", path("o.png")}, 1,
                        "--overlay needs a one-channel output");
  expect_one_line_error({"run", model, "--image", path("page.png"), "--overlay", path("no/such/folder/o.png")}, 1,
                        "does not exist");
}

TEST_F(KilnImageCli, JpegExifOrientationIsAppliedSoPhotosComeOutUpright) {
  std::string model = save_model("nchw.onnx", passthrough_model({"1", "3", "H", "W"}));
  const RgbImage stored = test_image(24, 16);  // wider than tall, so a quarter turn shows in the size
  for (int orientation = 1; orientation <= 8; ++orientation) {
    std::string what = "orientation " + std::to_string(orientation);
    std::string in = path("photo" + std::to_string(orientation) + ".jpg");
    pillow_write(stored, in, 95, orientation);
    KilnResult r = kiln({"run", model, "--image", in, "--out", path("out.png")});
    ASSERT_EQ(r.exit_code, 0) << what << ": " << r.err;
    RgbImage out = pillow_read(path("out.png"));
    const bool quarter_turn = orientation >= 5;
    EXPECT_EQ(out.width, quarter_turn ? 16 : 24) << what;
    EXPECT_EQ(out.height, quarter_turn ? 24 : 16) << what;
    // As Pillow shows the file upright (ImageOps.exif_transpose); two JPEG
    // decoders' integer IDCTs and colour conversions differ by up to 2.
    expect_pixels_within(out, pillow_read_upright(in), 2, what);
    if (orientation == 1) {
      EXPECT_EQ(r.out.find("EXIF orientation"), std::string::npos) << r.out;
    } else {
      EXPECT_NE(r.out.find("EXIF orientation " + std::to_string(orientation) + ": "), std::string::npos) << r.out;
    }
  }
  // Orientation 6 by hand: the camera was turned, the stored pixels are shown
  // rotated 90 degrees clockwise, so the upright pixel (x, y) is the stored
  // (y, height - 1 - x).
  RgbImage raw = pillow_read(path("photo6.jpg"));  // Pillow without the EXIF step: the stored pixels
  ASSERT_EQ(raw.width, 24);
  RgbImage turned(raw.height, raw.width);
  for (int y = 0; y < turned.height; ++y)
    for (int x = 0; x < turned.width; ++x) std::copy_n(raw.pixel(y, raw.height - 1 - x), 3, turned.pixel(x, y));
  ASSERT_EQ(kiln({"run", model, "--image", path("photo6.jpg"), "--out", path("out6.png")}).exit_code, 0);
  expect_pixels_within(pillow_read(path("out6.png")), turned, 2, "orientation 6 by hand");
  EXPECT_NE(kiln({"run", model, "--image", path("photo6.jpg"), "--out", path("out6.png")})
                .out.find("rotated 90 degrees clockwise"),
            std::string::npos);
}

// The pixels of a rectangle of the image.
RgbImage crop(const RgbImage& image, int x, int y, int width, int height) {
  RgbImage part(width, height);
  for (int row = 0; row < height; ++row) std::copy_n(image.pixel(x, y + row), width * 3, part.pixel(0, row));
  return part;
}

TEST_F(KilnImageCli, FitKeepsTheAspectAndTheOutputComesBackAtThePhotosSize) {
  RgbImage image = test_image(321, 181);
  pillow_write(image, path("in.bmp"));
  std::string fixed = save_model("fixed.onnx", passthrough_model({"1", "3", "64", "64"}));
  // contain (the default): scaled by 64/321 to 64x36, centred in 64x64 (rows
  // 14..49), the output's rows 14..49 cut out and resized back to 321x181.
  KilnResult r = kiln({"run", fixed, "--image", path("in.bmp"), "--out", path("contain.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("321x181 -> 64x64 (--fit contain: scaled to 64x36, padded)"), std::string::npos) << r.out;
  RgbImage contain = pillow_read(path("contain.png"));
  // Within 1 per resize (stb's float32 sums may round an exact k + 0.5 either way).
  expect_pixels_within(contain, reference_resize(reference_resize(image, 64, 36), 321, 181), 2, "contain");
  // stretch: 64x64 and back; a different picture than contain's (the two
  // references differ by more than the tolerance on thousands of bytes, so
  // neither check passes for the other's pipeline).
  r = kiln({"run", fixed, "--image", path("in.bmp"), "--out", path("stretch.png"), "--fit", "stretch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RgbImage stretch = pillow_read(path("stretch.png"));
  expect_pixels_within(stretch, reference_resize(reference_resize(image, 64, 64), 321, 181), 2, "stretch");
  size_t differing = 0;
  for (size_t i = 0; i < stretch.pixels.size(); ++i) differing += std::abs(stretch.pixels[i] - contain.pixels[i]) > 2;
  EXPECT_GT(differing, 1000u) << "stretch and contain gave nearly the same picture";
  // cover: the middle 181x181 of the photo (x 70..250) fills 64x64; the output
  // is that part at the photo's scale.
  r = kiln({"run", fixed, "--image", path("in.bmp"), "--out", path("cover.png"), "--fit", "cover"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(--fit cover: the middle 181x181 of the image, scaled)"), std::string::npos) << r.out;
  expect_pixels_within(pillow_read(path("cover.png")),
                       reference_resize(reference_resize(crop(image, 70, 0, 181, 181), 64, 64), 181, 181), 2,
                       "cover");
  // --size on a model with free H/W, the same way.
  std::string free_size = save_model("free.onnx", passthrough_model({"1", "H", "W", "3"}));
  r = kiln({"run", free_size, "--image", path("in.bmp"), "--out", path("sized.png"), "--size", "80x80"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("321x181 -> 80x80 (--fit contain: scaled to 80x45, padded)"), std::string::npos) << r.out;
  expect_pixels_within(pillow_read(path("sized.png")), reference_resize(reference_resize(image, 80, 45), 321, 181),
                       2, "--size 80x80");
  expect_one_line_error({"run", fixed, "--image", path("in.bmp"), "--out", path("x.png"), "--fit", "fill"}, 2,
                        "--fit");
}

TEST_F(KilnImageCli, AStyleModelThatRoundsItsOutputSizeUpComesBackAtThePhotosSize) {
  // fast-neural-style's output is 4 * ceil(side / 4): 324x184 for a 321x181 photo.
  std::string model = style_model("fast_neural_style.onnx");
  pillow_write(test_image(321, 181), path("photo.bmp"));
  KilnResult r = kiln({"run", model, "--image", path("photo.bmp"), "--out", path("styled.bmp"), "--range", "0,255",
                       "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(output 1x3x184x324, nchw)"), std::string::npos) << r.out;
  RgbImage styled = pillow_read(path("styled.bmp"));
  EXPECT_EQ(styled.width, 321);
  EXPECT_EQ(styled.height, 181);
}

GrayImage test_alpha(int width, int height) {
  GrayImage alpha(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) alpha.at(x, y) = static_cast<uint8_t>(x < width / 3 ? 0 : 255 * y / (height - 1));
  return alpha;
}

void expect_same_alpha(const GrayImage& actual, const GrayImage& expected, const std::string& what) {
  ASSERT_EQ(actual.width, expected.width) << what;
  ASSERT_EQ(actual.height, expected.height) << what;
  size_t differing = 0;
  for (size_t i = 0; i < expected.pixels.size(); ++i) differing += actual.pixels[i] != expected.pixels[i];
  EXPECT_EQ(differing, 0u) << what << ": " << differing << " alpha values differ";
}

TEST_F(KilnImageCli, AlphaIsPassedThroughOrMadeFromAOneChannelOutput) {
  RgbImage image = test_image(30, 20);
  GrayImage alpha = test_alpha(30, 20);
  pillow_write_rgba(image, alpha, path("in.png"));
  std::string passthrough = save_model("nchw.onnx", passthrough_model({"1", "3", "H", "W"}));
  // Passed through: the colours go through the model, the alpha around it, for PNG and BMP.
  for (const char* out : {"out.png", "out.bmp"}) {
    KilnResult r = kiln({"run", passthrough, "--image", path("in.png"), "--out", path(out)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(" 30x20 with alpha ("), std::string::npos) << r.out;
    expect_same_pixels(pillow_read(path(out)), image, out);
    expect_same_alpha(pillow_read_alpha(path(out)), alpha, out);
  }
  EXPECT_EQ(png_color_type(path("out.png")), 6);
  // Through a smaller model size and back, the alpha is the input's, untouched.
  KilnResult r = kiln({"run", passthrough, "--image", path("in.png"), "--out", path("small.png"), "--size", "12x8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_alpha(pillow_read_alpha(path("small.png")), alpha, "--size 12x8");
  // JPEG cannot hold it: said on stderr, the picture is still written.
  r = kiln({"run", passthrough, "--image", path("in.png"), "--out", path("out.jpg")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no alpha channel: the alpha is dropped"), std::string::npos) << r.err;

  // --alpha-from-output: a matte model's one-channel output is the alpha of the
  // input's colours (here the brightest channel, exact in bytes).
  pillow_write(image, path("opaque.png"));
  std::string matte = save_model("matte.onnx", channel_max_model(false));
  r = kiln({"run", matte, "--image", path("opaque.png"), "--out", path("cutout.png"), "--alpha-from-output"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(the input image; alpha from map 1x1x20x30, nchw, grey)"), std::string::npos) << r.out;
  expect_same_pixels(pillow_read(path("cutout.png")), image, "cut-out colours");
  RgbImage brightest = channel_max_of(image);
  GrayImage expected_alpha(30, 20);
  for (size_t i = 0; i < expected_alpha.pixels.size(); ++i) expected_alpha.pixels[i] = brightest.pixels[i * 3];
  expect_same_alpha(pillow_read_alpha(path("cutout.png")), expected_alpha, "alpha from the output");
  // The colours are the input's, whatever --range, --mean and --std the model needs.
  r = kiln({"run", matte, "--image", path("opaque.png"), "--out", path("cutout2.png"), "--alpha-from-output",
            "--range", "0,1", "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_pixels_within(pillow_read(path("cutout2.png")), image, 0, "cut-out colours with mean/std");
  expect_one_line_error({"run", passthrough, "--image", path("opaque.png"), "--out", path("x.png"),
                         "--alpha-from-output"}, 1, "--alpha-from-output needs a one-channel output");
}

// y = x / 255: a model whose output is in 0..1 when its input is in 0..255.
onnx::ModelProto divide_by_255_model() {
  onnx::ModelProto model = empty_model();
  auto* g = model.mutable_graph();
  set_value_info(g->add_input(), "x", {"1", "3", "H", "W"});
  set_value_info(g->add_output(), "y", {"1", "3", "H", "W"});
  auto* constant = g->add_initializer();
  constant->set_name("k");
  constant->set_data_type(onnx::TensorProto::FLOAT);
  constant->add_float_data(255.f);
  auto* node = g->add_node();
  node->set_op_type("Div");
  node->set_name("scale");
  node->add_input("x");
  node->add_input("k");
  node->add_output("y");
  return model;
}

TEST_F(KilnImageCli, ClippedOutputGetsAWarningThatSuggestsTheRange) {
  // The AnimeGAN-shaped generator ends in tanh: its output is in -1..1. Read
  // as 0..1 (the default), the negative half clips to black.
  std::string model = style_model("animegan_like.onnx");
  pillow_write(test_image(44, 30), path("in.png"));
  KilnResult r = kiln({"run", model, "--image", path("in.png"), "--out", path("out.png"), "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("kiln: warning: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("of the output's values ("), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("fell outside --range 0,1 and were clipped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("which --range=-1,1 would hold"), std::string::npos) << r.err;
  // The share is printed and plausible: a tanh of zero-mean noise is negative about half the time.
  double share = std::atof(r.err.substr(r.err.find("kiln: warning: ") + 15).c_str());
  EXPECT_GT(share, 20) << r.err;
  EXPECT_LT(share, 80) << r.err;
  // With the right range: nothing to say.
  r = kiln({"run", model, "--image", path("in.png"), "--out", path("out.png"), "--threads", "1", "--range=-1,1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  // An output in 0..1 read as 0..255 clips nothing but is black: said too.
  std::string divide = save_model("divide.onnx", divide_by_255_model());
  r = kiln({"run", divide, "--image", path("in.png"), "--out", path("dark.png"), "--range", "0,255"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("the picture is nearly black; --range 0,1 would hold them"), std::string::npos) << r.err;
  // Folder mode: one warning over all the outputs.
  fs::create_directories(path("frames"));
  pillow_write(test_image(44, 30), path("frames/a.png"));
  pillow_write(test_image(30, 20), path("frames/b.png"));
  r = kiln({"run", model, "--images", path("frames"), "--out", path("styled"), "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("of the outputs's values ("), std::string::npos) << r.err;
}

TEST_F(KilnImageCli, PreprocessingFromTheModelsMetadata) {
  // kiln optimize --set-preprocess writes kiln.range/mean/std; Python's onnx reads them back.
  std::string model = save_model("cmi.onnx", constant_minus_input_model(false, {0.2f, 0.4f, 0.8f}));
  KilnResult r = kiln({"optimize", model, path("tagged.onnx"), "--no-timing", "--set-preprocess",
                       "range=-1,1,mean=0,-0.6,-0.8,std=2,1,0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("metadata   kiln.range = -1,1"), std::string::npos) << r.out;
  std::string props = path("props.txt");
  std::string command = std::string(KILN_PYTHON) + " -c \"import onnx,sys; m=onnx.load(sys.argv[1]); "
                        "print(sorted((p.key, p.value) for p in m.metadata_props))\" '" + path("tagged.onnx") +
                        "' > '" + props + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  EXPECT_EQ(read_text(props),
            "[('kiln.mean', '0,-0.6,-0.8'), ('kiln.range', '-1,1'), ('kiln.std', '2,1,0.5')]\n");

  // kiln run takes them as its defaults: the same bytes as with the flags.
  pillow_write(test_image(19, 11), path("in.png"));
  r = kiln({"run", path("tagged.onnx"), "--image", path("in.png"), "--out", path("meta.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("range -1..1, mean 0,-0.6,-0.8, std 2,1,0.5 (kiln.range, kiln.mean, kiln.std from the "
                       "model's metadata)"),
            std::string::npos)
      << r.out;
  r = kiln({"run", model, "--image", path("in.png"), "--out", path("flags.png"), "--range=-1,1",
            "--mean=0,-0.6,-0.8", "--std=2,1,0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_pixels(pillow_read(path("meta.png")), pillow_read(path("flags.png")), "metadata vs flags");
  // A flag still wins over the metadata.
  r = kiln({"run", path("tagged.onnx"), "--image", path("in.png"), "--out", path("o.png"), "--range", "0,255"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("range 0..255, mean 0,-0.6,-0.8, std 2,1,0.5 (kiln.mean, kiln.std from"), std::string::npos)
      << r.out;

  // Metadata kiln cannot use is an error naming the key; a bad option a usage error.
  onnx::ModelProto bad = passthrough_model({"1", "3", "H", "W"});
  auto* prop = bad.add_metadata_props();
  prop->set_key("kiln.range");
  prop->set_value("0,2");
  expect_one_line_error({"run", save_model("bad.onnx", bad), "--image", path("in.png"), "--out", path("o.png")}, 1,
                        "kiln.range='0,2'");
  expect_one_line_error({"optimize", model, path("x.onnx"), "--set-preprocess", "scale=2"}, 2, "unknown key 'scale'");
  expect_one_line_error({"optimize", model, path("x.onnx"), "--set-preprocess", "range=0,2"}, 2, "--range");
  expect_one_line_error({"optimize", model, path("x.onnx"), "--set-preprocess", "range=0,1,std=1,0,1"}, 2,
                        "divides by zero");
}

TEST_F(KilnImageCli, LayoutAutoDetectionAndItsErrors) {
  pillow_write(test_image(8, 6), path("in.png"));
  std::string out = path("out.png");
  std::string both = save_model("both.onnx", passthrough_model({"1", "3", "H", "3"}));
  expect_one_line_error({"run", both, "--image", path("in.png"), "--out", out}, 1, "ambiguous; pass --layout");
  std::string neither = save_model("neither.onnx", passthrough_model({"1", "H", "W", "C"}));
  expect_one_line_error({"run", neither, "--image", path("in.png"), "--out", out}, 1, "pass --layout nhwc");
  std::string rank2 = save_model("rank2.onnx", passthrough_model({"H", "W"}));
  expect_one_line_error({"run", rank2, "--image", path("in.png"), "--out", out}, 1, "expected rank 4");
  // --layout settles it: a 1x3xHx3 input is NCHW when told so (the image is 3 wide).
  pillow_write(test_image(3, 5), path("narrow.png"));
  KilnResult r = kiln({"run", both, "--image", path("narrow.png"), "--out", out, "--layout", "nchw"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nchw (from --layout)"), std::string::npos) << r.out;
  expect_same_pixels(pillow_read(out), test_image(3, 5), "--layout nchw");
  // A model whose size is fixed gets images resized to it when --size is not
  // given, and the output comes back at the image's size.
  std::string fixed = save_model("fixed.onnx", passthrough_model({"1", "3", "4", "5"}));
  r = kiln({"run", fixed, "--image", path("in.png"), "--out", out, "--fit", "stretch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("8x6 -> 5x4"), std::string::npos) << r.out;
  RgbImage fitted = pillow_read(out);
  EXPECT_EQ(fitted.width, 8);
  EXPECT_EQ(fitted.height, 6);
}

TEST_F(KilnImageCli, CorruptImageGivesOneLineError) {
  std::string model = save_model("nhwc.onnx", passthrough_model({"1", "H", "W", "3"}));
  pillow_write(test_image(30, 20), path("good.png"));
  std::string good = read_text(path("good.png"));
  std::ofstream(path("truncated.png"), std::ios::binary) << good.substr(0, good.size() / 2);
  std::ofstream(path("text.jpg"), std::ios::binary) << "this is not a JPEG";
  expect_one_line_error({"run", model, "--image", path("truncated.png"), "--out", path("o.png")}, 1, "truncated.png");
  expect_one_line_error({"run", model, "--image", path("text.jpg"), "--out", path("o.png")}, 1,
                        "is not a PNG, JPEG or BMP file");
  expect_one_line_error({"run", model, "--image", path("absent.png"), "--out", path("o.png")}, 1, "absent.png");
  EXPECT_FALSE(fs::exists(path("o.png")));
}

TEST_F(KilnImageCli, BadImageOptions) {
  std::string model = save_model("nhwc.onnx", passthrough_model({"1", "H", "W", "3"}));
  pillow_write(test_image(8, 6), path("in.png"));
  std::vector<std::string> base = {"run", model, "--image", path("in.png"), "--out", path("o.png")};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  expect_one_line_error(with({"--size", "1280"}), 2, "bad --size '1280'");
  expect_one_line_error(with({"--size", "0x720"}), 2, "bad --size");
  expect_one_line_error(with({"--range", "0,2"}), 2, "bad --range '0,2'");
  expect_one_line_error(with({"--mean", "1,2"}), 2, "bad --mean");
  expect_one_line_error(with({"--std", "1,0,1"}), 2, "divides by zero");
  expect_one_line_error(with({"--layout", "hwc"}), 2, "--layout");
  expect_one_line_error(with({"--format", "png"}), 1, "--format is for --images");
  expect_one_line_error({"run", model, "--image", path("in.png"), "--out", path("o.tiff")}, 1, ".tiff");
  expect_one_line_error({"run", model, "--image", path("in.png")}, 1, "--out");
  expect_one_line_error({"run", model, "--size", "8x8"}, 2, "--size needs --image");
  expect_one_line_error({"run", model, "--image", path("in.png"), "--images", dir_.string()}, 2, "--image");
  expect_one_line_error(with({"--shape", "img=1x6x8x3"}), 2, "--shape cannot be combined");
  std::string two_inputs_model;
  {
    onnx::ModelProto two = passthrough_model({"1", "H", "W", "3"});
    set_value_info(two.mutable_graph()->add_input(), "extra", {"2"});
    two_inputs_model = save_model("two.onnx", two);
  }
  expect_one_line_error({"run", two_inputs_model, "--image", path("in.png"), "--out", path("o.png")}, 1,
                        "exactly one input");
  EXPECT_FALSE(fs::exists(path("o.png")));
}

TEST_F(KilnImageCli, NeverOverwritesTheInput) {
  std::string model = save_model("nhwc.onnx", passthrough_model({"1", "H", "W", "3"}));
  RgbImage image = test_image(8, 6);
  pillow_write(image, path("in.png"));
  std::string before = read_text(path("in.png"));
  expect_one_line_error({"run", model, "--image", path("in.png"), "--out", path("in.png")}, 1, "never overwrites");
  fs::create_directories(path("sub"));
  expect_one_line_error({"run", model, "--image", path("in.png"), "--out", path("sub/../in.png")}, 1,
                        "never overwrites");
  fs::create_hard_link(path("in.png"), path("link.png"));
  expect_one_line_error({"run", model, "--image", path("in.png"), "--out", path("link.png")}, 1, "never overwrites");
  EXPECT_EQ(read_text(path("in.png")), before);

  // Folder mode refuses --out equal to --images, however it is spelled.
  fs::create_directories(path("frames"));
  pillow_write(image, path("frames/a.png"));
  std::string frame_before = read_text(path("frames/a.png"));
  for (const std::string& out : {path("frames"), path("frames/"), path("frames/.")})
    expect_one_line_error({"run", model, "--images", path("frames"), "--out", out}, 1, "never overwrites");
  EXPECT_EQ(read_text(path("frames/a.png")), frame_before);
  EXPECT_EQ(std::distance(fs::directory_iterator(path("frames")), fs::directory_iterator()), 1);
}

TEST_F(KilnImageCli, FolderModeKeepsGoingPastABrokenImage) {
  std::string model = save_model("nchw.onnx", passthrough_model({"1", "3", "H", "W"}));
  fs::create_directories(path("frames"));
  RgbImage a = test_image(20, 10), b = test_image(20, 10), d = test_image(12, 8);
  b.pixel(3, 4)[1] = 7;
  pillow_write(a, path("frames/a.png"));
  pillow_write(b, path("frames/b.BMP"));
  std::ofstream(path("frames/c.jpg"), std::ios::binary) << "\xff\xd8\xff garbage, not a JPEG body";
  pillow_write(d, path("frames/d.jpeg"));
  std::ofstream(path("frames/notes.txt")) << "not an image, not listed";

  KilnResult r = kiln({"run", model, "--images", path("frames"), "--out", path("styled"), "--range", "0,255"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(path("styled"))) files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"a.png", "b.png", "d.png"}));
  expect_same_pixels(pillow_read(path("styled/a.png")), a, "a");
  expect_same_pixels(pillow_read(path("styled/b.png")), b, "b");
  // d.jpeg went through JPEG: compare against Pillow's decode of it. Two JPEG
  // decoders' integer IDCTs may each be 1 off the exact transform (IEEE 1180)
  // and their YCbCr-to-RGB rounding differs: at most 2 apart per byte.
  expect_pixels_within(pillow_read(path("styled/d.png")), pillow_read(path("frames/d.jpeg")), 2, "d");

  // Progress on stderr (not a terminal: plain lines), then every failure at the end.
  std::vector<std::string> err = lines_of(r.err);
  ASSERT_GE(err.size(), 3u) << r.err;
  EXPECT_NE(r.err.find("[1/4] a.png 20x10 -> 20x10 "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[4/4] d.jpeg 12x8 -> 12x8 "), std::string::npos) << r.err;
  EXPECT_EQ(err[err.size() - 2], "kiln: error: 1 of 4 images failed:") << r.err;
  EXPECT_EQ(err.back().rfind("  c.jpg: ", 0), 0u) << r.err;
  EXPECT_NE(err.back().find("c.jpg"), std::string::npos) << r.err;
  // One session per size: 20x10 (a, b), then 12x8 (d).
  EXPECT_NE(r.out.find("sessions     2 created"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("done         3 of 4 images in "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" images/s, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" ms per image"), std::string::npos) << r.out;

  // With --size every image has one size: one session; --format picks the extension.
  fs::remove(path("frames/c.jpg"));
  r = kiln({"run", model, "--images", path("frames"), "--out", path("small"), "--size", "6x5", "--fit", "stretch",
            "--format", "bmp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("sessions     1 created"), std::string::npos) << r.out;
  // Within 1 per resize: stb's float32 sums may round an exact k + 0.5 either way.
  expect_pixels_within(pillow_read(path("small/a.bmp")), reference_resize(reference_resize(a, 6, 5), 20, 10), 2,
                       "a resized");
  EXPECT_TRUE(fs::exists(path("small/d.bmp")));
}

TEST_F(KilnImageCli, FolderModeBuildsOneSessionPerSizeAndSkipsWhatIsDone) {
  std::string model = save_model("nchw.onnx", passthrough_model({"1", "3", "H", "W"}));
  fs::create_directories(path("frames"));
  // Three sizes, interleaved in name order.
  const std::vector<std::pair<std::string, std::pair<int, int>>> frames = {
      {"a", {20, 10}}, {"b", {12, 8}}, {"c", {20, 10}}, {"d", {12, 8}}, {"e", {16, 16}}, {"f", {20, 10}}};
  for (const auto& [name, size] : frames) pillow_write(test_image(size.first, size.second), path("frames/" + name + ".png"));
  KilnResult r = kiln({"run", model, "--images", path("frames"), "--out", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("sessions     3 created"), std::string::npos) << r.out;
  // Size by size, in the order each size first comes: a c f, b d, e.
  for (const char* line : {"[1/6] a.png", "[2/6] c.png", "[3/6] f.png", "[4/6] b.png", "[5/6] d.png", "[6/6] e.png"})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.err;
  EXPECT_NE(r.out.find("done         6 of 6 images in "), std::string::npos) << r.out;
  for (const auto& [name, size] : frames)
    expect_same_pixels(pillow_read(path("out/" + name + ".png")), test_image(size.first, size.second), name);

  // Again: everything is done, nothing runs.
  r = kiln({"run", model, "--images", path("frames"), "--out", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("skipped      6 of 6 images: their output exists"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sessions     0 created"), std::string::npos) << r.out;
  // One output gone: only that image runs.
  fs::remove(path("out/d.png"));
  r = kiln({"run", model, "--images", path("frames"), "--out", path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("skipped      5 of 6 images"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("done         1 of 1 images in "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(5 skipped)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("[1/1] d.png"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(path("out/d.png")));
  // --overwrite redoes them all.
  r = kiln({"run", model, "--images", path("frames"), "--out", path("out"), "--overwrite"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("done         6 of 6 images in "), std::string::npos) << r.out;
  // An output path that is a folder fails before any image runs.
  fs::create_directories(path("blocked/a.png"));
  expect_one_line_error({"run", model, "--images", path("frames"), "--out", path("blocked")}, 1, "is a folder");
  EXPECT_FALSE(fs::exists(path("blocked/b.png")));
}

TEST_F(KilnImageCli, OutputFolderThatDoesNotExistFailsBeforeTheInference) {
  std::string model = save_model("nchw.onnx", passthrough_model({"1", "3", "H", "W"}));
  pillow_write(test_image(8, 6), path("in.png"));
  KilnResult r = kiln({"run", model, "--image", path("in.png"), "--out", path("no/such/folder/out.png")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the folder '" + path("no/such/folder") + "' does not exist"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("inference"), std::string::npos) << "the model ran first:\n" << r.out;
}

TEST(InferenceProgressText, SharesAndEtaComeFromTheMacsWhenKnown) {
  // 10 of 100 nodes but half the MACs in 4 s: 50%, 4 s to go.
  EXPECT_EQ(cli::InferenceProgress::format(10, 100, 500, int64_t{1000}, 4.0, 0), "10/100 nodes  50%  ETA 4s");
  // Without MACs: by nodes, 10% in 4 s leaves 36 s.
  EXPECT_EQ(cli::InferenceProgress::format(10, 100, 0, std::nullopt, 4.0, 0), "10/100 nodes  10%  ETA 36s (by nodes)");
  EXPECT_EQ(cli::InferenceProgress::format(100, 100, 1000, int64_t{1000}, 9.0, 4), "[####] 100/100 nodes  100%");
  EXPECT_EQ(cli::InferenceProgress::format(25, 100, 250, int64_t{1000}, 1.0, 4), "[#...] 25/100 nodes  25%  ETA 3s");
}

TEST_F(KilnImageCli, FolderModeRefusesCollidingNamesAndEmptyFolders) {
  std::string model = save_model("nchw.onnx", passthrough_model({"1", "3", "H", "W"}));
  fs::create_directories(path("empty"));
  expect_one_line_error({"run", model, "--images", path("empty"), "--out", path("out")}, 1, "no .png, .jpg");
  fs::create_directories(path("frames"));
  pillow_write(test_image(4, 4), path("frames/x.png"));
  pillow_write(test_image(4, 4), path("frames/x.jpg"));
  expect_one_line_error({"run", model, "--images", path("frames"), "--out", path("out")}, 1, "would both be written");
  expect_one_line_error({"run", model, "--images", path("frames"), "--out", path("out"), "--format", "gif"}, 2,
                        "bad --format 'gif'");
  EXPECT_FALSE(fs::exists(path("out")));
}

}  // namespace
}  // namespace kiln
