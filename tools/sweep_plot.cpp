#include "tools/sweep_plot.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <utility>

namespace kiln::cli {
namespace {

constexpr double kPanelWidth = 420, kPanelHeight = 300, kMargin = 55;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;  // x, y
};

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  return text;
}

// One panel at (left, top): axes from 0 to the largest x and y, a line per series.
void draw_panel(std::ostringstream& svg, double left, double top, const std::string& heading,
                const std::string& x_label, const std::string& y_label, const std::vector<Series>& series) {
  double max_x = 1, max_y = 1e-9;
  for (const Series& s : series)
    for (auto [x, y] : s.points) max_x = std::max(max_x, x), max_y = std::max(max_y, y);
  max_y *= 1.1;
  const double plot_w = kPanelWidth - kMargin - 10, plot_h = kPanelHeight - kMargin - 30;
  const double x0 = left + kMargin, y0 = top + 30 + plot_h;
  auto px = [&](double x) { return x0 + x / max_x * plot_w; };
  auto py = [&](double y) { return y0 - y / max_y * plot_h; };
  svg << "<text x='" << left + kPanelWidth / 2 << "' y='" << top + 18 << "' text-anchor='middle' font-weight='bold'>"
      << escape(heading) << "</text>\n";
  svg << "<line x1='" << x0 << "' y1='" << y0 << "' x2='" << x0 + plot_w << "' y2='" << y0 << "' stroke='black'/>\n";
  svg << "<line x1='" << x0 << "' y1='" << y0 << "' x2='" << x0 << "' y2='" << y0 - plot_h << "' stroke='black'/>\n";
  for (int i = 0; i <= 4; ++i) {
    double y = max_y * i / 4;
    svg << "<text x='" << x0 - 5 << "' y='" << py(y) + 4 << "' text-anchor='end' font-size='10'>" << number(y)
        << "</text>\n";
    double x = max_x * i / 4;
    svg << "<text x='" << px(x) << "' y='" << y0 + 14 << "' text-anchor='middle' font-size='10'>" << number(x)
        << "</text>\n";
  }
  svg << "<text x='" << x0 + plot_w / 2 << "' y='" << y0 + 30 << "' text-anchor='middle' font-size='11'>"
      << escape(x_label) << "</text>\n";
  svg << "<text x='" << left + 12 << "' y='" << y0 - plot_h / 2 << "' text-anchor='middle' font-size='11' "
      << "transform='rotate(-90 " << left + 12 << " " << y0 - plot_h / 2 << ")'>" << escape(y_label) << "</text>\n";
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = kColors[i % (sizeof(kColors) / sizeof(kColors[0]))];
    std::vector<std::pair<double, double>> points = series[i].points;
    std::sort(points.begin(), points.end());
    if (points.size() > 1) {
      svg << "<polyline fill='none' stroke='" << color << "' stroke-width='2' points='";
      for (auto [x, y] : points) svg << px(x) << "," << py(y) << " ";
      svg << "'/>\n";
    }
    for (auto [x, y] : points)
      svg << "<circle cx='" << px(x) << "' cy='" << py(y) << "' r='3' fill='" << color << "'/>\n";
    double legend_y = top + 40 + 14 * static_cast<double>(i);
    svg << "<text x='" << x0 + 8 << "' y='" << legend_y << "' font-size='10' fill='" << color << "'>"
        << escape(series[i].label) << "</text>\n";
  }
}

}  // namespace

std::string sweep_svg(const std::vector<SweepRow>& rows, const std::string& title) {
  std::map<std::string, Series> by_setting, by_batch;
  for (const SweepRow& r : rows) {
    std::string setting = std::to_string(r.threads) + "t " + r.opt_level + " " + r.isa;
    by_setting[setting].label = setting;
    by_setting[setting].points.emplace_back(static_cast<double>(r.batch_run), r.samples_per_second);
    std::string config = r.opt_level + " " + r.isa + " b" + std::to_string(r.batch_run);
    by_batch[config].label = config;
    by_batch[config].points.emplace_back(r.threads, r.median_ms);
  }
  std::vector<Series> throughput, latency;
  for (auto& [key, s] : by_setting) throughput.push_back(s);
  for (auto& [key, s] : by_batch) latency.push_back(s);

  std::ostringstream svg;
  const double width = 2 * kPanelWidth + 20, height = kPanelHeight + 40;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' font-family='sans-serif' font-size='12'>\n";
  svg << "<rect width='100%' height='100%' fill='white'/>\n";
  svg << "<text x='" << width / 2 << "' y='18' text-anchor='middle'>kiln sweep: " << escape(title) << "</text>\n";
  draw_panel(svg, 0, 30, "Throughput vs batch", "batch", "samples/s", throughput);
  draw_panel(svg, kPanelWidth + 20, 30, "Latency vs threads", "threads", "median ms", latency);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace kiln::cli
