#include "sweep/svg_chart.h"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <utility>

namespace mb {
namespace {

// Type sizes (px) and the fixed parts of the layout.
constexpr double kTitleSize = 16;
constexpr double kTextSize = 12;   // subtitle, ticks, legend
constexpr double kLabelSize = 13;  // axis labels
constexpr double kPad = 16;        // outer margin
constexpr double kPlotWidth = 600;
constexpr double kPlotHeight = 360;
constexpr double kLegendGap = 28;     // between the plot area and the legend
constexpr double kLegendRow = 20;     // legend line spacing
constexpr double kLegendSample = 26;  // the line drawn before each legend name
constexpr double kTickLength = 5;
constexpr double kLabelAngle = 35;  // degrees, for x labels too wide to sit flat
constexpr double kRadiansPerDegree = 3.14159265358979323846 / 180;
constexpr double kMarginFraction = 0.04;  // of the data range, so no point sits on the frame

constexpr const char* kFont = "DejaVu Sans, Arial, Helvetica, sans-serif";
constexpr const char* kTextColor = "#222222";
constexpr const char* kMutedColor = "#555555";
constexpr const char* kGridColor = "#e3e3e3";
constexpr const char* kMinorGridColor = "#f2f2f2";
constexpr const char* kAxisColor = "#444444";

// A fixed-point number with `decimals` digits, "-0" written as "0", so the
// output does not depend on rounding noise or the locale's defaults.
std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  std::string out = text;
  if (out.find_first_not_of("-0.") == std::string::npos && out[0] == '-') out.erase(0, 1);
  return out;
}

// Pixel coordinates, to a hundredth of a pixel.
std::string Px(double value) { return Fixed(value, 2); }

// Approximate width of `text` in px: DejaVu Sans glyphs average about 0.6 em
// (digits 0.64), so this errs on the wide side and text is never clipped.
double TextWidth(const std::string& text, double size) {
  size_t glyphs = 0;
  for (const char c : text) glyphs += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return static_cast<double>(glyphs) * size * 0.62;
}

// Decimals enough to tell ticks `step` apart.
int DecimalsFor(double step) {
  return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
}

// A tick value as text. On a log axis: powers of ten as plain decimals while
// short, else in e notation; other values (few ticks in a narrow range) in
// up to 6 significant digits.
std::string TickLabel(double value, double step, bool log10) {
  if (!log10) return Fixed(value, DecimalsFor(step));
  const double exponent = std::log10(value);
  const double rounded = std::round(exponent);
  if (std::fabs(exponent - rounded) >= 1e-9) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", value);
    return text;
  }
  if (rounded < -4 || rounded > 6) return "1e" + Fixed(rounded, 0);
  return Fixed(value, DecimalsFor(value));
}

bool Usable(const ChartPoint& p, const Chart& chart) {
  return std::isfinite(p.x) && std::isfinite(p.y) && (!chart.x.log10 || p.x > 0) &&
         (!chart.y.log10 || p.y > 0);
}

bool HasError(const ChartPoint& p) { return std::isfinite(p.error) && p.error > 0; }

// An axis position: the value itself, or its log10 on a log axis.
double AxisValue(double value, bool log10) { return log10 ? std::log10(value) : value; }

struct AxisTicks {
  double min = 0, max = 1;        // the range shown, in axis units (log10 on a log axis)
  std::vector<double> positions;  // in axis units
  std::vector<std::string> labels;
  std::vector<double> minor;  // log axes: 2..9 x 10^k gridlines
  double widest = 0;          // px, of the tick labels
};

// The range the axis shows: the fixed one, else the data's (in axis units)
// plus a margin; a single value gets a range around it.
std::pair<double, double> AxisRange(const ChartAxis& axis, double lo, double hi) {
  if (!axis.categories.empty()) {
    return {-0.5, static_cast<double>(axis.categories.size()) - 0.5};
  }
  if (std::isfinite(axis.min) && std::isfinite(axis.max) && axis.max > axis.min) {
    return {AxisValue(axis.min, axis.log10), AxisValue(axis.max, axis.log10)};
  }
  if (!(lo <= hi)) return {0, 1};  // no data
  if (hi == lo) {
    const double pad = axis.log10 || axis.integer ? 0.5 : lo != 0 ? std::fabs(lo) * 0.02 : 1;
    return {lo - pad, hi + pad};
  }
  const double margin = (hi - lo) * kMarginFraction;
  if (!std::isfinite(margin) || lo - margin == lo || hi + margin == hi) {
    return {lo, hi};  // a span doubles cannot widen (or overflowing): shown as it is
  }
  return {lo - margin, hi + margin};
}

