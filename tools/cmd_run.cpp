// `kiln run MODEL`: runs a model once on inputs from files (or deterministic
// pseudo-random data), prints a summary of each output and the timings, and
// optionally writes every output as DIR/<sanitized name>.npy. With --image or
// --images it runs an image-to-image model on image files instead (image_run.h).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/session.h"
#include "kiln/tensor_io.h"
#include "tools/cli_common.h"
#include "tools/image_run.h"
#include "tools/settings.h"

namespace kiln::cli {
namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;  // NAME=PATH
  ShapeArgs shape_args;
  GivenSettings given;  // --threads, --opt-level, --no-tune; set by the callback
  int runs = 1;
  std::string output_dir;
  ImageRunArgs image;  // --image / --images and their options
};

std::string input_names(const Session& session) {
  std::string names;
  for (const TensorInfo& info : session.inputs()) names += (names.empty() ? "" : ", ") + info.name;
  return names.empty() ? "none" : names;
}

// --input NAME=PATH, checked against the model's inputs.
std::map<std::string, std::string> input_files(const RunArgs& args, const Session& session) {
  std::map<std::string, std::string> files;
  for (const std::string& text : args.inputs) {
    auto [name, path] = split_assignment(text, "--input");
    if (path.empty()) fail_usage("bad --input '", text, "': the file name is empty");
    bool known = false;
    for (const TensorInfo& info : session.inputs()) known |= info.name == name;
    if (!known) fail("--input names '", name, "', but the model has no such input (inputs: ", input_names(session), ")");
    if (!files.emplace(name, path).second) fail("--input given twice for '", name, "'");
  }
  return files;
}

// Output name -> file path, refusing names that collide once sanitized.
std::map<std::string, std::string> plan_output_files(const std::string& dir, const Session& session) {
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> owner_of_file;
  for (const TensorInfo& info : session.outputs()) {
    std::string file = sanitize_file_name(info.name) + ".npy";
    auto [it, inserted] = owner_of_file.emplace(file, info.name);
    if (!inserted)
      fail("outputs '", it->second, "' and '", info.name, "' would both be written to ", file,
           " (characters outside [A-Za-z0-9._-] become '_')");
    files[info.name] = (std::filesystem::path(dir) / file).string();
  }
  return files;
}

void create_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    std::string reason = ec ? ec.message() : "a file of that name exists";
    fail("cannot create output directory '", dir, "': ", reason);
  }
}

Tensor bfloat16_to_float32(const Tensor& tensor) {
  Tensor wide(DataType::kFloat32, tensor.shape());
  const auto* in = static_cast<const uint16_t*>(tensor.raw());
  float* out = wide.data<float>();
  for (int64_t i = 0; i < tensor.size(); ++i) out[i] = bfloat16_to_float(in[i]);
  return wide;
}

std::string hex_seed(const std::string& input_name) {
  char text[24];
  std::snprintf(text, sizeof(text), "0x%016llx", static_cast<unsigned long long>(seed_from_name(input_name)));
  return text;
}

int run_model(const RunArgs& args) {
  Settings settings = resolve_settings(args.model, args.given);
  SessionOptions options;
  options.threads = settings.thread_count();
  options.opt_level = settings.level();
  options.isa = settings.isa.value;
  options.max_memory_bytes = settings.max_memory_bytes();
  apply_shape_args(args.shape_args, options);

  Stopwatch open_clock;
  Session session = Session::open(args.model, options);
  double open_ms = open_clock.milliseconds();

  std::map<std::string, std::string> in_files = input_files(args, session);
  std::map<std::string, std::string> out_files;
  if (!args.output_dir.empty()) out_files = plan_output_files(args.output_dir, session);

  std::printf("model    %s\n", args.model.c_str());
  std::printf("settings %s\n", describe_settings(settings).c_str());
  std::printf("session  created in %.2f ms\n", open_ms);
  std::printf("graph    %s %s\n", settings.opt_level.value.c_str(),
              describe_optimization(session.optimization_summary()).c_str());
  std::printf("memory   %s\n", describe_memory_plan(session.memory_summary()).c_str());
  print_memory_warning(session);
  NamedTensors inputs;
  for (const TensorInfo& info : session.inputs()) {
    auto file = in_files.find(info.name);
    if (file == in_files.end()) reserve_input(session, info);
    Tensor tensor = file != in_files.end() ? load_input_file(session, info.name, file->second) : random_input(info);
    std::string origin = file != in_files.end() ? "from " + file->second
                                                : "pseudo-random, seed " + hex_seed(info.name);
    std::printf("input    %s: %s %s (%s)\n", info.name.c_str(), dtype_name(tensor.dtype()),
                shape_to_string(tensor.shape()).c_str(), origin.c_str());
    inputs.emplace(info.name, std::move(tensor));
  }

  if (!args.output_dir.empty()) create_output_dir(args.output_dir);

  // Every run is timed; the outputs shown and saved are the last run's.
  std::vector<double> run_ms;
  NamedTensors outputs;
  for (int i = 0; i < args.runs; ++i) {
    Stopwatch run_clock;
    outputs = session.run(inputs);
    run_ms.push_back(run_clock.milliseconds());
  }
  if (args.runs == 1) {
    std::printf("run      %.2f ms\n", run_ms[0]);
  } else {
    double first = run_ms[0];
    std::vector<double> in_order = run_ms;
    std::sort(run_ms.begin(), run_ms.end());
    size_t n = run_ms.size();
    double median = n % 2 ? run_ms[n / 2] : (run_ms[n / 2 - 1] + run_ms[n / 2]) / 2;
    std::printf("run      %d runs: first %.2f ms, median %.2f ms, min %.2f ms\n", args.runs, first, median,
                run_ms[0]);
    std::printf("         all runs (ms):");
    for (double ms : in_order) std::printf(" %.2f", ms);
    std::printf("\n");
  }
  for (const TensorInfo& info : session.outputs()) {
    auto it = outputs.find(info.name);
    if (it == outputs.end()) fail("the session returned no value for output '", info.name, "'");
    const Tensor& tensor = it->second;
    std::printf("output   %s: %s %s  %s\n", info.name.c_str(), dtype_name(tensor.dtype()),
                shape_to_string(tensor.shape()).c_str(), summarize(tensor).c_str());
    auto file = out_files.find(info.name);
    if (file != out_files.end()) {
      if (tensor.dtype() == DataType::kBFloat16) {  // numpy has no bfloat16; float32 holds it exactly
        save_npy(file->second, bfloat16_to_float32(tensor));
        std::printf("         saved to %s (as float32: .npy has no bfloat16)\n", file->second.c_str());
      } else {
        save_npy(file->second, tensor);
        std::printf("         saved to %s\n", file->second.c_str());
      }
    }
  }
  return 0;
}

