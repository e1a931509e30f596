#include "tools/image_run.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "kiln/error.h"
#include "kiln/model_info.h"
#include "kiln/tensor_io.h"
#include "tools/cli_common.h"
#include "tools/folder_progress.h"
#include "tools/progress.h"
#include "tools/text_boxes.h"

namespace kiln::cli {
namespace fs = std::filesystem;

std::pair<int, int> parse_image_size(const std::string& text) {
  size_t x = text.find_first_of("xX");
  auto parse_side = [&](const std::string& part) {
    bool digits = !part.empty() && part.size() <= 6 &&
                  std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); });
    int value = digits ? std::stoi(part) : 0;
    if (value < 1 || value > kMaxImageDimension)
      fail_usage("bad --size '", text, "': expected WIDTHxHEIGHT, e.g. 1280x720, each 1..", kMaxImageDimension);
    return value;
  };
  if (x == std::string::npos) parse_side("");
  return {parse_side(text.substr(0, x)), parse_side(text.substr(x + 1))};
}

PixelRange parse_range_option(const std::string& text) {
  struct Spelling {
    const char* text;
    PixelRange range;
  };
  static const Spelling kSpellings[] = {
      {"-1,1", PixelRange::kMinusOneToOne}, {"-1..1", PixelRange::kMinusOneToOne},
      {"0,1", PixelRange::kZeroToOne},      {"0..1", PixelRange::kZeroToOne},
      {"0,255", PixelRange::kZeroTo255},    {"0..255", PixelRange::kZeroTo255},
  };
  for (const Spelling& spelling : kSpellings)
    if (text == spelling.text) return spelling.range;
  fail_usage("bad --range '", text, "': use -1,1 or 0,1 or 0,255");
}