AxisTicks MakeTicks(const ChartAxis& axis, double lo, double hi, int target) {
  AxisTicks ticks;
  std::tie(ticks.min, ticks.max) = AxisRange(axis, lo, hi);
  if (!axis.categories.empty()) {
    for (size_t i = 0; i < axis.categories.size(); ++i) {
      ticks.positions.push_back(static_cast<double>(i));
      ticks.labels.push_back(axis.categories[i]);
    }
  } else if (axis.log10) {
    const double min = std::pow(10.0, ticks.min), max = std::pow(10.0, ticks.max);
    for (const double value : LogTicks(min, max)) {
      ticks.positions.push_back(std::log10(value));
      ticks.labels.push_back(TickLabel(value, value, true));
    }
    if (ticks.max - ticks.min <= 6) {
      for (double decade = std::floor(ticks.min); decade <= ticks.max; ++decade) {
        for (int m = 2; m <= 9; ++m) {
          const double position = decade + std::log10(m);
          if (position > ticks.min && position < ticks.max) ticks.minor.push_back(position);
        }
      }
    }
  } else {
    std::vector<double> values = NiceTicks(ticks.min, ticks.max, target);
    double step = values.size() > 1 ? values[1] - values[0] : 1;
    if (axis.integer && step < 1 && ticks.max - ticks.min < 1000) {
      values.clear();
      for (double v = std::ceil(ticks.min); v <= ticks.max; ++v) values.push_back(v);
      step = 1;
    }
    for (const double value : values) {
      ticks.positions.push_back(value);
      ticks.labels.push_back(TickLabel(value, step, false));
    }
  }
  for (const std::string& label : ticks.labels) {
    ticks.widest = std::max(ticks.widest, TextWidth(label, kTextSize));
  }
  return ticks;
}

// Everything the drawing needs: the public layout plus ticks and legend.
struct Frame {
  ChartLayout layout;
  AxisTicks x, y;
  bool rotate_x_labels = false;
  double x_tick_block = 0;  // px from the plot area's bottom edge to below the x tick labels
  std::vector<const ChartSeries*> legend;
  double legend_width = 0;
};

