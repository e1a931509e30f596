// Boxes from a text detector's probability map, for `kiln run --overlay`.
//
// The post-processing of DB (Differentiable Binarization, the detector in
// PaddleOCR) in its plainest form: pixels above `threshold` are text, each
// 8-connected group of them is one candidate, a candidate whose mean
// probability is below `box_threshold` or whose box is thinner than
// `min_size` is dropped, and the box is grown on every side by
// area * unclip_ratio / perimeter, because DB is trained to predict a shrunk
// text kernel. PaddleOCR fits rotated rectangles and polygons; these boxes
// are axis-aligned, which suits horizontal text.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/image.h"

namespace kiln::cli {

struct TextBoxOptions {
  float threshold = 0.3f;       // a pixel is text above this probability
  float box_threshold = 0.6f;   // a box's mean probability must reach this
  double unclip_ratio = 1.5;    // growth: area * ratio / perimeter on each side
  int min_size = 3;             // boxes thinner than this (in map pixels) are noise
};

// In map pixels; x1, y1 exclusive. `score` is the mean probability inside the component.
struct TextBox {
  double x0, y0, x1, y1;
  float score;
};

// `map` is width x height floats, row-major. Boxes are sorted top to bottom, then left to right.
std::vector<TextBox> find_text_boxes(const float* map, int width, int height, const TextBoxOptions& options);

// An axis-aligned rectangle outline `thickness` pixels wide, inside x0..x1-1, y0..y1-1 (clipped to the image).
void draw_rectangle(RgbImage& image, int x0, int y0, int x1, int y1, int thickness, const uint8_t color[3]);

}  // namespace kiln::cli
