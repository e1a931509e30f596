#include "tools/sweep_plot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "kiln/error.h"
#include "tools/cli_common.h"

namespace kiln::cli {
namespace {

constexpr int kPanelWidth = 520, kPanelHeight = 420;
constexpr double kTitleHeight = 46;  // the picture's title and subtitle above the panels
const char* const kFont = "DejaVu Sans";
// Colour-blind-safe (Okabe-Ito), then greys.
constexpr double kColors[][3] = {{0.00, 0.45, 0.70}, {0.84, 0.37, 0.00}, {0.00, 0.62, 0.45}, {0.80, 0.47, 0.65},
                                 {0.90, 0.62, 0.00}, {0.34, 0.71, 0.91}, {0.55, 0.55, 0.55}, {0.20, 0.20, 0.20}};

// One setting a row has: a numeric axis (threads, batch, instances) or a category.
struct Axis {
  std::string key;    // "threads"
  std::string label;  // axis label
  std::function<double(const SweepRow&)> number;         // numeric axes
  std::function<std::string(const SweepRow&)> describe;  // "2 threads", for legends and subtitles
};

const std::vector<Axis>& axes() {
  static const std::vector<Axis> list = {
      {"threads", "threads per instance", [](const SweepRow& r) { return double(r.threads); },
       [](const SweepRow& r) { return std::to_string(r.threads) + (r.threads == 1 ? " thread" : " threads"); }},
      {"batch", "batch size", [](const SweepRow& r) { return double(r.batch_run); },
       [](const SweepRow& r) { return "batch " + std::to_string(r.batch_run); }},
      {"instances", "instances (concurrent sessions)", [](const SweepRow& r) { return double(r.instances); },
       [](const SweepRow& r) { return std::to_string(r.instances) + (r.instances == 1 ? " instance" : " instances"); }},
      {"opt_level", "", nullptr, [](const SweepRow& r) { return "opt " + r.opt_level; }},
      {"isa", "", nullptr, [](const SweepRow& r) { return r.isa; }},
  };
  return list;
}

const Axis& axis(const std::string& key) {
  for (const Axis& a : axes())
    if (a.key == key) return a;
  throw Error("no plot axis " + key);
}

bool varies(const std::vector<SweepRow>& rows, const Axis& a) {
  std::set<std::string> seen;
  for (const SweepRow& r : rows) seen.insert(a.describe(r));
  return seen.size() > 1;
}

// What a panel plots: y against the numeric axis `x` (a line per combination
// of the other settings), or, with x empty, bars of y per row.
struct Panel {
  std::string name;
  std::string x;  // axis key; "" for bars
  std::string y_label;
  std::function<double(const SweepRow&)> y;
};

std::vector<Panel> panels_for(const std::vector<SweepRow>& rows) {
  auto throughput = [](const SweepRow& r) { return r.samples_per_second; };
  auto latency = [](const SweepRow& r) { return r.median_ms; };
  bool several = false;
  for (const SweepRow& r : rows) several = several || r.instances > 1;
  const std::string samples = several ? "samples/s (all instances)" : "samples/s";
  std::vector<Panel> panels;
  if (varies(rows, axis("batch"))) panels.push_back({"throughput vs batch", "batch", samples, throughput});
  if (varies(rows, axis("threads")))
    panels.push_back({"latency vs threads", "threads", "median ms per inference", latency});
  if (varies(rows, axis("instances")))
    panels.push_back({"throughput vs instances", "instances", samples, throughput});
  if (panels.empty() && rows.size() > 1) panels.push_back({"latency by setting", "", "median ms per inference", latency});
  return panels;
}

// The settings other than `except` that vary across the rows, described for row `r`.
std::string describe_varying(const std::vector<SweepRow>& rows, const SweepRow& r, const std::string& except) {
  std::string text;
  for (const Axis& a : axes())
    if (a.key != except && varies(rows, a)) text += (text.empty() ? "" : ", ") + a.describe(r);
  return text;
}

// "1.5", "20", "0.035": enough digits to tell ticks `step` apart.
std::string tick_text(double value, double step) {
  int digits = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char text[32];
  std::snprintf(text, sizeof(text), "%.*f", std::min(digits, 6), value);
  std::string s = text;
  return s == "-0" ? "0" : s;
}

// A y range with room around the data and round tick values (1, 2 or 5
// x 10^k apart). It starts at 0 when the data reach down to half their
// maximum or lower; above that, zero would squeeze the differences into a
// thin band at the top.
struct YScale {
  double lo, hi, step;
};
YScale y_scale(double min_y, double max_y) {
  if (!(max_y > 0)) max_y = 1;
  double lo = min_y <= 0.5 * max_y ? 0 : min_y - 0.15 * (max_y - min_y);
  double hi = max_y + 0.08 * (max_y - lo);
  if (hi - lo < 1e-12 * max_y || hi <= lo) lo = max_y * 0.9, hi = max_y * 1.1;
  double raw = (hi - lo) / 5;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power * (raw / power < 1.5 ? 1 : raw / power < 3.5 ? 2 : raw / power < 7.5 ? 5 : 10);
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

class Painter {
 public:
  explicit Painter(cairo_t* cr) : cr_(cr) {}

  void font(double size, bool bold = false) {
    cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size);
  }
  double text_width(const std::string& text) {
    cairo_text_extents_t extents;
    cairo_text_extents(cr_, text.c_str(), &extents);
    return extents.x_advance;
  }
  // Text with its anchor at (x, y): align 0 left, 0.5 centre, 1 right; y is the baseline.
  void text(const std::string& s, double x, double y, double align = 0) {
    cairo_move_to(cr_, x - align * text_width(s), y);
    cairo_show_text(cr_, s.c_str());
  }
  void color(const double (&c)[3]) { cairo_set_source_rgb(cr_, c[0], c[1], c[2]); }
  void gray(double v) { cairo_set_source_rgb(cr_, v, v, v); }
  void line(double x0, double y0, double x1, double y1, double width) {
    cairo_set_line_width(cr_, width);
    cairo_move_to(cr_, x0, y0);
    cairo_line_to(cr_, x1, y1);
    cairo_stroke(cr_);
  }
  cairo_t* cr() { return cr_; }

 private:
  cairo_t* cr_;
};

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;
};

// The legend as lines of entries that fit `width`: indices into `series`.
std::vector<std::vector<size_t>> legend_lines(Painter& p, const std::vector<Series>& series, double width) {
  std::vector<std::vector<size_t>> lines;
  double used = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    if (series[i].label.empty()) continue;
    double w = 22 + p.text_width(series[i].label) + 14;
    if (lines.empty() || (used + w > width && !lines.back().empty())) lines.emplace_back(), used = 0;
    lines.back().push_back(i);
    used += w;
  }
  return lines;
}