Frame Compute(const Chart& chart) {
  Frame frame;
  // The data's extent in axis units, error bars included.
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const ChartSeries& series : chart.series) {
    for (const ChartPoint& p : series.points) {
      if (!Usable(p, chart)) continue;
      const double x = AxisValue(p.x, chart.x.log10);
      x_lo = std::min(x_lo, x);
      x_hi = std::max(x_hi, x);
      double low = p.y, high = p.y;
      if (HasError(p)) {
        high = p.y + p.error;
        if (!chart.y.log10 || p.y - p.error > 0) low = p.y - p.error;
      }
      y_lo = std::min(y_lo, AxisValue(low, chart.y.log10));
      y_hi = std::max(y_hi, AxisValue(high, chart.y.log10));
    }
  }
  frame.y = MakeTicks(chart.y, y_lo, y_hi, 6);
  // Fewer x ticks until their labels fit side by side.
  const double spacing_needed = 12;
  for (int target = 7; target >= 2; --target) {
    frame.x = MakeTicks(chart.x, x_lo, x_hi, target);
    if (!chart.x.categories.empty() || chart.x.log10) break;
    const double pixels_per_tick =
        frame.x.positions.size() > 1 ? kPlotWidth * (frame.x.positions[1] - frame.x.positions[0]) /
                                           (frame.x.max - frame.x.min)
                                     : kPlotWidth;
    if (frame.x.widest + spacing_needed <= pixels_per_tick) break;
  }
  const double category_spacing = chart.x.categories.empty()
                                      ? kPlotWidth
                                      : kPlotWidth / static_cast<double>(chart.x.categories.size());
  frame.rotate_x_labels =
      !chart.x.categories.empty() && frame.x.widest + spacing_needed > category_spacing;

  for (const ChartSeries& series : chart.series) {
    if (!series.in_legend) continue;
    frame.legend.push_back(&series);
    frame.legend_width = std::max(frame.legend_width, TextWidth(series.name, kTextSize));
  }
  if (!frame.legend.empty()) {
    frame.legend_width += kLegendSample + 8;
    if (!chart.legend_title.empty()) {
      frame.legend_width =
          std::max(frame.legend_width, TextWidth(chart.legend_title, kTextSize) * 1.1);
    }
  }

  ChartLayout& layout = frame.layout;
  const double cos_angle = std::cos(kLabelAngle * kRadiansPerDegree);
  const double sin_angle = std::sin(kLabelAngle * kRadiansPerDegree);
  layout.plot_left = kPad + kLabelSize + 10 + frame.y.widest + 10;
  if (frame.rotate_x_labels) {
    // The first label slants down to the left from under its category.
    const double first = TextWidth(chart.x.categories.front(), kTextSize) * cos_angle;
    layout.plot_left = std::max(layout.plot_left, kPad + first - category_spacing / 2);
  }
  layout.plot_top = kPad + kTitleSize + (chart.subtitle.empty() ? 16 : 36);
  layout.plot_width = kPlotWidth;
  layout.plot_height = kPlotHeight;
  layout.x_min = frame.x.min;
  layout.x_max = frame.x.max;
  layout.y_min = frame.y.min;
  layout.y_max = frame.y.max;
  const double plot_right = layout.plot_left + kPlotWidth;
  layout.legend_left = plot_right + kLegendGap;

  // Room on the right for the legend, or for half of the last x label.
  double right = frame.legend.empty() ? plot_right + frame.x.widest / 2 + kPad
                                      : layout.legend_left + frame.legend_width + kPad;
  right = std::max(right, kPad + TextWidth(chart.title, kTitleSize) * 1.05 + kPad);
  right = std::max(right, kPad + TextWidth(chart.subtitle, kTextSize) + kPad);
  layout.width = std::ceil(right);

  frame.x_tick_block = frame.rotate_x_labels
                           ? kTickLength + 6 + frame.x.widest * sin_angle + kTextSize * cos_angle
                           : kTickLength + 6 + kTextSize;
  double bottom = layout.plot_top + kPlotHeight + frame.x_tick_block + 10 + kLabelSize + kPad;
  const double legend_rows =
      static_cast<double>(frame.legend.size()) + (chart.legend_title.empty() ? 0 : 1);
  bottom = std::max(bottom, layout.plot_top + legend_rows * kLegendRow + kPad);
  layout.height = std::ceil(bottom);
  return frame;
}

// How a series looks: its colour and marker shape.
struct Look {
  std::string color;
  int shape = 0;  // 0 circle, 1 square, 2 triangle, 3 diamond
};

Look LookOf(const ChartSeries& series, size_t position) {
  const int index = series.palette_index >= 0 ? series.palette_index : static_cast<int>(position);
  Look look;
  look.color = series.color.empty() ? PaletteColor(index) : series.color;
  look.shape = series.color.empty() ? (index / kPaletteSize) % 4 : 0;
  return look;
}

std::string Marker(double x, double y, const Look& look, bool hollow) {
  const double r = hollow ? 7 : 4;
  const std::string paint =
      hollow ? "fill=\"none\" stroke=\"" + look.color + "\" stroke-width=\"2\""
             : "fill=\"" + look.color + "\" stroke=\"#ffffff\" stroke-width=\"1\"";
  switch (look.shape) {
    case 1:
      return "<rect x=\"" + Px(x - r * 0.85) + "\" y=\"" + Px(y - r * 0.85) + "\" width=\"" +
             Px(r * 1.7) + "\" height=\"" + Px(r * 1.7) + "\" " + paint + "/>\n";
    case 2:
      return "<path d=\"M" + Px(x) + " " + Px(y - r * 1.15) + "L" + Px(x + r) + " " +
             Px(y + r * 0.75) + "L" + Px(x - r) + " " + Px(y + r * 0.75) + "Z\" " + paint + "/>\n";
    case 3:
      return "<path d=\"M" + Px(x) + " " + Px(y - r * 1.2) + "L" + Px(x + r * 1.2) + " " + Px(y) +
             "L" + Px(x) + " " + Px(y + r * 1.2) + "L" + Px(x - r * 1.2) + " " + Px(y) + "Z\" " +
             paint + "/>\n";
    default:
      return "<circle cx=\"" + Px(x) + "\" cy=\"" + Px(y) + "\" r=\"" + Px(r) + "\" " + paint +
             "/>\n";
  }
}