std::array<float, 3> parse_rgb_triple(const std::string& text, const std::string& option) {
  std::array<float, 3> values{};
  size_t start = 0;
  for (int c = 0; c < 3; ++c) {
    size_t comma = text.find(',', start);
    if ((c < 2) != (comma != std::string::npos)) fail_usage("bad ", option, " '", text, "': expected three numbers R,G,B");
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t used = 0;
    try {
      values[c] = std::stof(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || !std::isfinite(values[c]))
      fail_usage("bad ", option, " '", text, "': '", part, "' is not a finite number");
    start = comma + 1;
  }
  return values;
}

std::map<std::string, std::string> parse_preprocess_metadata(const std::string& text) {
  // Values hold commas too: a token with '=' starts a key, the ones after it continue its value.
  std::map<std::string, std::string> given;
  std::string key;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string token = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t equals = token.find('=');
    if (equals != std::string::npos) {
      key = token.substr(0, equals);
      if (key != "range" && key != "mean" && key != "std")
        fail_usage("bad --set-preprocess '", text, "': unknown key '", key, "' (use range=, mean=, std=)");
      if (given.count(key)) fail_usage("bad --set-preprocess '", text, "': ", key, " is given twice");
      given[key] = token.substr(equals + 1);
    } else if (key.empty()) {
      fail_usage("bad --set-preprocess '", text, "': expected range=LO,HI[,mean=R,G,B][,std=R,G,B]");
    } else {
      given[key] += "," + token;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::map<std::string, std::string> metadata;
  if (given.count("range")) {
    metadata["kiln.range"] = pixel_range_name(parse_range_option(given["range"]));
    std::string& range = metadata["kiln.range"];
    range.replace(range.find(".."), 2, ",");  // "-1..1" -> "-1,1", the spelling --range takes
  }
  if (given.count("mean")) {
    parse_rgb_triple(given["mean"], "--set-preprocess mean");
    metadata["kiln.mean"] = given["mean"];
  }
  if (given.count("std")) {
    for (float s : parse_rgb_triple(given["std"], "--set-preprocess std"))
      if (s == 0.f) fail_usage("bad --set-preprocess std '", given["std"], "': a standard deviation of 0 divides by zero");
    metadata["kiln.std"] = given["std"];
  }
  return metadata;
}

TensorLayout detect_input_layout(const TensorInfo& input) {
  std::string shape = input.shape_string();
  if (!input.has_shape || input.dims.size() != 4)
    fail("cannot tell the image layout of input '", input.name, "' from its shape ", shape,
         " (expected rank 4); pass --layout nhwc or --layout nchw");
  auto is_three = [](int64_t dim) { return dim == 3; };
  bool channels_last = is_three(input.dims[3]);
  bool channels_first = is_three(input.dims[1]);
  if (channels_last && channels_first)
    fail("input '", input.name, "' has shape ", shape, ": both dim 1 and the last dim are 3, so the layout is "
         "ambiguous; pass --layout nhwc or --layout nchw");
  if (!channels_last && !channels_first)
    fail("input '", input.name, "' has shape ", shape, ": neither dim 1 nor the last dim is 3, so kiln cannot tell "
         "where the RGB channels go; pass --layout nhwc or --layout nchw");
  return channels_last ? TensorLayout::kNHWC : TensorLayout::kNCHW;
}

OutputImageLayout detect_output_image(const Tensor& output, TensorLayout input_layout, const std::string& name) {
  const Shape& shape = output.shape();
  size_t rank = shape.size();
  bool image_rank = rank == 3 || (rank == 4 && shape[0] == 1);
  auto is_channels = [](int64_t dim) { return dim == 3 || dim == 1; };
  bool channels_last = image_rank && is_channels(shape[rank - 1]);
  bool channels_first = image_rank && is_channels(shape[rank - 3]);
  if (!channels_last && !channels_first)
    fail("output '", name, "' has shape ", shape_to_string(output.shape()),
         ", which is not an image (expected 1xHxWx3 or 1x3xHxW, or one channel: 1xHxWx1, 1x1xHxW or 1xHxW); "
         "--output-dir DIR writes the output tensors as .npy");
  TensorLayout layout = channels_last ? TensorLayout::kNHWC : TensorLayout::kNCHW;
  if (channels_last && channels_first) layout = input_layout;
  int channels = static_cast<int>(layout == TensorLayout::kNHWC ? shape[rank - 1] : shape[rank - 3]);
  return {layout, channels};
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec_a, ec_b;
  if (fs::exists(a, ec_a) && fs::exists(b, ec_b)) {
    std::error_code ec;
    return fs::equivalent(a, b, ec);
  }
  fs::path canonical_a = fs::weakly_canonical(fs::absolute(a), ec_a);
  fs::path canonical_b = fs::weakly_canonical(fs::absolute(b), ec_b);
  return !ec_a && !ec_b && canonical_a == canonical_b;
}

namespace {

// What the model wants: its image input and output, and how pixels become numbers.
struct ImageModel {
  std::string input_name;
  std::string output_name;                      // the first output
  std::vector<std::string> output_names;        // all of them, in the model's order
  ImageTensorFormat format;
  std::string layout_origin;                    // "from the model's shape 1xHxWx3" or "from --layout"
  std::optional<std::pair<int, int>> fixed_size;  // width, height when the model fixes both
  std::map<std::string, int64_t> dim_values;      // --dim
  std::vector<std::string> preprocess_origin;     // which of range, mean, std came from the model's metadata
};

std::string value_names(const std::vector<TensorInfo>& values) {
  std::string names;
  for (const TensorInfo& value : values) names += (names.empty() ? "" : ", ") + value.name;
  return names.empty() ? "none" : names;
}

ImageModel describe_image_model(const ImageRunArgs& args, const Model& parsed) {
  DescribeOptions declared_only;
  declared_only.infer_shapes = false;
  const ModelDescription g = parsed.describe(declared_only);
  if (g.inputs.size() != 1)
    fail("--image/--images need a model with exactly one input; ", args.model, " has ", g.inputs.size(), " (",
         value_names(g.inputs), ")");
  if (g.outputs.empty()) fail(args.model, " declares no outputs");
  const TensorInfo& input = g.inputs[0];
  if (input.dtype != DataType::kFloat32)
    fail("input '", input.name, "' is ", dtype_name(input.dtype), "; --image/--images feed float32 inputs only");

  ImageModel model;
  model.input_name = input.name;
  model.output_name = g.outputs[0].name;
  for (const TensorInfo& output : g.outputs) model.output_names.push_back(output.name);
  model.dim_values = args.dim_values;
  if (args.layout == "auto") {
    model.format.layout = detect_input_layout(input);
    model.layout_origin = "from the model's shape " + input.shape_string();
  } else {
    model.format.layout = parse_tensor_layout(args.layout);
    model.layout_origin = "from --layout";
  }
  // Each of range, mean and std: the flag, else the model's metadata (kiln
  // optimize --set-preprocess), else the default.
  auto from_metadata = [&](const char* key) -> std::string {
    auto it = g.metadata.find(key);
    return it == g.metadata.end() ? "" : it->second;
  };
  auto model_value = [&](const char* key, auto parse) {
    try {
      return parse(from_metadata(key));
    } catch (const Error& e) {
      fail(args.model, " has metadata ", key, "='", from_metadata(key), "' that kiln cannot use (", one_line(e.what()),
           "); pass the flag to override it");
    }
  };
  if (!args.range.empty()) {
    model.format.range = parse_range_option(args.range);
  } else if (!from_metadata("kiln.range").empty()) {
    model.format.range = model_value("kiln.range", parse_range_option);
    model.preprocess_origin.push_back("range");
  }
  if (!args.mean.empty()) {
    model.format.mean = parse_rgb_triple(args.mean, "--mean");
  } else if (!from_metadata("kiln.mean").empty()) {
    model.format.mean = model_value("kiln.mean", [](const std::string& t) { return parse_rgb_triple(t, "kiln.mean"); });
    model.preprocess_origin.push_back("mean");
  }
  if (!args.stddev.empty()) {
    model.format.stddev = parse_rgb_triple(args.stddev, "--std");
    for (float s : model.format.stddev)
      if (s == 0.f) fail_usage("bad --std '", args.stddev, "': a standard deviation of 0 divides by zero");
  } else if (!from_metadata("kiln.std").empty()) {
    model.format.stddev = model_value("kiln.std", [](const std::string& t) { return parse_rgb_triple(t, "kiln.std"); });
    for (float s : model.format.stddev)
      if (s == 0.f) fail(args.model, " has metadata kiln.std='", from_metadata("kiln.std"), "' with a 0, which divides by zero");
    model.preprocess_origin.push_back("std");
  }

  if (input.has_shape && input.dims.size() == 4) {
    bool nhwc = model.format.layout == TensorLayout::kNHWC;
    const int64_t height = input.dims[nhwc ? 1 : 2];
    const int64_t width = input.dims[nhwc ? 2 : 3];
    if (height > 0 && width > 0 && height <= kMaxImageDimension && width <= kMaxImageDimension)
      model.fixed_size = std::pair<int, int>{static_cast<int>(width), static_cast<int>(height)};
  }
  return model;
}

Shape image_input_shape(TensorLayout layout, int width, int height) {
  if (layout == TensorLayout::kNHWC) return {1, height, width, 3};
  return {1, 3, height, width};
}

std::string rgb_text(const std::array<float, 3>& values) {
  char text[96];
  std::snprintf(text, sizeof(text), "%g,%g,%g", values[0], values[1], values[2]);
  return text;
}

std::string format_text(const ImageModel& model) {
  std::string text = std::string(tensor_layout_name(model.format.layout)) + " (" + model.layout_origin + "), range " +
                     pixel_range_name(model.format.range) + ", mean " + rgb_text(model.format.mean) + ", std " +
                     rgb_text(model.format.stddev);
  if (!model.preprocess_origin.empty()) {
    std::string keys;
    for (const std::string& key : model.preprocess_origin) keys += (keys.empty() ? "kiln." : ", kiln.") + key;
    text += " (" + keys + " from the model's metadata)";
  }
  return text;
}

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
};

// Where the photo goes in the model's input, and so where the model's output
// goes back: the part of the photo the model sees (`source`, photo pixels) is
// resized to `target` inside an input of input_width x input_height; the rest
// of the input is padding, and the output's matching part is cut out and
// resized back to `source`'s size.
struct Placement {
  int input_width = 0, input_height = 0;
  Rect source;
  Rect target;
  std::string note;  // how the photo was fitted, for the report
};

// How a photo goes into a model input of another aspect (--fit).
enum class Fit { kStretch, kContain, kCover };

// The size the model sees: --size, else the model's fixed size, each reached
// as --fit says; else the photo's own size rounded up to what the model's
// shapes accept.
struct SizePolicy {
  std::optional<std::pair<int, int>> requested;
  std::optional<std::pair<int, int>> model_fixed;
  Fit fit = Fit::kContain;

  Placement for_image(const RgbImage& image, const Model& parsed, const ImageModel& model) const {
    return for_size(image.width, image.height, parsed, model);
  }

  Placement for_size(int image_width, int image_height, const Model& parsed, const ImageModel& model) const {
    struct {
      int width, height;
    } image{image_width, image_height};
    Placement placement;
    placement.source = {0, 0, image.width, image.height};
    std::optional<std::pair<int, int>> size = requested ? requested : model_fixed;
    if (!size) {
      auto [width, height] = accepted_size(image.width, image.height, parsed, model);
      placement.input_width = width, placement.input_height = height;
      placement.target = {0, 0, image.width, image.height};
      if (width != image.width || height != image.height)
        placement.note = "padded at the right and bottom: the smallest size the model's shapes accept";
      return placement;
    }
    const int tw = size->first, th = size->second;
    placement.input_width = tw, placement.input_height = th;
    placement.target = {0, 0, tw, th};
    auto dims = [](int w, int h) { return std::to_string(w) + "x" + std::to_string(h); };
    if (image.width * th == image.height * tw) {  // the same aspect: every fit is a plain resize
      placement.note = image.width == tw ? "" : "scaled";
      return placement;
    }
    switch (fit) {
      case Fit::kStretch:
        placement.note = "stretched: --fit stretch";
        break;
      case Fit::kContain: {
        const double scale = std::min(static_cast<double>(tw) / image.width, static_cast<double>(th) / image.height);
        const int w = std::clamp(static_cast<int>(std::lround(image.width * scale)), 1, tw);
        const int h = std::clamp(static_cast<int>(std::lround(image.height * scale)), 1, th);
        placement.target = {(tw - w) / 2, (th - h) / 2, w, h};
        placement.note = "--fit contain: scaled to " + dims(w, h) + ", padded";
        break;
      }
      case Fit::kCover: {
        const double scale = std::max(static_cast<double>(tw) / image.width, static_cast<double>(th) / image.height);
        const int w = std::clamp(static_cast<int>(std::lround(tw / scale)), 1, image.width);
        const int h = std::clamp(static_cast<int>(std::lround(th / scale)), 1, image.height);
        placement.source = {(image.width - w) / 2, (image.height - h) / 2, w, h};
        placement.note = "--fit cover: the middle " + dims(w, h) + " of the image, scaled";
        break;
      }
    }
    return placement;
  }

  // The smallest multiple of 1, 2, 4, ..., 64 at or above the photo's size at
  // which static shape inference accepts the model (a detector that adds
  // upsampled features to skip connections needs its side divisible by 32).
  // When none is accepted, the photo's own size: the run then reports why.
  // Remembered per photo size.
  std::pair<int, int> accepted_size(int width, int height, const Model& parsed, const ImageModel& model) const {
    auto known = accepted_.find({width, height});
    if (known != accepted_.end()) return known->second;
    std::pair<int, int> chosen{width, height};
    for (int multiple = 1; multiple <= 64; multiple *= 2) {
      int w = (width + multiple - 1) / multiple * multiple, h = (height + multiple - 1) / multiple * multiple;
      if (w > kMaxImageDimension || h > kMaxImageDimension) break;
      DescribeOptions options;
      options.input_shapes[model.input_name] = image_input_shape(model.format.layout, w, h);
      options.dim_values = model.dim_values;
      options.count_folded_macs = true;  // sizes computed by Shape chains only show up once folded
      ModelDescription described;
      try {
        described = parsed.describe(options);
      } catch (const Error&) {
        break;  // the shape itself is refused: the session will say why
      }
      if (described.shape_inference_error.empty() && described.folded_shape_inference_error.empty()) {
        chosen = {w, h};
        break;
      }
    }
    accepted_[{width, height}] = chosen;
    return chosen;
  }
  mutable std::map<std::pair<int, int>, std::pair<int, int>> accepted_;
};

// The model's input picture: the photo's `source` part resized into `target`,
// the padding around it repeating the nearest edge pixel (a flat border would
// be an edge the model reacts to).
RgbImage place_for_model(const RgbImage& image, const Placement& placement) {
  const Rect& source = placement.source;
  const Rect& target = placement.target;
  RgbImage part = image;
  if (source.x != 0 || source.y != 0 || source.width != image.width || source.height != image.height) {
    part = RgbImage(source.width, source.height);
    for (int y = 0; y < source.height; ++y)
      std::copy_n(image.pixel(source.x, source.y + y), static_cast<size_t>(source.width) * 3, part.pixel(0, y));
  }
  if (part.width != target.width || part.height != target.height) part = resize_image(part, target.width, target.height);
  if (target.x == 0 && target.y == 0 && target.width == placement.input_width &&
      target.height == placement.input_height)
    return part;
  RgbImage input(placement.input_width, placement.input_height);
  for (int y = 0; y < input.height; ++y)
    for (int x = 0; x < input.width; ++x) {
      int px = std::clamp(x - target.x, 0, target.width - 1), py = std::clamp(y - target.y, 0, target.height - 1);
      std::copy_n(part.pixel(px, py), 3, input.pixel(x, y));
    }
  return input;
}

// `target` (input pixels) in an output of out_width x out_height: outputs
// larger or smaller than the input (a model that upscales, or rounds up)
// scale it.
Rect output_region(const Placement& placement, int out_width, int out_height) {
  const double sx = static_cast<double>(out_width) / placement.input_width;
  const double sy = static_cast<double>(out_height) / placement.input_height;
  Rect region;
  region.x = std::clamp(static_cast<int>(std::lround(placement.target.x * sx)), 0, out_width - 1);
  region.y = std::clamp(static_cast<int>(std::lround(placement.target.y * sy)), 0, out_height - 1);
  region.width = std::clamp(static_cast<int>(std::lround(placement.target.width * sx)), 1, out_width - region.x);
  region.height = std::clamp(static_cast<int>(std::lround(placement.target.height * sy)), 1, out_height - region.y);
  return region;
}

// One session, rebuilt only when the image size changes (the input shape is
// fixed at build time so the memory plan applies), each from the model parsed
// once. A size whose session failed to build fails again at once, without
// rebuilding.
class SizedSession {
 public:
  SizedSession(const ImageRunArgs& args, const Model& parsed, const ImageModel& model)
      : args_(args), parsed_(parsed), model_(model) {}

  Session& for_size(int width, int height) {
    if (width != width_ || height != height_) {
      session_.reset();
      error_.clear();
      width_ = width;
      height_ = height;
      SessionOptions options;
      options.threads = args_.threads;
      options.opt_level = args_.opt_level;
      options.isa = args_.isa;
      options.max_memory_bytes = args_.max_memory_bytes;
      options.dim_values = args_.dim_values;
      options.input_shapes[model_.input_name] = image_input_shape(model_.format.layout, width, height);
      // Reports each node to the progress line of the run in flight, if any.
      options.node_observer = [this](const NodeRunInfo& node) {
        if (!progress_) return;
        std::vector<std::optional<Shape>> inputs, outputs;
        if (counts_macs(node.op_type)) {
          for (const Tensor* input : node.inputs)
            inputs.push_back(input ? std::optional<Shape>(input->shape()) : std::nullopt);
          for (const Tensor& output : node.outputs) outputs.push_back(output.shape());
        }
        progress_->node_done(counts_macs(node.op_type) ? count_macs(node.op_type, inputs, outputs).value_or(0) : 0);
      };
      Stopwatch clock;
      try {
        session_ = std::make_unique<Session>(Session::open(parsed_, options));
        print_memory_warning(*session_);
      } catch (const Error& e) {
        error_ = e.what();
      }
      last_build_ms_ = clock.milliseconds();
      ++builds_;
    }
    if (!session_) fail(error_);
    return *session_;
  }
  int builds() const { return builds_; }
  double last_build_ms() const { return last_build_ms_; }

  // Runs the session built last, showing per-node progress on a terminal when it takes long.
  NamedTensors run_with_progress(const NamedTensors& inputs) {
    Session& session = *session_;
    const int width = width_, height = height_;
    InferenceProgress progress(session.optimization_summary().nodes_after, [this, width, height] {
      DescribeOptions options;
      options.input_shapes[model_.input_name] = image_input_shape(model_.format.layout, width, height);
      options.dim_values = args_.dim_values;
      options.count_folded_macs = true;
      try {
        return parsed_.describe(options).folded_macs;
      } catch (const Error&) {
        return std::optional<int64_t>();
      }
    });
    progress_ = &progress;
    struct Reset {
      InferenceProgress** slot;
      ~Reset() { *slot = nullptr; }
    } reset{&progress_};
    return session.run(inputs);
  }

 private:
  const ImageRunArgs& args_;
  const Model& parsed_;
  const ImageModel& model_;
  std::unique_ptr<Session> session_;
  std::string error_;
  int width_ = 0, height_ = 0;
  int builds_ = 0;
  double last_build_ms_ = 0;
  InferenceProgress* progress_ = nullptr;  // the run in flight's, or none
};

struct StageTimes {
  double decode = 0, preprocess = 0, inference = 0, postprocess = 0, encode = 0;
  double total() const { return decode + preprocess + inference + postprocess + encode; }
};

// The model's first output as a picture: RGB, or grey for a one-channel map.
struct OutputPicture {
  bool gray = false;
  RgbImage rgb;
  GrayImage mono;
  GrayImage alpha;  // empty: none (the input had none and no --alpha-from-output)
  ConversionStats stats;
  int width() const { return gray ? mono.width : rgb.width; }
  int height() const { return gray ? mono.height : rgb.height; }
  // JPEG has no alpha: `alpha_dropped` is set when there was one to drop.
  void write(const std::string& path, bool* alpha_dropped = nullptr) const {
    const bool jpeg = image_format_from_path(path) == ImageFormat::kJpeg;
    if (alpha_dropped) *alpha_dropped = !alpha.empty() && jpeg;
    if (alpha.empty() || jpeg) {
      if (gray) write_gray_image(mono, path);
      else write_image(rgb, path);
      return;
    }
    if (!gray) return write_image_with_alpha(rgb, alpha, path);
    RgbImage grey_as_rgb(mono.width, mono.height);
    for (size_t i = 0; i < mono.pixels.size(); ++i) std::fill_n(&grey_as_rgb.pixels[i * 3], 3, mono.pixels[i]);
    write_image_with_alpha(grey_as_rgb, alpha, path);
  }
};

const Tensor& output_named(const NamedTensors& outputs, const std::string& name) {
  auto it = outputs.find(name);
  if (it == outputs.end()) fail("the session returned no value for output '", name, "'");
  return it->second;
}

const Tensor& first_output(const NamedTensors& outputs, const ImageModel& model) {
  return output_named(outputs, model.output_name);
}

// An output in the layout its shape says, in `format`'s range, mean and std.
// A one-channel output (a probability map, a mask, a matte) is converted by
// the range alone: mean and std describe the colour channels of the input.
OutputPicture output_picture(const Tensor& tensor, const std::string& name, const ImageModel& model,
                             std::string* shape_note) {
  ImageTensorFormat format = model.format;
  OutputImageLayout found = detect_output_image(tensor, model.format.layout, name);
  format.layout = found.layout;
  if (shape_note)
    *shape_note = name + " " + shape_to_string(tensor.shape()) + ", " + tensor_layout_name(format.layout) +
                  (found.channels == 1 ? ", grey" : "");
  OutputPicture picture;
  picture.gray = found.channels == 1;
  if (picture.gray) {
    format.mean = {0.f, 0.f, 0.f};
    format.stddev = {1.f, 1.f, 1.f};
    picture.mono = tensor_to_gray_image(tensor, format, &picture.stats);
  } else {
    picture.rgb = tensor_to_image(tensor, format, &picture.stats);
  }
  return picture;
}

OutputPicture output_picture(const NamedTensors& outputs, const ImageModel& model, std::string* shape_note) {
  return output_picture(first_output(outputs, model), model.output_name, model, shape_note);
}

GrayImage crop_gray(const GrayImage& image, const Rect& rect) {
  if (rect.x == 0 && rect.y == 0 && rect.width == image.width && rect.height == image.height) return image;
  GrayImage part(rect.width, rect.height);
  for (int y = 0; y < rect.height; ++y)
    std::copy_n(&image.pixels[static_cast<size_t>(rect.y + y) * image.width + rect.x], rect.width,
                &part.pixels[static_cast<size_t>(y) * rect.width]);
  return part;
}

OutputPicture mapped_back(const OutputPicture& picture, const Placement& placement);

// What is written for one image: the model's first output mapped back to the
// image, with the input's alpha passed through; or, with --alpha-from-output,
// the first one-channel output (0..1) as the alpha of the first three-channel
// output, or of the input image when the model has none (a cut-out).
OutputPicture result_picture(const NamedTensors& outputs, const ImageModel& model, const DecodedImage& decoded,
                             const Placement& placement, bool alpha_from_output, std::string* shape_note) {
  if (!alpha_from_output) {
    OutputPicture picture = mapped_back(output_picture(outputs, model, shape_note), placement);
    if (!decoded.alpha.empty()) picture.alpha = crop_gray(decoded.alpha, placement.source);
    return picture;
  }
  std::optional<OutputPicture> colour, matte;
  std::string colour_note, matte_note;
  for (const std::string& name : model.output_names) {
    const Tensor& tensor = output_named(outputs, name);
    std::optional<OutputImageLayout> layout;
    try {
      layout = detect_output_image(tensor, model.format.layout, name);
    } catch (const Error&) {
      continue;  // not an image: neither colour nor matte
    }
    if (layout->channels == 3 && !colour) {
      colour = mapped_back(output_picture(tensor, name, model, &colour_note), placement);
    } else if (layout->channels == 1 && !matte) {
      ImageModel zero_to_one = model;
      zero_to_one.format.range = PixelRange::kZeroToOne;
      matte = mapped_back(output_picture(tensor, name, zero_to_one, &matte_note), placement);
    }
  }
  if (!matte)
    fail("--alpha-from-output needs a one-channel output (a mask or matte, 1x1xHxW or 1xHxWx1); the model's "
         "outputs have none");
  OutputPicture picture;
  if (colour) {
    picture = *colour;
  } else {
    Rect whole{0, 0, decoded.rgb.width, decoded.rgb.height};
    picture.rgb = decoded.rgb;
    if (placement.source.width != whole.width || placement.source.height != whole.height) {
      picture.rgb = RgbImage(placement.source.width, placement.source.height);
      for (int y = 0; y < placement.source.height; ++y)
        std::copy_n(decoded.rgb.pixel(placement.source.x, placement.source.y + y),
                    static_cast<size_t>(placement.source.width) * 3, picture.rgb.pixel(0, y));
    }
    colour_note = "the input image";
  }
  picture.alpha = matte->mono;  // picture.stats stay the colour output's: the matte is read as 0..1 whatever --range says
  if (shape_note) *shape_note = colour_note + "; alpha from " + matte_note;
  return picture;
}

// A picture is suspect when more than this share of its values were clipped
// at the conversion to 8 bits: a few saturated highlights are normal, half
// the picture black is the wrong --range.
constexpr double kClippedShareWarning = 0.03;

// The --range whose values hold [lo, hi] (with 2% of slack for overshoot),
// the narrowest first; nullopt when none does.
std::optional<PixelRange> range_that_fits(float lo, float hi) {
  struct Candidate {
    PixelRange range;
    float low, high;
  };
  for (const Candidate& c : {Candidate{PixelRange::kZeroToOne, 0.f, 1.f}, Candidate{PixelRange::kMinusOneToOne, -1.f, 1.f},
                             Candidate{PixelRange::kZeroTo255, 0.f, 255.f}}) {
    const float slack = 0.02f * (c.high - c.low);
    if (lo >= c.low - slack && hi <= c.high + slack) return c.range;
  }
  return std::nullopt;
}

// How to spell the range on the command line ("--range=-1,1": a value that
// starts with '-' needs the '=').
std::string range_flag(PixelRange range) {
  switch (range) {
    case PixelRange::kMinusOneToOne: return "--range=-1,1";
    case PixelRange::kZeroToOne: return "--range 0,1";
    case PixelRange::kZeroTo255: return "--range 0,255";
  }
  return "";
}

// The warning for an output whose values did not fit the range it was read
// with, or "" when it fits.
std::string clipping_warning(const ConversionStats& stats, PixelRange range, const std::string& what) {
  if (stats.values == 0) return "";
  const double share = static_cast<double>(stats.clipped) / static_cast<double>(stats.values);
  char text[512];
  std::optional<PixelRange> fits = range_that_fits(stats.min, stats.max);
  if (share <= kClippedShareWarning) {
    // Nothing clipped, but a model giving -1..1 or 0..1 read as 0..255 is a black picture.
    if (range != PixelRange::kZeroTo255 || !fits || *fits == range || stats.max <= stats.min) return "";
    std::snprintf(text, sizeof(text), "%s's values span only %g..%g, 2 of the 255 steps of %s: the picture is "
                  "nearly black; %s would hold them", what.c_str(), stats.min, stats.max, range_flag(range).c_str(),
                  range_flag(*fits).c_str());
    return text;
  }
  std::snprintf(text, sizeof(text),
                "%.1f%% of %s's values (%zu of %zu) fell outside %s and were clipped to 0 or 255; they span "
                "%g..%g",
                100 * share, what.c_str(), stats.clipped, stats.values, range_flag(range).c_str(), stats.min,
                stats.max);
  std::string warning = text;
  if (fits && *fits != range) warning += ", which " + range_flag(*fits) + " would hold";
  if (!fits) warning += ", more than any --range (-1,1, 0,1 or 0,255) holds";
  return warning;
}

// --output-dir with --image: every output tensor as DIR/<sanitized name>.npy.
void save_output_tensors(const std::string& dir, const NamedTensors& outputs) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    fail("cannot create --output-dir '", dir, "': ", ec ? ec.message() : "a file of that name exists");
  std::map<std::string, std::string> owner_of_file;
  for (const auto& [name, tensor] : outputs) {
    std::string file = sanitize_file_name(name) + ".npy";
    auto [it, inserted] = owner_of_file.emplace(file, name);
    if (!inserted)
      fail("outputs '", it->second, "' and '", name, "' would both be written to ", file,
           " (characters outside [A-Za-z0-9._-] become '_')");
    std::string path = (fs::path(dir) / file).string();
    save_npy(path, tensor);
    std::printf("tensor       %s %s %s saved to %s\n", name.c_str(), dtype_name(tensor.dtype()),
                shape_to_string(tensor.shape()).c_str(), path.c_str());
  }
}

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Checks before any work that `path` can be written: its folder exists and is
// writable, and it is not a folder itself.
void check_output_path(const std::string& path, const std::string& option) {
  image_format_from_path(path);  // an unknown extension fails first
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail(option, " '", path, "' is a directory; it names the output file");
  fs::path folder = fs::path(path).parent_path();
  if (folder.empty()) folder = ".";
  if (!fs::is_directory(folder, ec))
    fail(option, " '", path, "': the folder '", folder.string(), "' does not exist");
  if (::access(folder.c_str(), W_OK) != 0)
    fail(option, " '", path, "': the folder '", folder.string(), "' is not writable (", std::strerror(errno), ")");
}

// The output picture cut to the part that shows the photo and resized back to
// that part's size in the photo (the photo's own size unless --fit cover cropped it).
OutputPicture mapped_back(const OutputPicture& picture, const Placement& placement) {
  const Rect region = output_region(placement, picture.width(), picture.height());
  const int width = placement.source.width, height = placement.source.height;
  OutputPicture mapped = picture;
  const bool whole = region.x == 0 && region.y == 0 && region.width == picture.width() &&
                     region.height == picture.height();
  if (picture.gray) {
    if (!whole) {
      mapped.mono = GrayImage(region.width, region.height);
      for (int y = 0; y < region.height; ++y)
        std::copy_n(&picture.mono.pixels[static_cast<size_t>(region.y + y) * picture.mono.width + region.x],
                    region.width, &mapped.mono.pixels[static_cast<size_t>(y) * region.width]);
    }
    if (mapped.mono.width != width || mapped.mono.height != height)
      mapped.mono = resize_gray_image(mapped.mono, width, height);
  } else {
    if (!whole) {
      mapped.rgb = RgbImage(region.width, region.height);
      for (int y = 0; y < region.height; ++y)
        std::copy_n(picture.rgb.pixel(region.x, region.y + y), static_cast<size_t>(region.width) * 3,
                    mapped.rgb.pixel(0, y));
    }
    if (mapped.rgb.width != width || mapped.rgb.height != height) mapped.rgb = resize_image(mapped.rgb, width, height);
  }
  return mapped;
}

// --overlay: the text boxes of a one-channel probability map drawn on the
// photo, over a light tint where the map is above the threshold.
struct Overlay {
  RgbImage image;
  std::vector<TextBox> boxes;  // in photo pixels
};

Overlay overlay_text_boxes(const RgbImage& photo, const Tensor& map, const OutputImageLayout& layout,
                           const Placement& placement, const TextBoxOptions& options) {
  if (layout.channels != 1)
    fail("--overlay needs a one-channel output (a probability map); this output has ", layout.channels,
         " channels");
  const Shape& shape = map.shape();
  const size_t rank = shape.size();
  const int map_height = static_cast<int>(layout.layout == TensorLayout::kNHWC ? shape[rank - 3] : shape[rank - 2]);
  const int map_width = static_cast<int>(layout.layout == TensorLayout::kNHWC ? shape[rank - 2] : shape[rank - 1]);
  const float* values = map.data<float>();  // one channel: the same order in either layout
  const Rect region = output_region(placement, map_width, map_height);
  const Rect& source = placement.source;
  // Map pixel -> photo pixel, through the part of the map that shows the photo.
  const double sx = static_cast<double>(source.width) / region.width;
  const double sy = static_cast<double>(source.height) / region.height;

  Overlay overlay{photo, {}};
  for (int y = 0; y < source.height; ++y)
    for (int x = 0; x < source.width; ++x) {
      int mx = std::min(region.x + static_cast<int>((x + 0.5) / sx), map_width - 1);
      int my = std::min(region.y + static_cast<int>((y + 0.5) / sy), map_height - 1);
      if (!(values[static_cast<size_t>(my) * map_width + mx] > options.threshold)) continue;
      uint8_t* p = overlay.image.pixel(source.x + x, source.y + y);
      p[0] = static_cast<uint8_t>(p[0] * 0.65 + 255 * 0.35);
      p[1] = static_cast<uint8_t>(p[1] * 0.65 + 210 * 0.35);
      p[2] = static_cast<uint8_t>(p[2] * 0.65);
    }
  const uint8_t red[3] = {220, 20, 30};
  const int thickness = std::max(2, std::min(photo.width, photo.height) / 300);
  for (const TextBox& box : find_text_boxes(values, map_width, map_height, options)) {
    TextBox on_photo{source.x + (box.x0 - region.x) * sx, source.y + (box.y0 - region.y) * sy,
                     source.x + (box.x1 - region.x) * sx, source.y + (box.y1 - region.y) * sy, box.score};
    on_photo.x0 = std::clamp(on_photo.x0, 0.0, double(photo.width)), on_photo.x1 = std::clamp(on_photo.x1, 0.0, double(photo.width));
    on_photo.y0 = std::clamp(on_photo.y0, 0.0, double(photo.height)), on_photo.y1 = std::clamp(on_photo.y1, 0.0, double(photo.height));
    if (on_photo.x1 - on_photo.x0 < 1 || on_photo.y1 - on_photo.y0 < 1) continue;  // in the padding
    // The outline goes around the box, not over the text's edge.
    draw_rectangle(overlay.image, static_cast<int>(std::lround(on_photo.x0)) - thickness,
                   static_cast<int>(std::lround(on_photo.y0)) - thickness,
                   static_cast<int>(std::lround(on_photo.x1)) + thickness,
                   static_cast<int>(std::lround(on_photo.y1)) + thickness, thickness, red);
    overlay.boxes.push_back(on_photo);
  }
  return overlay;
}

int run_single_image(const ImageRunArgs& args, const Model& parsed, const ImageModel& model,
                     const SizePolicy& sizes) {
  if (args.out.empty() && args.overlay.empty())
    fail("--image needs --out FILE or --overlay FILE (.png, .jpg, .jpeg or .bmp)");
  if (!args.format.empty()) fail("--format is for --images; with --image the extension of --out sets the format");
  for (const auto& [option, path] : {std::pair<const char*, const std::string&>{"--out", args.out},
                                     std::pair<const char*, const std::string&>{"--overlay", args.overlay}}) {
    if (path.empty()) continue;
    check_output_path(path, option);
    if (same_file(path, args.image))
      fail(option, " '", path, "' is the input image '", args.image, "'; kiln never overwrites its input");
  }
  if (!args.out.empty() && !args.overlay.empty() && same_file(args.out, args.overlay))
    fail("--out and --overlay name the same file '", args.out, "'");

  StageTimes times;
  Stopwatch decode_clock;
  DecodedImage decoded = read_image_details(args.image);
  const RgbImage& image = decoded.rgb;
  times.decode = decode_clock.milliseconds();

  Placement placement = sizes.for_image(image, parsed, model);
  SizedSession sessions(args, parsed, model);
  sessions.for_size(placement.input_width, placement.input_height);

  Stopwatch preprocess_clock;
  NamedTensors inputs;
  inputs.emplace(model.input_name, image_to_tensor(place_for_model(image, placement), model.format));
  times.preprocess = preprocess_clock.milliseconds();

  std::vector<double> run_ms;
  NamedTensors outputs;
  for (int i = 0; i < args.runs; ++i) {
    Stopwatch run_clock;
    outputs = sessions.run_with_progress(inputs);
    run_ms.push_back(run_clock.milliseconds());
  }
  times.inference = run_ms.back();

  Stopwatch postprocess_clock;
  std::string output_note;
  OutputPicture result = result_picture(outputs, model, decoded, placement, args.alpha_from_output, &output_note);
  std::optional<Overlay> overlay;
  if (!args.overlay.empty()) {
    const Tensor& map = first_output(outputs, model);
    TextBoxOptions options;
    options.threshold = static_cast<float>(args.threshold);
    overlay = overlay_text_boxes(image, map, detect_output_image(map, model.format.layout, model.output_name),
                                 placement, options);
  }
  times.postprocess = postprocess_clock.milliseconds();

  Stopwatch encode_clock;
  bool alpha_dropped = false;
  if (!args.out.empty()) result.write(args.out, &alpha_dropped);
  if (overlay) write_image(overlay->image, args.overlay);
  times.encode = encode_clock.milliseconds();

  std::printf("model        %s\n", args.model.c_str());
  std::printf("settings     %s\n", args.settings_line.c_str());
  std::printf("input        %s %s %s\n", model.input_name.c_str(),
              shape_to_string(image_input_shape(model.format.layout, placement.input_width, placement.input_height))
                  .c_str(),
              format_text(model).c_str());
  std::printf("image        %s %dx%d -> %dx%d%s\n", args.image.c_str(), image.width, image.height,
              placement.input_width, placement.input_height,
              placement.note.empty() ? "" : (" (" + placement.note + ")").c_str());
  if (decoded.exif_orientation != 1)
    std::printf("             EXIF orientation %d: %s, turned upright\n", decoded.exif_orientation,
                exif_orientation_name(decoded.exif_orientation));
  std::printf("session      created in %.2f ms\n", sessions.last_build_ms());
  std::printf("decode       %.2f ms\n", times.decode);
  std::printf("preprocess   %.2f ms\n", times.preprocess);
  if (args.runs == 1) {
    std::printf("inference    %.2f ms\n", times.inference);
  } else {
    std::printf("inference    %.2f ms median of %d runs (first %.2f ms, min %.2f ms)\n", median_of(run_ms), args.runs,
                run_ms.front(), *std::min_element(run_ms.begin(), run_ms.end()));
  }
  std::printf("postprocess  %.2f ms\n", times.postprocess);
  std::printf("encode       %.2f ms\n", times.encode);
  std::printf("total        %.2f ms (the last run; session creation not included)\n", times.total());
  if (!args.out.empty())
    std::printf("output       %s %dx%d%s (%s)\n", args.out.c_str(), result.width(), result.height(),
                result.alpha.empty() || alpha_dropped ? "" : " with alpha", output_note.c_str());
  std::string clipped = clipping_warning(result.stats, model.format.range, "the output");
  if (!clipped.empty()) std::fprintf(stderr, "kiln: warning: %s\n", clipped.c_str());
  if (alpha_dropped)
    std::fprintf(stderr, "kiln: warning: %s is a JPEG, which has no alpha channel: the alpha is dropped; write a .png "
                 "or .bmp to keep it\n", args.out.c_str());
  if (overlay) {
    std::printf("overlay      %s %dx%d: %zu text boxes (map > %g, mean > %g)\n", args.overlay.c_str(),
                overlay->image.width, overlay->image.height, overlay->boxes.size(), args.threshold,
                TextBoxOptions().box_threshold);
    for (const TextBox& box : overlay->boxes)
      std::printf("box          %ld %ld %ld %ld score %.3f\n", std::lround(box.x0), std::lround(box.y0),
                  std::lround(box.x1), std::lround(box.y1), box.score);
  }
  if (!args.output_dir.empty()) save_output_tensors(args.output_dir, outputs);
  return 0;
}

bool is_image_extension(std::string extension) {
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" || extension == ".bmp";
}

// Regular files with an image extension directly in `dir`, sorted by name.
std::vector<fs::path> list_images(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("--images '", dir, "' is not a directory");
  std::vector<fs::path> images;
  fs::directory_iterator it(dir, ec);
  if (ec) fail("cannot list --images '", dir, "': ", ec.message());
  for (const fs::directory_entry& entry : it) {
    std::error_code type_ec;
    if (entry.is_regular_file(type_ec) && is_image_extension(entry.path().extension().string()))
      images.push_back(entry.path());
  }
  std::sort(images.begin(), images.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  if (images.empty()) fail("no .png, .jpg, .jpeg or .bmp files in --images '", dir, "'");
  return images;
}

struct Failure {
  std::string image;
  std::string reason;
};

int run_image_folder(const ImageRunArgs& args, const Model& parsed, const ImageModel& model,
                     const SizePolicy& sizes) {
  if (args.out.empty()) fail("--images needs --out DIR (created if needed)");
  if (args.runs != 1) fail("--runs is for --image; --images runs each image once");
  if (!args.output_dir.empty()) fail("--output-dir is for --image; with --images, --out DIR gets the images");
  if (!args.overlay.empty()) fail("--overlay is for --image");
  std::string extension = args.format.empty() ? "png" : args.format;
  if (!extension.empty() && extension[0] == '.') extension.erase(0, 1);
  try {
    image_format_from_path("x." + extension);
  } catch (const Error&) {
    fail_usage("bad --format '", args.format, "': use png, jpg, jpeg or bmp");
  }
  std::vector<fs::path> images = list_images(args.images_dir);
  if (same_file(args.out, args.images_dir))
    fail("--out '", args.out, "' is the --images folder; kiln never overwrites its inputs, choose another folder");

  // Output names: stem + extension; two inputs with one stem would overwrite each other.
  std::vector<fs::path> out_paths;
  std::map<std::string, std::string> input_of_output;
  for (const fs::path& image : images) {
    std::string file = image.stem().string() + "." + extension;
    auto [it, inserted] = input_of_output.emplace(file, image.filename().string());
    if (!inserted)
      fail("'", it->second, "' and '", image.filename().string(), "' would both be written to ", file,
           " in --out; rename one of them");
    out_paths.push_back(fs::path(args.out) / file);
  }
  std::error_code ec;
  fs::create_directories(args.out, ec);
  if (ec || !fs::is_directory(args.out))
    fail("cannot create --out folder '", args.out, "': ", ec ? ec.message() : "a file of that name exists");

  std::printf("model        %s\n", args.model.c_str());
  std::printf("input        %s %s\n", model.input_name.c_str(), format_text(model).c_str());
  std::printf("images       %zu in %s -> %s/*.%s\n", images.size(), args.images_dir.c_str(), args.out.c_str(),
              extension.c_str());
  std::printf("settings     %s\n", args.settings_line.c_str());
  if (::access(args.out.c_str(), W_OK) != 0)
    fail("--out folder '", args.out, "' is not writable (", std::strerror(errno), ")");

  // An output that exists was made by an earlier run: skipped unless --overwrite.
  std::vector<size_t> todo;
  size_t skipped = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    std::error_code exists_ec;
    if (fs::is_directory(out_paths[i], exists_ec))
      fail("'", out_paths[i].string(), "' is a folder; kiln cannot write ", images[i].filename().string(),
           "'s output there");
    if (!args.overwrite && fs::exists(out_paths[i], exists_ec)) {
      ++skipped;
      continue;
    }
    todo.push_back(i);
  }
  if (skipped > 0)
    std::printf("skipped      %zu of %zu images: their output exists in %s (--overwrite redoes them)\n", skipped,
                images.size(), args.out.c_str());

  // One session per model input size: the images are taken size by size (the
  // sizes in the order their first image comes by name), sized from their
  // headers. One whose header cannot be read keeps its place; decoding it
  // below reports why.
  std::vector<std::pair<int, int>> input_size(images.size(), {0, 0});
  for (size_t i : todo) {
    try {
      ImageInfo info = read_image_info(images[i].string());
      Placement placement = sizes.for_size(info.width, info.height, parsed, model);
      input_size[i] = {placement.input_width, placement.input_height};
    } catch (const Error&) {
    }
  }
  std::map<std::pair<int, int>, size_t> group_of_size;
  for (size_t i : todo) group_of_size.emplace(input_size[i], group_of_size.size());
  std::stable_sort(todo.begin(), todo.end(), [&](size_t a, size_t b) {
    return group_of_size[input_size[a]] < group_of_size[input_size[b]];
  });
  std::fflush(stdout);

  SizedSession sessions(args, parsed, model);
  FolderProgress progress(todo.size(), FolderProgress::stderr_is_terminal());
  std::vector<Failure> failures;
  std::vector<double> image_ms, inference_ms;
  StageTimes sum;
  double session_ms = 0;
  size_t alpha_dropped_count = 0;
  ConversionStats all_stats;  // over every image's output
  Stopwatch all_clock;
  for (size_t n = 0; n < todo.size(); ++n) {
    const size_t i = todo[n];
    std::string name = images[i].filename().string();
    Stopwatch image_clock;
    try {
      StageTimes times;
      Stopwatch clock;
      DecodedImage decoded = read_image_details(images[i].string());
      const RgbImage& image = decoded.rgb;
      times.decode = clock.milliseconds();

      Placement placement = sizes.for_image(image, parsed, model);
      int builds_before = sessions.builds();
      Session& session = sessions.for_size(placement.input_width, placement.input_height);
      if (sessions.builds() != builds_before) session_ms += sessions.last_build_ms();

      clock = Stopwatch();
      NamedTensors inputs;
      inputs.emplace(model.input_name, image_to_tensor(place_for_model(image, placement), model.format));
      times.preprocess = clock.milliseconds();

      clock = Stopwatch();
      NamedTensors outputs = session.run(inputs);
      times.inference = clock.milliseconds();

      clock = Stopwatch();
      OutputPicture result = result_picture(outputs, model, decoded, placement, args.alpha_from_output, nullptr);
      times.postprocess = clock.milliseconds();

      clock = Stopwatch();
      std::error_code exists_ec;
      bool out_exists = fs::exists(out_paths[i], exists_ec);
      for (const fs::path& input : images)
        if (out_exists && same_file(out_paths[i].string(), input.string()))
          fail("'", out_paths[i].string(), "' is the input '", input.string(), "'; kiln never overwrites its inputs");
      if (result.stats.values > 0) {
        all_stats.min = all_stats.values ? std::min(all_stats.min, result.stats.min) : result.stats.min;
        all_stats.max = all_stats.values ? std::max(all_stats.max, result.stats.max) : result.stats.max;
        all_stats.values += result.stats.values;
        all_stats.clipped += result.stats.clipped;
      }
      bool alpha_dropped = false;
      result.write(out_paths[i].string(), &alpha_dropped);
      alpha_dropped_count += alpha_dropped;
      times.encode = clock.milliseconds();

      sum.decode += times.decode;
      sum.preprocess += times.preprocess;
      sum.inference += times.inference;
      sum.postprocess += times.postprocess;
      sum.encode += times.encode;
      inference_ms.push_back(times.inference);
      image_ms.push_back(image_clock.milliseconds());
      char note[160];
      std::snprintf(note, sizeof(note), "%dx%d -> %dx%d", image.width, image.height, result.width(), result.height());
      progress.item_done(n, image_ms.back(), name + " " + note);
    } catch (const std::exception& e) {
      std::string reason = dynamic_cast<const std::bad_alloc*>(&e) ? "out of memory" : one_line(e.what());
      failures.push_back({name, reason});
      progress.message("failed: " + name + ": " + reason);
      progress.item_done(n, image_clock.milliseconds(), name + " FAILED");
    }
  }
  double all_s = all_clock.milliseconds() / 1000.0;
  progress.finish();

  size_t done = image_ms.size();
  std::printf("sessions     %d created in %.2f ms (one per model input size)\n", sessions.builds(), session_ms);
  if (done > 0) {
    double n = static_cast<double>(done);
    std::printf("per image    median %.2f ms; mean decode %.2f, preprocess %.2f, inference %.2f (median %.2f), "
                "postprocess %.2f, encode %.2f ms\n",
                median_of(image_ms), sum.decode / n, sum.preprocess / n, sum.inference / n, median_of(inference_ms),
                sum.postprocess / n, sum.encode / n);
  }
  std::printf("done         %zu of %zu images in %.2f s: %.2f images/s, %.2f ms per image%s\n", done, todo.size(),
              all_s, all_s > 0 ? static_cast<double>(done) / all_s : 0.0,
              done > 0 ? all_s * 1000 / static_cast<double>(done) : 0.0,
              skipped > 0 ? (" (" + std::to_string(skipped) + " skipped)").c_str() : "");
  std::fflush(stdout);
  std::string clipped = clipping_warning(all_stats, model.format.range, "the outputs");
  if (!clipped.empty()) std::fprintf(stderr, "kiln: warning: %s\n", clipped.c_str());
  if (alpha_dropped_count > 0)
    std::fprintf(stderr, "kiln: warning: %zu images had an alpha channel that JPEG cannot hold: dropped; "
                 "--format png keeps it\n", alpha_dropped_count);
  if (failures.empty()) return 0;
  std::fprintf(stderr, "kiln: error: %zu of %zu images failed:\n", failures.size(), todo.size());
  for (const Failure& failure : failures)
    std::fprintf(stderr, "  %s: %s\n", failure.image.c_str(), failure.reason.c_str());
  return 1;
}

}  // namespace

int run_image_model(const ImageRunArgs& args) {
  if (args.image.empty() == args.images_dir.empty()) fail("give one of --image FILE or --images DIR");
  const Model parsed = Model::open(args.model);
  ImageModel model = describe_image_model(args, parsed);
  SizePolicy sizes;
  if (!args.size.empty()) sizes.requested = parse_image_size(args.size);
  if (args.fit == "stretch") sizes.fit = Fit::kStretch;
  else if (args.fit == "cover") sizes.fit = Fit::kCover;
  else if (args.fit == "contain") sizes.fit = Fit::kContain;
  else fail_usage("bad --fit '", args.fit, "': use stretch, contain or cover");
  sizes.model_fixed = model.fixed_size;
  if (!args.image.empty()) return run_single_image(args, parsed, model, sizes);
  return run_image_folder(args, parsed, model, sizes);
}

}  // namespace kiln::cli