void draw_panel(Painter& p, const Panel& panel, const std::vector<SweepRow>& rows, double left, double top,
                double width, double height) {
  cairo_t* cr = p.cr();
  std::vector<Series> series;
  if (!panel.x.empty()) {
    const Axis& x_axis = axis(panel.x);
    std::map<std::string, size_t> index;
    for (const SweepRow& r : rows) {
      std::string label = describe_varying(rows, r, panel.x);
      auto [it, added] = index.try_emplace(label, series.size());
      if (added) series.push_back({label, {}});
      series[it->second].points.emplace_back(x_axis.number(r), panel.y(r));
    }
    for (Series& s : series) std::sort(s.points.begin(), s.points.end());
  } else {
    for (size_t i = 0; i < rows.size(); ++i)
      series.push_back({describe_varying(rows, rows[i], ""), {{double(i), panel.y(rows[i])}}});
  }
  double min_y = INFINITY, max_y = 0;
  for (const Series& s : series)
    for (auto [x, y] : s.points) min_y = std::min(min_y, y), max_y = std::max(max_y, y);
  const bool bars = panel.x.empty();
  // A bar's length is its value: bars start at 0.
  const YScale ys = y_scale(bars ? 0 : min_y, max_y);

  // Margins from the text they hold, so no label is cut off.
  p.font(11);
  double y_tick_width = 0;
  for (double v = ys.lo; v <= ys.hi + ys.step * 0.5; v += ys.step)
    y_tick_width = std::max(y_tick_width, p.text_width(tick_text(v, ys.step)));
  double bar_label_width = 0;
  if (bars)
    for (const Series& s : series) bar_label_width = std::max(bar_label_width, p.text_width(s.label));
  const double heading = 28;
  const double plot_left = left + 12 + 18 + (bars ? bar_label_width + 8 : y_tick_width + 8);
  // Bars put value ticks along x: the last one's label is centred on the right edge.
  const double plot_right = left + width - (bars ? std::max(16.0, y_tick_width / 2 + 6) : 16.0);
  const double plot_width = plot_right - plot_left;
  std::vector<std::vector<size_t>> legend = bars ? std::vector<std::vector<size_t>>{} : legend_lines(p, series, plot_width);
  const double legend_height = 18.0 * static_cast<double>(legend.size());
  const double plot_top = top + heading + 8;
  const double plot_bottom = top + height - 16 - 36 - legend_height;
  const double plot_height = plot_bottom - plot_top;
  if (plot_height < 40 || plot_width < 60)
    fail("--plot-size is too small for the plot's ", series.size(), " lines and labels");

  p.font(13, true);
  p.gray(0.1);
  std::string heading_text = panel.name;
  heading_text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(heading_text[0])));
  p.text(heading_text, (plot_left + plot_right) / 2, top + 20, 0.5);

  // Frame and grid.
  cairo_rectangle(cr, plot_left, plot_top, plot_width, plot_height);
  p.gray(0.98);
  cairo_fill(cr);
  p.font(11);
  if (bars) {
    // Horizontal bars: one per row, value along x.
    auto px = [&](double v) { return plot_left + (v - ys.lo) / (ys.hi - ys.lo) * plot_width; };
    for (double v = ys.lo; v <= ys.hi + ys.step * 0.5; v += ys.step) {
      p.gray(0.85);
      p.line(px(v), plot_top, px(v), plot_bottom, 1);
      p.gray(0.2);
      p.text(tick_text(v, ys.step), px(v), plot_bottom + 15, 0.5);
    }
    const double slot = plot_height / static_cast<double>(series.size());
    for (size_t i = 0; i < series.size(); ++i) {
      double y0 = plot_top + slot * static_cast<double>(i);
      p.color(kColors[0]);
      cairo_rectangle(cr, px(ys.lo), y0 + slot * 0.2, px(series[i].points[0].second) - px(ys.lo), slot * 0.6);
      cairo_fill(cr);
      p.gray(0.1);
      p.text(series[i].label, plot_left - 8, y0 + slot / 2 + 4, 1);
    }
    p.font(12);
    p.text(panel.y_label, (plot_left + plot_right) / 2, plot_bottom + 36, 0.5);
  } else {
    // The x values as measured: ticks exactly there (integers, no "0.50
    // threads"), on a log2 scale when they span a factor of 8 or more.
    std::set<double> xs;
    for (const Series& s : series)
      for (auto [x, y] : s.points) xs.insert(x);
    const bool log_x = *xs.rbegin() / *xs.begin() >= 8;
    auto fx = [&](double x) { return log_x ? std::log2(x) : x; };
    const double x_lo = fx(*xs.begin()), x_hi = fx(*xs.rbegin());
    const double pad = (x_hi - x_lo) * 0.06;
    auto px = [&](double x) { return plot_left + (fx(x) - x_lo + pad) / (x_hi - x_lo + 2 * pad) * plot_width; };
    auto py = [&](double y) { return plot_bottom - (y - ys.lo) / (ys.hi - ys.lo) * plot_height; };
    for (double v = ys.lo; v <= ys.hi + ys.step * 0.5; v += ys.step) {
      p.gray(0.85);
      p.line(plot_left, py(v), plot_right, py(v), 1);
      p.gray(0.2);
      p.text(tick_text(v, ys.step), plot_left - 6, py(v) + 4, 1);
    }
    for (double x : xs) {
      p.gray(0.92);
      p.line(px(x), plot_top, px(x), plot_bottom, 1);
      p.gray(0.2);
      char text[32];
      std::snprintf(text, sizeof(text), "%.0f", x);
      p.text(text, px(x), plot_bottom + 15, 0.5);
    }
    for (size_t i = 0; i < series.size(); ++i) {
      p.color(kColors[i % std::size(kColors)]);
      const auto& points = series[i].points;
      cairo_set_line_width(cr, 2);
      for (size_t k = 0; k < points.size(); ++k) {
        if (k == 0) cairo_move_to(cr, px(points[k].first), py(points[k].second));
        else cairo_line_to(cr, px(points[k].first), py(points[k].second));
      }
      cairo_stroke(cr);
      for (auto [x, y] : points) {
        cairo_arc(cr, px(x), py(y), 3.5, 0, 2 * M_PI);
        cairo_fill(cr);
      }
    }
    p.font(12);
    p.gray(0.1);
    p.text(axis(panel.x).label + (log_x ? " (log scale)" : ""), (plot_left + plot_right) / 2, plot_bottom + 36, 0.5);
    // The legend, below the axis label.
    p.font(11);
    double ly = plot_bottom + 36 + 18;
    for (const std::vector<size_t>& entries : legend) {
      double lx = plot_left;
      for (size_t i : entries) {
        p.color(kColors[i % std::size(kColors)]);
        p.line(lx, ly - 4, lx + 16, ly - 4, 2.5);
        p.gray(0.1);
        p.text(series[i].label, lx + 22, ly);
        lx += 22 + p.text_width(series[i].label) + 14;
      }
      ly += 18;
    }
  }
  // The y axis label, rotated, at the panel's left edge.
  p.font(12);
  p.gray(0.1);
  cairo_save(cr);
  cairo_translate(cr, left + 12 + 12, (plot_top + plot_bottom) / 2);
  cairo_rotate(cr, -M_PI / 2);
  p.text(bars ? "" : panel.y_label, 0, 0, 0.5);
  cairo_restore(cr);
  p.gray(0.3);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, plot_left, plot_top, plot_width, plot_height);
  cairo_stroke(cr);
}