std::string LineStyle(const Look& look, bool dashed) {
  return "fill=\"none\" stroke=\"" + look.color +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" +
         (dashed ? " stroke-dasharray=\"7 4\"" : "");
}

std::string Text(double x, double y, const std::string& text, double size, const char* anchor,
                 const char* color, const std::string& extra = "") {
  return "<text x=\"" + Px(x) + "\" y=\"" + Px(y) + "\" font-size=\"" + Fixed(size, 0) +
         "\" text-anchor=\"" + anchor + "\" fill=\"" + color + "\"" + extra + ">" +
         XmlEscape(text) + "</text>\n";
}

std::string Line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + Px(x1) + "\" y1=\"" + Px(y1) + "\" x2=\"" + Px(x2) + "\" y2=\"" + Px(y2) +
         "\" " + style + "/>\n";
}

// The series' lines: one polyline per run of usable points, so a skipped
// point breaks the line instead of bridging it.
std::string SeriesLines(const Chart& chart, const ChartLayout& layout, const ChartSeries& series,
                        const Look& look) {
  std::string svg;
  std::string points;
  size_t count = 0;
  double last_y = 0;
  const auto flush = [&] {
    if (count > 1) {
      svg += "<polyline points=\"" + points + "\" " + LineStyle(look, series.dashed) + "/>\n";
    }
    points.clear();
    count = 0;
  };
  for (const ChartPoint& p : series.points) {
    if (!Usable(p, chart)) {
      flush();
      continue;
    }
    const double x = layout.XPixel(p.x, chart.x.log10), y = layout.YPixel(p.y, chart.y.log10);
    if (series.style == SeriesStyle::kStep && count > 0) {
      points += " " + Px(x) + "," + Px(last_y);
    }
    points += (count > 0 ? " " : "") + Px(x) + "," + Px(y);
    last_y = y;
    ++count;
  }
  flush();
  return svg;
}

std::string SeriesMarks(const Chart& chart, const ChartLayout& layout, const ChartSeries& series,
                        const Look& look) {
  std::string svg;
  for (const ChartPoint& p : series.points) {
    if (!Usable(p, chart) || !HasError(p)) continue;
    const double x = layout.XPixel(p.x, chart.x.log10);
    const double top = layout.YPixel(p.y + p.error, chart.y.log10);
    const double low = p.y - p.error;
    const double bottom = chart.y.log10 && low <= 0 ? layout.plot_top + layout.plot_height
                                                    : layout.YPixel(low, chart.y.log10);
    const std::string style = "stroke=\"" + look.color + "\" stroke-width=\"1.5\"";
    svg += Line(x, top, x, bottom, style) + Line(x - 4, top, x + 4, top, style) +
           Line(x - 4, bottom, x + 4, bottom, style);
  }
  if (!series.markers) return svg;
  for (const ChartPoint& p : series.points) {
    if (!Usable(p, chart)) continue;
    svg += Marker(layout.XPixel(p.x, chart.x.log10), layout.YPixel(p.y, chart.y.log10), look,
                  series.hollow_markers);
  }
  return svg;
}

