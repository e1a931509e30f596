#include "tools/text_boxes.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace kiln::cli {

std::vector<TextBox> find_text_boxes(const float* map, int width, int height, const TextBoxOptions& options) {
  std::vector<TextBox> boxes;
  if (width < 1 || height < 1) return boxes;
  const size_t pixels = static_cast<size_t>(width) * height;
  std::vector<uint8_t> seen(pixels, 0);
  std::vector<std::pair<int, int>> stack;
  for (int start_y = 0; start_y < height; ++start_y) {
    for (int start_x = 0; start_x < width; ++start_x) {
      size_t start = static_cast<size_t>(start_y) * width + start_x;
      if (seen[start] || !(map[start] > options.threshold)) continue;
      // Flood fill one 8-connected component with an explicit stack (a page
      // is millions of pixels: no recursion).
      int x0 = start_x, x1 = start_x, y0 = start_y, y1 = start_y;
      double sum = 0;
      size_t count = 0;
      seen[start] = 1;
      stack.assign(1, {start_x, start_y});
      while (!stack.empty()) {
        auto [x, y] = stack.back();
        stack.pop_back();
        sum += map[static_cast<size_t>(y) * width + x];
        ++count;
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            int nx = x + dx, ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
            size_t at = static_cast<size_t>(ny) * width + nx;
            if (seen[at] || !(map[at] > options.threshold)) continue;
            seen[at] = 1;
            stack.push_back({nx, ny});
          }
      }
      const double box_width = x1 - x0 + 1, box_height = y1 - y0 + 1;
      const float score = static_cast<float>(sum / static_cast<double>(count));
      if (std::min(box_width, box_height) < options.min_size || score < options.box_threshold) continue;
      const double grow = box_width * box_height * options.unclip_ratio / (2 * (box_width + box_height));
      boxes.push_back({std::max(0.0, x0 - grow), std::max(0.0, y0 - grow), std::min<double>(width, x1 + 1 + grow),
                       std::min<double>(height, y1 + 1 + grow), score});
    }
  }
  std::sort(boxes.begin(), boxes.end(), [](const TextBox& a, const TextBox& b) {
    return a.y0 != b.y0 ? a.y0 < b.y0 : a.x0 < b.x0;
  });
  return boxes;
}

void draw_rectangle(RgbImage& image, int x0, int y0, int x1, int y1, int thickness, const uint8_t color[3]) {
  x0 = std::max(x0, 0), y0 = std::max(y0, 0);
  x1 = std::min(x1, image.width), y1 = std::min(y1, image.height);
  if (x0 >= x1 || y0 >= y1) return;
  for (int y = y0; y < y1; ++y) {
    const bool edge_row = y < y0 + thickness || y >= y1 - thickness;
    for (int x = x0; x < x1; ++x) {
      if (!edge_row && x >= x0 + thickness && x < x1 - thickness) continue;
      std::copy(color, color + 3, image.pixel(x, y));
    }
  }
}

}  // namespace kiln::cli
