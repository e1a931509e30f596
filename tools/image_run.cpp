#include "tools/image_run.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <vector>

#include "kiln/error.h"
#include "kiln/model_info.h"
#include "kiln/tensor_io.h"
#include "tools/cli_common.h"
#include "tools/folder_progress.h"

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
  std::string output_name;
  ImageTensorFormat format;
  std::string layout_origin;                    // "from the model's shape 1xHxWx3" or "from --layout"
  std::optional<std::pair<int, int>> fixed_size;  // width, height when the model fixes both
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
  if (args.layout == "auto") {
    model.format.layout = detect_input_layout(input);
    model.layout_origin = "from the model's shape " + input.shape_string();
  } else {
    model.format.layout = parse_tensor_layout(args.layout);
    model.layout_origin = "from --layout";
  }
  model.format.range = parse_range_option(args.range);
  if (!args.mean.empty()) model.format.mean = parse_rgb_triple(args.mean, "--mean");
  if (!args.stddev.empty()) model.format.stddev = parse_rgb_triple(args.stddev, "--std");
  for (float s : model.format.stddev)
    if (s == 0.f) fail_usage("bad --std '", args.stddev, "': a standard deviation of 0 divides by zero");

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
  return std::string(tensor_layout_name(model.format.layout)) + " (" + model.layout_origin + "), range " +
         pixel_range_name(model.format.range) + ", mean " + rgb_text(model.format.mean) + ", std " +
         rgb_text(model.format.stddev);
}

// The size the model sees: --size, else the model's fixed size, else the image's own.
struct SizePolicy {
  std::optional<std::pair<int, int>> requested;
  std::optional<std::pair<int, int>> model_fixed;
  std::pair<int, int> for_image(const RgbImage& image) const {
    if (requested) return *requested;
    if (model_fixed) return *model_fixed;
    return {image.width, image.height};
  }
};

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

 private:
  const ImageRunArgs& args_;
  const Model& parsed_;
  const ImageModel& model_;
  std::unique_ptr<Session> session_;
  std::string error_;
  int width_ = 0, height_ = 0;
  int builds_ = 0;
  double last_build_ms_ = 0;
};

struct StageTimes {
  double decode = 0, preprocess = 0, inference = 0, postprocess = 0, encode = 0;
  double total() const { return decode + preprocess + inference + postprocess + encode; }
};

RgbImage resized_for_model(const RgbImage& image, std::pair<int, int> size) {
  if (image.width == size.first && image.height == size.second) return image;
  return resize_image(image, size.first, size.second);
}

// The model's first output as a picture: RGB, or grey for a one-channel map.
struct OutputPicture {
  bool gray = false;
  RgbImage rgb;
  GrayImage mono;
  ConversionStats stats;
  int width() const { return gray ? mono.width : rgb.width; }
  int height() const { return gray ? mono.height : rgb.height; }
  void write(const std::string& path) const {
    if (gray) write_gray_image(mono, path);
    else write_image(rgb, path);
  }
};

const Tensor& first_output(const NamedTensors& outputs, const ImageModel& model) {
  auto it = outputs.find(model.output_name);
  if (it == outputs.end()) fail("the session returned no value for output '", model.output_name, "'");
  return it->second;
}

