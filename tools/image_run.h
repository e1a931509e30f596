// `kiln run MODEL --image IN --out OUT` and `--images DIR --out DIR`: image
// files through an image model: decode, resize, normalize, run, then the first
// output back to an image (RGB, or grey for a one-channel map), clamp, encode.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "kiln/image.h"
#include "kiln/session.h"

namespace kiln::cli {

struct ImageRunArgs {
  std::string model;
  std::string image;       // --image FILE (single mode)
  std::string images_dir;  // --images DIR (folder mode)
  std::string out;         // --out FILE or DIR
  std::string overlay;     // --overlay FILE (single mode): text boxes of a one-channel map drawn on the image
  double threshold = 0.3;  // --threshold: map values above it count (--overlay)
  bool overwrite = false;  // --overwrite (folder mode): redo outputs that exist
  bool alpha_from_output = false;  // --alpha-from-output: a one-channel output becomes the output's alpha
  std::string output_dir;  // --output-dir DIR (single mode): every output tensor as DIR/<name>.npy
  std::string size;        // --size WxH; empty: each image's own size (or the model's fixed size)
  std::string fit = "contain";  // --fit stretch|contain|cover: how an image meets --size or a fixed size
  std::string layout = "auto";
  std::string range;        // "-1,1" etc.; empty: the model's kiln.range metadata, else 0,1
  std::string mean;        // "R,G,B"; empty: 0,0,0
  std::string stddev;      // "R,G,B"; empty: 1,1,1
  std::string format;      // folder mode: extension of the outputs; empty: png
  int threads = 0;
  std::string settings_line;  // describe_settings() of the resolved settings, printed once
  int runs = 1;            // single mode: run inference this many times (timings), keep the last output
  OptLevel opt_level = OptLevel::kAll;
  std::string isa;         // SessionOptions::isa; empty: KILN_ISA or the best
  uint64_t max_memory_bytes = 0;  // SessionOptions::max_memory_bytes (--max-memory); 0: the available memory
  std::map<std::string, int64_t> dim_values;  // --dim, for other symbolic dims
};

int run_image_model(const ImageRunArgs& args);

// --- pieces with their own rules (tested through the binary) -----------------

// "1280x720" -> {1280, 720} (width x height), each 1..kMaxImageDimension.
std::pair<int, int> parse_image_size(const std::string& text);
// "-1,1" / "0,1" / "0,255" (or the library's "-1..1" spelling).
PixelRange parse_range_option(const std::string& text);
// "0.485,0.456,0.406" -> three finite floats; `option` names the flag in errors.
std::array<float, 3> parse_rgb_triple(const std::string& text, const std::string& option);
// `kiln optimize --set-preprocess range=-1,1[,mean=R,G,B][,std=R,G,B]` -> the
// metadata_props entries kiln.range, kiln.mean, kiln.std that `kiln run
// --image` takes as its defaults. Bad text is a usage error.
std::map<std::string, std::string> parse_preprocess_metadata(const std::string& text);
// The image layout a model input declares: last dim 3 -> NHWC, dim 1 of 3 ->
// NCHW; kiln::Error asking for --layout when the shape says neither or both.
TensorLayout detect_input_layout(const TensorInfo& input);
// Where an output tensor keeps its image: the layout and the channel count
// (3: RGB, 1: a grey map such as a text detector's probabilities).
struct OutputImageLayout {
  TensorLayout layout;
  int channels;
};
// `input_layout` when the shape fits it (or fits both), the other one when only
// that fits; kiln::Error when the tensor is not a [1,]H,W,C / [1,]C,H,W image
// with C 1 or 3.
OutputImageLayout detect_output_image(const Tensor& output, TensorLayout input_layout, const std::string& name);
// True when both paths name the same file (existing or not).
bool same_file(const std::string& a, const std::string& b);

}  // namespace kiln::cli
