// A small self-contained SVG chart writer for `runner plot`: one plot area
// with a title, axis labels (with units), nice ticks and gridlines, several
// named series (lines, points, steps, error bars) and a legend to the right
// of the plot area, so it never covers data. No fonts, scripts or images are
// referenced, so a chart opens anywhere, and every number is written with a
// fixed number of decimals, so the same chart always gives the same bytes.
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace mb {

struct ChartAxis {
  std::string label;     // with its unit, e.g. "training time (s)"
  bool log10 = false;    // log scale with ticks at powers of ten; values <= 0 are skipped
  bool integer = false;  // ticks only at whole numbers (epochs)
  // Non-empty: a categorical axis. Point i of a series sits at x = category
  // index (fractions allowed, to set series side by side), and the ticks are
  // these labels.
  std::vector<std::string> categories;
  // A fixed range; NaN: from the data, with a margin.
  double min = NAN;
  double max = NAN;
};

struct ChartPoint {
  double x = NAN;
  double y = NAN;      // NaN (or a non-positive x on a log axis): skipped, breaking the line
  double error = NAN;  // half-length of an error bar (e.g. one std); NaN or 0: none
};

enum class SeriesStyle {
  kLine,    // points joined in order
  kPoints,  // points only
  kStep,    // horizontal then vertical: the best value reached so far
};

struct ChartSeries {
  std::string name;  // its legend entry
  std::vector<ChartPoint> points;
  SeriesStyle style = SeriesStyle::kLine;
  bool dashed = false;
  bool markers = true;
  bool hollow_markers = false;  // larger rings, to mark points drawn by another series
  // Colour and marker shape: palette entry `palette_index` (-1: the series'
  // position), unless `color` ("#rrggbb") is set.
  int palette_index = -1;
  std::string color;
  bool in_legend = true;  // a series without points still gets its legend entry
};

struct Chart {
  std::string title;
  std::string subtitle;  // one line under the title, e.g. what was averaged
  ChartAxis x;
  ChartAxis y;
  std::vector<ChartSeries> series;  // drawn in order: later ones on top
  std::string legend_title;
};

// Where the plot area is in the SVG's pixel coordinates, and the data range
// it shows (for log axes, the range of log10 of the values).
struct ChartLayout {
  double width = 0, height = 0;  // of the whole SVG
  double plot_left = 0, plot_top = 0, plot_width = 0, plot_height = 0;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  double legend_left = 0;  // the legend's left edge (right of the plot area)
  double XPixel(double x, bool log10) const;
  double YPixel(double y, bool log10) const;
};

ChartLayout LayoutChart(const Chart& chart);

// The chart as a complete SVG document.
std::string RenderSvg(const Chart& chart);

// Ticks at multiples of a 1, 2 or 5 times 10^k step inside [min, max],
// about `target` of them (at least two when the range allows).
std::vector<double> NiceTicks(double min, double max, int target);
// Ticks for a log axis over [min, max] (actual values, not logs): the powers
// of ten inside it, or 1-2-5 multiples when it holds fewer than two.
std::vector<double> LogTicks(double min, double max);

// Colour-blind-safe colours (Okabe and Ito, without its yellow, which is
// unreadable on white); index i wraps around.
const char* PaletteColor(int index);
inline constexpr int kPaletteSize = 7;

// `text` with & < > " ' escaped and control characters replaced, so it can go
// in SVG text and attribute values.
std::string XmlEscape(const std::string& text);

}  // namespace mb