void draw(cairo_t* cr, const std::vector<SweepRow>& rows, const std::string& title, int width, int height) {
  std::vector<Panel> panels = panels_for(rows);
  if (panels.empty()) fail("--plot: one setting measured, nothing to draw");
  Painter p(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  p.font(14, true);
  p.gray(0.1);
  p.text("kiln sweep: " + title, width / 2.0, 20, 0.5);
  // The settings every row shares, under the title.
  std::string shared;
  for (const Axis& a : axes())
    if (!varies(rows, a) && !(a.key == "instances" && rows[0].instances == 1))
      shared += (shared.empty() ? "" : ", ") + a.describe(rows[0]);
  p.font(11);
  p.gray(0.3);
  p.text(shared, width / 2.0, 38, 0.5);
  const double panel_width = static_cast<double>(width) / static_cast<double>(panels.size());
  for (size_t i = 0; i < panels.size(); ++i)
    draw_panel(p, panels[i], rows, panel_width * static_cast<double>(i), kTitleHeight, panel_width,
               height - kTitleHeight);
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

PlotFormat plot_format_for(const std::string& path) {
  const std::string name = lower(path);
  auto ends_with = [&](const std::string& suffix) {
    return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".png")) return PlotFormat::kPng;
  if (ends_with(".svg")) return PlotFormat::kSvg;
  fail_usage("--plot ", path, ": the file name must end in .png or .svg (the format is chosen by it)");
}

std::vector<std::string> plot_panels(const std::vector<SweepRow>& rows) {
  std::vector<std::string> names;
  for (const Panel& panel : panels_for(rows)) names.push_back(panel.name);
  return names;
}

int default_plot_width(size_t panels) { return kPanelWidth * static_cast<int>(std::max<size_t>(panels, 1)); }
int default_plot_height() { return kPanelHeight; }

void write_sweep_plot(const std::string& path, PlotFormat format, const std::vector<SweepRow>& rows,
                      const std::string& title, int width, int height) {
  cairo_surface_t* surface = format == PlotFormat::kPng
                                 ? cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height)
                                 : cairo_svg_surface_create(path.c_str(), width, height);
  // In pixels, as the PNG and the printed size are (cairo's SVG default is points).
  if (format == PlotFormat::kSvg) cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX);
  cairo_t* cr = cairo_create(surface);
  std::string error;
  try {
    draw(cr, rows, title, width, height);
  } catch (const Error& e) {
    error = e.what();
  }
  cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);
  if (error.empty() && status == CAIRO_STATUS_SUCCESS) {
    if (format == PlotFormat::kPng) status = cairo_surface_write_to_png(surface, path.c_str());
    cairo_surface_finish(surface);  // the SVG surface writes its file here
    if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface);
  }
  cairo_surface_destroy(surface);
  // cairo's font caches and fontconfig's configuration would live until the
  // process exits, and LeakSanitizer reports fontconfig's as leaks; the plot
  // is the last drawing a run does, so both are released here (the next use,
  // if any, loads them again).
  cairo_debug_reset_static_data();
  FcFini();
  if (!error.empty()) {
    std::remove(path.c_str());  // the SVG surface wrote what it had
    fail(error);
  }
  if (status != CAIRO_STATUS_SUCCESS) fail("cannot write the plot ", path, ": ", cairo_status_to_string(status));
}

}  // namespace kiln::cli