// The output in the layout its shape says, in `format`'s range, mean and std.
OutputPicture output_picture(const NamedTensors& outputs, const ImageModel& model, std::string* shape_note) {
  const Tensor& tensor = first_output(outputs, model);
  ImageTensorFormat format = model.format;
  OutputImageLayout found = detect_output_image(tensor, model.format.layout, model.output_name);
  format.layout = found.layout;
  if (shape_note)
    *shape_note = model.output_name + " " + shape_to_string(tensor.shape()) + ", " + tensor_layout_name(format.layout) +
                  (found.channels == 1 ? ", grey" : "");
  OutputPicture picture;
  picture.gray = found.channels == 1;
  if (picture.gray) picture.mono = tensor_to_gray_image(tensor, format, &picture.stats);
  else picture.rgb = tensor_to_image(tensor, format, &picture.stats);
  return picture;
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

int run_single_image(const ImageRunArgs& args, const Model& parsed, const ImageModel& model,
                     const SizePolicy& sizes) {
  if (args.out.empty()) fail("--image needs --out FILE (.png, .jpg, .jpeg or .bmp)");
  if (!args.format.empty()) fail("--format is for --images; with --image the extension of --out sets the format");
  image_format_from_path(args.out);  // an unknown extension fails before any work
  if (fs::is_directory(args.out)) fail("--out '", args.out, "' is a directory; with --image it names the output file");
  if (same_file(args.out, args.image))
    fail("--out '", args.out, "' is the input image '", args.image, "'; kiln never overwrites its input");

  StageTimes times;
  Stopwatch decode_clock;
  RgbImage image = read_image(args.image);
  times.decode = decode_clock.milliseconds();

  std::pair<int, int> size = sizes.for_image(image);
  SizedSession sessions(args, parsed, model);
  Session& session = sessions.for_size(size.first, size.second);

  Stopwatch preprocess_clock;
  NamedTensors inputs;
  inputs.emplace(model.input_name, image_to_tensor(resized_for_model(image, size), model.format));
  times.preprocess = preprocess_clock.milliseconds();

  std::vector<double> run_ms;
  NamedTensors outputs;
  for (int i = 0; i < args.runs; ++i) {
    Stopwatch run_clock;
    outputs = session.run(inputs);
    run_ms.push_back(run_clock.milliseconds());
  }
  times.inference = run_ms.back();

  Stopwatch postprocess_clock;
  std::string output_note;
  OutputPicture result = output_picture(outputs, model, &output_note);
  times.postprocess = postprocess_clock.milliseconds();

  Stopwatch encode_clock;
  result.write(args.out);
  times.encode = encode_clock.milliseconds();

  std::printf("model        %s\n", args.model.c_str());
  std::printf("settings     %s\n", args.settings_line.c_str());
  std::printf("input        %s %s %s\n", model.input_name.c_str(),
              shape_to_string(image_input_shape(model.format.layout, size.first, size.second)).c_str(),
              format_text(model).c_str());
  std::printf("image        %s %dx%d -> %dx%d\n", args.image.c_str(), image.width, image.height, size.first,
              size.second);
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
  std::printf("output       %s %dx%d (%s)\n", args.out.c_str(), result.width(), result.height(),
              output_note.c_str());
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
  std::fflush(stdout);

  SizedSession sessions(args, parsed, model);
  FolderProgress progress(images.size(), FolderProgress::stderr_is_terminal());
  std::vector<Failure> failures;
  std::vector<double> image_ms, inference_ms;
  StageTimes sum;
  double session_ms = 0;
  Stopwatch all_clock;
  for (size_t i = 0; i < images.size(); ++i) {
    std::string name = images[i].filename().string();
    Stopwatch image_clock;
    try {
      StageTimes times;
      Stopwatch clock;
      RgbImage image = read_image(images[i].string());
      times.decode = clock.milliseconds();

      std::pair<int, int> size = sizes.for_image(image);
      int builds_before = sessions.builds();
      Session& session = sessions.for_size(size.first, size.second);
      if (sessions.builds() != builds_before) session_ms += sessions.last_build_ms();

      clock = Stopwatch();
      NamedTensors inputs;
      inputs.emplace(model.input_name, image_to_tensor(resized_for_model(image, size), model.format));
      times.preprocess = clock.milliseconds();

      clock = Stopwatch();
      NamedTensors outputs = session.run(inputs);
      times.inference = clock.milliseconds();

      clock = Stopwatch();
      OutputPicture result = output_picture(outputs, model, nullptr);
      times.postprocess = clock.milliseconds();

      clock = Stopwatch();
      std::error_code exists_ec;
      bool out_exists = fs::exists(out_paths[i], exists_ec);
      for (const fs::path& input : images)
        if (out_exists && same_file(out_paths[i].string(), input.string()))
          fail("'", out_paths[i].string(), "' is the input '", input.string(), "'; kiln never overwrites its inputs");
      result.write(out_paths[i].string());
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
      progress.item_done(i, image_ms.back(), name + " " + note);
    } catch (const std::exception& e) {
      std::string reason = dynamic_cast<const std::bad_alloc*>(&e) ? "out of memory" : one_line(e.what());
      failures.push_back({name, reason});
      progress.message("failed: " + name + ": " + reason);
      progress.item_done(i, image_clock.milliseconds(), name + " FAILED");
    }
  }
  double all_s = all_clock.milliseconds() / 1000.0;
  progress.finish();

  size_t done = image_ms.size();
  std::printf("sessions     %d created in %.2f ms (one per image size)\n", sessions.builds(), session_ms);
  if (done > 0) {
    double n = static_cast<double>(done);
    std::printf("per image    median %.2f ms; mean decode %.2f, preprocess %.2f, inference %.2f (median %.2f), "
                "postprocess %.2f, encode %.2f ms\n",
                median_of(image_ms), sum.decode / n, sum.preprocess / n, sum.inference / n, median_of(inference_ms),
                sum.postprocess / n, sum.encode / n);
  }
  std::printf("done         %zu of %zu images in %.2f s: %.3f frames per second\n", done, images.size(), all_s,
              all_s > 0 ? static_cast<double>(done) / all_s : 0.0);
  std::fflush(stdout);
  if (failures.empty()) return 0;
  std::fprintf(stderr, "kiln: error: %zu of %zu images failed:\n", failures.size(), images.size());
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
  sizes.model_fixed = model.fixed_size;
  if (!args.image.empty()) return run_single_image(args, parsed, model, sizes);
  return run_image_folder(args, parsed, model, sizes);
}

}  // namespace kiln::cli