std::string Axes(const Chart& chart, const Frame& frame) {
  const ChartLayout& l = frame.layout;
  const double left = l.plot_left, top = l.plot_top;
  const double right = left + l.plot_width, bottom = top + l.plot_height;
  const auto x_pixel = [&](double v) {
    return left + (v - l.x_min) / (l.x_max - l.x_min) * l.plot_width;
  };
  const auto y_pixel = [&](double v) {
    return bottom - (v - l.y_min) / (l.y_max - l.y_min) * l.plot_height;
  };
  std::string svg = "<g>\n";
  const std::string minor = "stroke=\"" + std::string(kMinorGridColor) + "\" stroke-width=\"1\"";
  const std::string grid = "stroke=\"" + std::string(kGridColor) + "\" stroke-width=\"1\"";
  const std::string tick = "stroke=\"" + std::string(kAxisColor) + "\" stroke-width=\"1\"";
  for (const double v : frame.x.minor) svg += Line(x_pixel(v), top, x_pixel(v), bottom, minor);
  for (const double v : frame.y.minor) svg += Line(left, y_pixel(v), right, y_pixel(v), minor);
  // No vertical gridlines between categories: they are not a scale.
  if (chart.x.categories.empty()) {
    for (const double v : frame.x.positions) svg += Line(x_pixel(v), top, x_pixel(v), bottom, grid);
  }
  for (const double v : frame.y.positions) svg += Line(left, y_pixel(v), right, y_pixel(v), grid);
  svg += "<rect x=\"" + Px(left) + "\" y=\"" + Px(top) + "\" width=\"" + Px(l.plot_width) +
         "\" height=\"" + Px(l.plot_height) + "\" fill=\"none\" stroke=\"" + kAxisColor +
         "\" stroke-width=\"1\"/>\n";

  for (size_t i = 0; i < frame.x.positions.size(); ++i) {
    const double x = x_pixel(frame.x.positions[i]);
    svg += Line(x, bottom, x, bottom + kTickLength, tick);
    if (frame.rotate_x_labels) {
      const double y = bottom + kTickLength + 4 + kTextSize * 0.8;
      svg +=
          Text(x, y, frame.x.labels[i], kTextSize, "end", kTextColor,
               " transform=\"rotate(-" + Fixed(kLabelAngle, 0) + " " + Px(x) + " " + Px(y) + ")\"");
    } else {
      svg += Text(x, bottom + kTickLength + 4 + kTextSize * 0.8, frame.x.labels[i], kTextSize,
                  "middle", kTextColor);
    }
  }
  for (size_t i = 0; i < frame.y.positions.size(); ++i) {
    const double y = y_pixel(frame.y.positions[i]);
    svg += Line(left - kTickLength, y, left, y, tick);
    svg += Text(left - kTickLength - 4, y + kTextSize * 0.35, frame.y.labels[i], kTextSize, "end",
                kTextColor);
  }
  svg += Text(left + l.plot_width / 2, bottom + frame.x_tick_block + 10 + kLabelSize * 0.8,
              chart.x.label, kLabelSize, "middle", kTextColor);
  const double label_x = kPad + kLabelSize * 0.8;
  const double label_y = top + l.plot_height / 2;
  svg += Text(label_x, label_y, chart.y.label, kLabelSize, "middle", kTextColor,
              " transform=\"rotate(-90 " + Px(label_x) + " " + Px(label_y) + ")\"");
  return svg + "</g>\n";
}

std::string Legend(const Chart& chart, const Frame& frame) {
  if (frame.legend.empty()) return "";
  std::string svg = "<g>\n";
  const double x = frame.layout.legend_left;
  double y = frame.layout.plot_top + 6;
  if (!chart.legend_title.empty()) {
    svg +=
        Text(x, y + 4, chart.legend_title, kTextSize, "start", kTextColor, " font-weight=\"bold\"");
    y += kLegendRow;
  }
  for (const ChartSeries* series : frame.legend) {
    const Look look = LookOf(*series, static_cast<size_t>(series - chart.series.data()));
    if (series->style != SeriesStyle::kPoints) {
      svg += Line(x, y, x + kLegendSample, y, LineStyle(look, series->dashed));
    }
    if (series->markers) svg += Marker(x + kLegendSample / 2, y, look, series->hollow_markers);
    svg += Text(x + kLegendSample + 8, y + kTextSize * 0.35, series->name, kTextSize, "start",
                kTextColor);
    y += kLegendRow;
  }
  return svg + "</g>\n";
}

}  // namespace

double ChartLayout::XPixel(double x, bool log10) const {
  return plot_left + (AxisValue(x, log10) - x_min) / (x_max - x_min) * plot_width;
}

double ChartLayout::YPixel(double y, bool log10) const {
  return plot_top + plot_height - (AxisValue(y, log10) - y_min) / (y_max - y_min) * plot_height;
}

ChartLayout LayoutChart(const Chart& chart) { return Compute(chart).layout; }

