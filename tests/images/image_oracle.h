// Oracles for the image tests that share no code with kiln's image library:
// PNG/BMP/JPEG files written and decoded by Pillow (tests/images/pillow_images.py,
// run with the KILN_PYTHON interpreter; Debian's python3-pil), a hand-written
// PPM reader and writer to hand pixels to and from it, and a plain triangle-filter
// resize written from its definition. kiln's RgbImage is used only as a container.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiln/image.h"

namespace kiln::image_oracle {

namespace detail {

inline std::string quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A fresh path in the temporary folder (not beside the test's files, so folder
// listings in the tests see only what they wrote).
inline std::string scratch_path(const std::string& suffix) {
  static std::atomic<int> counter{0};
  return (std::filesystem::temp_directory_path() /
          ("kiln_image_oracle_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + suffix))
      .string();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace detail

// Binary PPM (P6, maxval 255): a header and the RGB bytes, rows top to bottom.
inline void write_ppm(const RgbImage& image, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << image.width << " " << image.height << "\n255\n";
  out.write(reinterpret_cast<const char*>(image.pixels.data()), static_cast<std::streamsize>(image.pixels.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline RgbImage read_ppm(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int width = 0, height = 0, maxval = 0;
  in >> magic >> width >> height >> maxval;
  in.get();  // the one whitespace byte before the pixels
  if (!in || magic != "P6" || maxval != 255) throw std::runtime_error(path + " is not an 8-bit binary PPM");
  RgbImage image(width, height);
  in.read(reinterpret_cast<char*>(image.pixels.data()), static_cast<std::streamsize>(image.pixels.size()));
  if (in.gcount() != static_cast<std::streamsize>(image.pixels.size())) throw std::runtime_error(path + " is short");
  return image;
}

// Binary PGM (P5, maxval 255): one byte per pixel.
inline void write_pgm(const GrayImage& image, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << "P5\n" << image.width << " " << image.height << "\n255\n";
  out.write(reinterpret_cast<const char*>(image.pixels.data()), static_cast<std::streamsize>(image.pixels.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline GrayImage read_pgm(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int width = 0, height = 0, maxval = 0;
  in >> magic >> width >> height >> maxval;
  in.get();
  if (!in || magic != "P5" || maxval != 255) throw std::runtime_error(path + " is not an 8-bit binary PGM");
  GrayImage image(width, height);
  in.read(reinterpret_cast<char*>(image.pixels.data()), static_cast<std::streamsize>(image.pixels.size()));
  if (in.gcount() != static_cast<std::streamsize>(image.pixels.size())) throw std::runtime_error(path + " is short");
  return image;
}

// Runs tests/images/pillow_images.py with these arguments; throws with its stderr on failure.
inline void run_pillow(const std::vector<std::string>& args) {
  std::string err = detail::scratch_path(".err");
  std::string command = detail::quote(KILN_PYTHON) + " " + detail::quote(KILN_PILLOW_IMAGES);
  for (const std::string& arg : args) command.append(" ").append(detail::quote(arg));
  command.append(" 2>").append(detail::quote(err));
  int status = std::system(command.c_str());
  std::string message = detail::read_file(err);
  std::filesystem::remove(err);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string what = "Pillow helper failed (is Debian's python3-pil installed? scripts/install_deps.sh): ";
    what.append(command).append("\n").append(message);
    throw std::runtime_error(what);
  }
}

// Writes the image with Pillow, in the format the path's extension names;
// a JPEG with exif_orientation 1..8 carries that EXIF orientation tag.
inline void pillow_write(const RgbImage& image, const std::string& path, int jpeg_quality = 95,
                         int exif_orientation = 0) {
  std::string ppm = detail::scratch_path(".ppm");
  write_ppm(image, ppm);
  std::vector<std::string> args = {"convert", ppm, path, "--quality", std::to_string(jpeg_quality)};
  if (exif_orientation > 0) args.insert(args.end(), {"--orientation", std::to_string(exif_orientation)});
  run_pillow(args);
  std::filesystem::remove(ppm);
}

// Writes an RGBA file (.png or .bmp) with Pillow: these colours, this alpha.
inline void pillow_write_rgba(const RgbImage& image, const GrayImage& alpha, const std::string& path) {
  std::string ppm = detail::scratch_path(".ppm"), pgm = detail::scratch_path(".pgm");
  write_ppm(image, ppm);
  write_pgm(alpha, pgm);
  run_pillow({"merge-alpha", ppm, pgm, path});
  std::filesystem::remove(ppm);
  std::filesystem::remove(pgm);
}

// The file's alpha channel as Pillow decodes it (throws when it has none).
inline GrayImage pillow_read_alpha(const std::string& path) {
  std::string pgm = detail::scratch_path(".pgm");
  run_pillow({"split-alpha", path, pgm});
  GrayImage alpha = read_pgm(pgm);
  std::filesystem::remove(pgm);
  return alpha;
}

// The file's pixels as Pillow shows them upright (its EXIF orientation applied).
inline RgbImage pillow_read_upright(const std::string& path) {
  std::string ppm = detail::scratch_path(".ppm");
  run_pillow({"convert", path, ppm, "--upright"});
  RgbImage image = read_ppm(ppm);
  std::filesystem::remove(ppm);
  return image;
}

// The file's pixels as Pillow decodes them.
inline RgbImage pillow_read(const std::string& path) {
  std::string ppm = detail::scratch_path(".ppm");
  run_pillow({"convert", path, ppm});
  RgbImage image = read_ppm(ppm);
  std::filesystem::remove(ppm);
  return image;
}

// The file's bytes as Pillow encodes the image (format from the extension: "png", "bmp", "jpg").
inline std::vector<uint8_t> pillow_encode(const RgbImage& image, const std::string& extension) {
  std::string file = detail::scratch_path("." + extension);
  pillow_write(image, file);
  std::string bytes = detail::read_file(file);
  std::filesystem::remove(file);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// Separable triangle-filter resize, by definition: output pixel j samples input
// coordinate c = (j + 0.5) / scale - 0.5 with weights max(0, 1 - |i - c| * f),
// f = min(1, scale) (the filter widens by 1/scale when shrinking), indices
// clamped to the edge, weights normalized to sum 1. Computed in double, rounded
// half up once at the end.
inline RgbImage reference_resize(const RgbImage& image, int width, int height) {
  struct Tap {
    int index;
    double weight;
  };
  auto taps_for = [](int in_size, int out_size) {
    std::vector<std::vector<Tap>> taps(out_size);
    const double scale = static_cast<double>(out_size) / in_size;
    const double f = std::min(1.0, scale);
    for (int j = 0; j < out_size; ++j) {
      const double c = (j + 0.5) / scale - 0.5;
      double total = 0;
      for (int i = static_cast<int>(std::floor(c - 1 / f)); i <= static_cast<int>(std::ceil(c + 1 / f)); ++i) {
        double weight = std::max(0.0, 1.0 - std::abs(i - c) * f);
        if (weight == 0) continue;
        taps[j].push_back({std::clamp(i, 0, in_size - 1), weight});
        total += weight;
      }
      for (Tap& tap : taps[j]) tap.weight /= total;
    }
    return taps;
  };
  const auto columns = taps_for(image.width, width);
  const auto rows = taps_for(image.height, height);
  RgbImage out(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (const Tap& row : rows[y])
          for (const Tap& column : columns[x]) sum += row.weight * column.weight * image.pixel(column.index, row.index)[c];
        out.pixel(x, y)[c] = static_cast<uint8_t>(std::clamp(std::floor(sum + 0.5), 0.0, 255.0));
      }
  return out;
}

}  // namespace kiln::image_oracle