void add_image_options(CLI::App& command, RunArgs& args) {
  ImageRunArgs& image = args.image;
  const char* group = "Images (style transfer, detection and segmentation maps)";
  command.add_option("--image", image.image, "Run the model on one image file (.png, .jpg, .jpeg, .bmp)")
      ->type_name("FILE")
      ->group(group);
  command.add_option("--images", image.images_dir,
                     "Run the model on every .png/.jpg/.jpeg/.bmp file in DIR, one session per model input size "
                     "(images taken size by size), skipping those whose output exists (--overwrite)")
      ->type_name("DIR")
      ->group(group);
  command.add_option("--out", image.out,
                     "Output image file (--image; format from its extension) or folder (--images; created if needed, "
                     "files named <input stem>.<--format>). Never the input.")
      ->type_name("PATH")
      ->group(group);
  command.add_option("--size", image.size,
                     "The model's input size WIDTHxHEIGHT (default: the model's fixed size; else the image's own, "
                     "padded at the right and bottom to the smallest size the model's shapes accept). The output "
                     "comes back at the image's size")
      ->type_name("WxH")
      ->group(group);
  command.add_option("--fit", image.fit,
                     "How an image meets --size or the model's fixed size when their aspects differ: contain "
                     "(scaled to fit inside, centred, the rest padded with the edge pixels; the output is cut out "
                     "again), cover (scaled to fill, the overflow cropped: the output is the middle part of the "
                     "image) or stretch")
      ->type_name("MODE")
      ->check(CLI::IsMember({"stretch", "contain", "cover"}).description(""))
      ->capture_default_str()
      ->group(group);
  command.add_option("--layout", image.layout,
                     "Tensor layout of the model's image input: auto (from its shape: last dim 3 = nhwc, dim 1 of 3 = "
                     "nchw), nhwc or nchw")
      ->type_name("LAYOUT")
      ->check(CLI::IsMember({"auto", "nhwc", "nchw"}).description(""))
      ->capture_default_str()
      ->group(group);
  command.add_option("--range", image.range,
                     "What pixel values 0..255 map to before --mean/--std, and back after the model: -1,1 or 0,1 or "
                     "0,255 (default: the model's kiln.range metadata, else 0,1)")
      ->type_name("LO,HI")
      ->group(group);
  command.add_option("--mean", image.mean,
                     "Per-channel mean subtracted after --range (default: the model's kiln.mean, else 0,0,0)")
      ->type_name("R,G,B")
      ->group(group);
  command.add_option("--std", image.stddev,
                     "Per-channel standard deviation divided by after --mean (default: the model's kiln.std, else "
                     "1,1,1)")
      ->type_name("R,G,B")
      ->group(group);
  command.add_option("--format", image.format, "With --images: extension of the output files, png, jpg or bmp "
                     "(default png)")
      ->type_name("EXT")
      ->group(group);
  command.add_option("--overlay", image.overlay,
                     "With --image and a text detector (a one-channel probability map such as PaddleOCR's det "
                     "model): draw the detected text boxes on the image and write it to FILE; the boxes are "
                     "printed too")
      ->type_name("FILE")
      ->group(group);
  command.add_option("--threshold", image.threshold,
                     "--overlay: a map value above this is text (DB's usual 0.3); a box's mean must reach 0.6")
      ->type_name("P")
      ->check(CLI::Range(0.0, 1.0).description(""))
      ->capture_default_str()
      ->group(group);
  command.add_flag("--alpha-from-output", image.alpha_from_output,
                   "The model's first one-channel output (a mask or matte, 0..1) becomes the output image's alpha, "
                   "over its first three-channel output or, when it has none, over the input image (background "
                   "removal). Without it, an input's alpha channel is passed through to the output")
      ->group(group);
  command.add_flag("--overwrite", image.overwrite,
                   "With --images: redo the images whose output already exists in --out (default: skip them)")
      ->group(group);
  command.get_option("--image")->excludes("--images");
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* command = app.add_subcommand("run", "Run a model once and summarize its outputs");
  command->footer(
      "Inputs come from .npy or .pb (ONNX TensorProto) files. Inputs not given are filled with deterministic\n"
      "pseudo-random data (floats uniform in [-1, 1), integers in [0, 8), seeded by the input's name) of the\n"
      "shape given by --shape, or of the model's own shape when it is static.\n"
      "Prints each output's dtype, shape, min/max/mean and first values, and the time to create the session\n"
      "and to run it.\n\n"
      "Examples:\n"
      "  kiln run det.onnx --shape x=1x3x736x1280 --output-dir out\n"
      "  kiln run model.onnx --input x=x.npy --input mask=mask.pb --threads 1\n"
      "  kiln run animegan.onnx --image photo.jpg --out anime.png --size 1280x720 --range=-1,1 --threads 2\n"
      "  kiln run style.onnx --images frames/ --out styled/ --range 0,255 --format jpg\n"
      "  kiln run det.onnx --image page.png --overlay boxes.png --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225\n\n"
      "With --image/--images the image is decoded (a JPEG turned upright by its EXIF orientation), sized for\n"
      "the model (--size, --fit), normalized (--range, --mean, --std) into the model's single input in its\n"
      "layout (--layout), the input's size is fixed from the image so the memory plan applies, and the first\n"
      "output is turned back into an image the same way (its layout from its shape), cut to the part that\n"
      "shows the image, resized back to the image's size, clamped to 0..255 and encoded: RGB for a\n"
      "3-channel output, grey for a 1-channel one (a\n"
      "text detector's probability map, a mask). With --image, --output-dir DIR also writes every output\n"
      "tensor as DIR/<name>.npy. --runs repeats the inference for timing.\n\n"
      "Threads, opt-level and ISA come from their flags when given, else from MODEL.kiln-tune.json (saved by\n"
      "'kiln tune'; --no-tune skips it), else the defaults (KILN_ISA, when set, comes before the tune file's\n"
      "ISA); the settings line names the source of each, with or without --image/--images.\n\n"
      "--max-memory SIZE bounds the session's tensors and the inputs kiln makes or loads; each input is\n"
      "checked before it is allocated (an .npy file by its size on disk before it is read), and the memory\n"
      "plan when the session is built. Without it, the budget is the memory available, and a plan needing\n"
      "more than half of it prints a warning.\n");
  command->add_option("model", args->model, "The ONNX model file")->required()->type_name("MODEL");
  command
      ->add_option("-i,--input", args->inputs, "Input tensor from a file, e.g. --input x=image.npy. Repeatable.")
      ->type_name("NAME=PATH")
      ->allow_extra_args(false);
  add_shape_options(*command, args->shape_args);
  add_setting_options(*command);
  command->add_option("-r,--runs", args->runs, "Run the model N times and print the first, median and fastest times")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000).description(""))
      ->capture_default_str();
  command->add_option("-o,--output-dir", args->output_dir,
                      "Write each output to DIR/<name>.npy; characters of the name outside [A-Za-z0-9._-] "
                      "become '_'. The folder is created if needed. Also with --image.")
      ->type_name("DIR");
  add_image_options(*command, *args);
  command->callback([args, command, &action] {
    args->given = given_settings(*command);
    bool image_mode = !args->image.image.empty() || !args->image.images_dir.empty();
    if (!image_mode) {
      for (const char* option : {"--out", "--size", "--fit", "--alpha-from-output", "--overwrite", "--layout", "--range", "--mean", "--std", "--format", "--overlay",
                                 "--threshold"})
        if (command->count(option) > 0)
          throw CLI::ValidationError(std::string(option) + " needs --image FILE or --images DIR");
      action = [args] { return run_model(*args); };
      return;
    }
    for (const char* option : {"--input", "--shape"})
      if (command->count(option) > 0)
        throw CLI::ValidationError(std::string(option) +
                                   " cannot be combined with --image/--images: the image is the input");
    action = [args] {
      Settings settings = resolve_settings(args->model, args->given);
      ImageRunArgs image = args->image;
      image.model = args->model;
      image.threads = settings.thread_count();
      image.opt_level = settings.level();
      image.isa = settings.isa.value;
      image.max_memory_bytes = settings.max_memory_bytes();
      image.settings_line = describe_settings(settings);
      image.runs = args->runs;
      image.output_dir = args->output_dir;
      SessionOptions dims;
      apply_shape_args(args->shape_args, dims);
      image.dim_values = dims.dim_values;
      return run_image_model(image);
    };
  });
}

}  // namespace kiln::cli