std::vector<double> NiceTicks(double min, double max, int target) {
  if (!std::isfinite(min) || !std::isfinite(max) || max < min) return {};
  if (max == min) return {min};
  // Of the 1-2-5 steps from a tenth to fifty times the even split, the one
  // whose tick count is nearest the target (the larger step on a tie): a
  // fixed rounding of the split can leave as few as half the ticks wanted.
  const double split = (max - min) / std::max(1, target - 1);
  const double decade = std::pow(10.0, std::floor(std::log10(split)) - 1);
  std::vector<double> best;
  for (int i = 0; i < 9; ++i) {
    const double step = decade * std::pow(10.0, i / 3) * (i % 3 == 0 ? 1 : i % 3 == 1 ? 2 : 5);
    std::vector<double> ticks;
    const double first = std::ceil(min / step - 1e-9), last = std::floor(max / step + 1e-9);
    // Far too many ticks, or a range too narrow for doubles to count through.
    if (!(last - first < 1000) || first + 1 == first) continue;
    for (double k = first; k <= last; ++k) ticks.push_back(k == 0 ? 0.0 : k * step);
    const auto miss = [target](const std::vector<double>& t) {
      return std::abs(static_cast<int>(t.size()) - target);
    };
    if (ticks.size() >= 2 && (best.empty() || miss(ticks) <= miss(best))) best = std::move(ticks);
  }
  return best;
}

std::vector<double> LogTicks(double min, double max) {
  if (!(min > 0) || !(max >= min) || !std::isfinite(max)) return {};
  const double lo = std::ceil(std::log10(min) - 1e-9), hi = std::floor(std::log10(max) + 1e-9);
  std::vector<double> ticks;
  if (hi > lo) {
    // Every power of ten, or every other one over many decades.
    const double every = hi - lo > 8 ? 2 : 1;
    for (double k = lo; k <= hi; k += every) ticks.push_back(std::pow(10.0, k));
    return ticks;
  }
  for (double decade = std::floor(std::log10(min)); decade <= std::ceil(std::log10(max));
       ++decade) {
    for (const double m : {1.0, 2.0, 5.0}) {
      const double value = m * std::pow(10.0, decade);
      if (value >= min * (1 - 1e-9) && value <= max * (1 + 1e-9)) ticks.push_back(value);
    }
  }
  return ticks.size() >= 2 ? ticks : NiceTicks(min, max, 4);
}

const char* PaletteColor(int index) {
  static constexpr const char* kColors[kPaletteSize] = {
      "#0072B2",  // blue
      "#E69F00",  // orange
      "#009E73",  // bluish green
      "#D55E00",  // vermillion
      "#CC79A7",  // reddish purple
      "#56B4E9",  // sky blue
      "#000000",  // black
  };
  return kColors[((index % kPaletteSize) + kPaletteSize) % kPaletteSize];
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters but tab and newlines.
        out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  return out;
}

std::string RenderSvg(const Chart& chart) {
  const Frame frame = Compute(chart);
  const ChartLayout& l = frame.layout;
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Fixed(l.width, 0) + "\" height=\"" +
         Fixed(l.height, 0) + "\" viewBox=\"0 0 " + Fixed(l.width, 0) + " " + Fixed(l.height, 0) +
         "\" font-family=\"" + kFont + "\">\n";
  svg += "<title>" + XmlEscape(chart.title) + "</title>\n";
  svg += "<defs><clipPath id=\"plot-area\"><rect x=\"" + Px(l.plot_left) + "\" y=\"" +
         Px(l.plot_top) + "\" width=\"" + Px(l.plot_width) + "\" height=\"" + Px(l.plot_height) +
         "\"/></clipPath></defs>\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  svg += Text(kPad, kPad + kTitleSize * 0.8, chart.title, kTitleSize, "start", kTextColor,
              " font-weight=\"bold\"");
  if (!chart.subtitle.empty()) {
    svg += Text(kPad, kPad + kTitleSize + 14, chart.subtitle, kTextSize, "start", kMutedColor);
  }
  svg += Axes(chart, frame);

  // Lines first, then error bars and markers, so no line hides a point.
  bool any_point = false;
  std::string lines, marks;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const ChartSeries& series = chart.series[i];
    const Look look = LookOf(series, i);
    if (series.style != SeriesStyle::kPoints) lines += SeriesLines(chart, l, series, look);
    marks += SeriesMarks(chart, l, series, look);
    for (const ChartPoint& p : series.points) any_point = any_point || Usable(p, chart);
  }
  svg += "<g clip-path=\"url(#plot-area)\">\n" + lines + marks + "</g>\n";
  if (!any_point) {
    svg += Text(l.plot_left + l.plot_width / 2, l.plot_top + l.plot_height / 2, "no data",
                kLabelSize, "middle", kMutedColor);
  }
  svg += Legend(chart, frame);
  return svg + "</svg>\n";
}

}  // namespace mb
