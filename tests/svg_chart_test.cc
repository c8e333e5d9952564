// The SVG chart writer: well-formed output, nice and log ticks, where points
// land in pixels, XML escaping, and the edge cases (one point, equal values,
// NaN, empty series, long category labels).
#include "sweep/svg_chart.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

namespace mb {
namespace {

// Every '&' in `text` starts one of the five XML entities.
bool EntitiesValid(const std::string& text) {
  static const std::regex kEntity("^&(amp|lt|gt|quot|apos);");
  for (size_t i = text.find('&'); i != std::string::npos; i = text.find('&', i + 1)) {
    if (!std::regex_search(text.substr(i, 8), kEntity)) return false;
  }
  return true;
}

// "" when `svg` is well-formed as far as this writer goes (one <svg> root,
// tags closed in order, attributes quoted, entities valid, no stray '<' or
// '&' in text), else the first problem. A full XML parser is not a test
// dependency; rsvg-convert renders these files in the manual check.
std::string XmlProblem(const std::string& svg) {
  static const std::regex kAttributes(R"(^(\s+[A-Za-z][\w:-]*="[^"<>]*")*\s*/?$)");
  size_t i = 0;
  if (svg.rfind("<?xml", 0) == 0) i = svg.find("?>") + 2;
  std::vector<std::string> open;
  int roots = 0;
  while (i < svg.size()) {
    const size_t lt = svg.find('<', i);
    const std::string text = svg.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    if (!EntitiesValid(text)) return "bad entity in text: " + text;
    if (lt == std::string::npos) break;
    if (open.empty() && roots > 0) return "content after the root element";
    const size_t gt = svg.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag";
    const std::string tag = svg.substr(lt + 1, gt - lt - 1);
    if (tag.empty()) return "empty tag";
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) {
        return "mismatched </" + tag.substr(1) + ">";
      }
      open.pop_back();
    } else {
      const size_t name_end = tag.find_first_of(" \n/");
      const std::string name = tag.substr(0, name_end);
      const std::string rest = name_end == std::string::npos ? "" : tag.substr(name_end);
      if (!std::regex_match(rest, kAttributes)) return "bad attributes in <" + tag + ">";
      if (!EntitiesValid(rest)) return "bad entity in <" + tag + ">";
      if (open.empty()) {
        if (name != "svg") return "root is <" + name + ">";
        ++roots;
      }
      if (tag.back() != '/') open.push_back(name);
    }
    i = gt + 1;
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return roots == 1 ? "" : "no <svg> root";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
  return n;
}

std::string Px(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

ChartPoint P(double x, double y, double error = NAN) {
  ChartPoint p;
  p.x = x;
  p.y = y;
  p.error = error;
  return p;
}

ChartSeries Series(const std::string& name, std::vector<ChartPoint> points) {
  ChartSeries series;
  series.name = name;
  series.points = std::move(points);
  return series;
}

// A chart with fixed axis ranges, so pixel positions are known exactly.
Chart FixedChart() {
  Chart chart;
  chart.title = "fixed";
  chart.x.label = "x (s)";
  chart.y.label = "y (%)";
  chart.x.min = 0;
  chart.x.max = 10;
  chart.y.min = 0;
  chart.y.max = 100;
  return chart;
}

void CheckNice(double min, double max) {
  INFO("range " << min << " .. " << max);
  const std::vector<double> ticks = NiceTicks(min, max, 6);
  REQUIRE(ticks.size() >= 2);
  CHECK(ticks.size() <= 10);
  const double step = ticks[1] - ticks[0];
  const double magnitude = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  const double mantissa = step / magnitude;
  CHECK((mantissa == Approx(1) || mantissa == Approx(2) || mantissa == Approx(5)));
  for (size_t i = 0; i < ticks.size(); ++i) {
    CHECK(ticks[i] == Approx(ticks[0] + static_cast<double>(i) * step));
    const double multiple = ticks[i] / step;
    CHECK(std::fabs(multiple - std::round(multiple)) < 1e-6);
    CHECK(ticks[i] >= min - 1e-9 * std::fabs(min));
    CHECK(ticks[i] <= max + 1e-9 * std::fabs(max));
  }
  // The ticks cover the range: no end is more than one step from a tick.
  CHECK(ticks.front() - step < min);
  CHECK(ticks.back() + step > max);
}

TEST_CASE("NiceTicks are 1-2-5 multiples covering the range", "[svg]") {
  const std::vector<double> unit = NiceTicks(0, 1, 6);
  REQUIRE(unit.size() == 6);
  for (size_t i = 0; i < unit.size(); ++i) CHECK(unit[i] == Approx(0.2 * static_cast<double>(i)));
  const std::vector<double> accuracy = NiceTicks(87.4, 98.0, 6);
  REQUIRE(accuracy.size() == 6);
  CHECK(accuracy.front() == Approx(88));
  CHECK(accuracy.back() == Approx(98));
  CheckNice(0, 1);
  CheckNice(87.4, 98.0);
  CheckNice(0.0731, 0.4721);
  CheckNice(-3.5, 12.25);
  CheckNice(95.02, 95.03);
  CheckNice(1, 1e6);
  CheckNice(-0.001, -0.0002);
  // Ranges far from zero finish (doubles cannot count through them by 1).
  CHECK(NiceTicks(1e17, 1e17 + 32, 6).size() <= 10);
  // A zero-width range is its one value; nonsense gives no ticks.
  CHECK(NiceTicks(3, 3, 6) == std::vector<double>{3});
  CHECK(NiceTicks(2, 1, 6).empty());
  CHECK(NiceTicks(0, NAN, 6).empty());
}

TEST_CASE("LogTicks are powers of ten", "[svg]") {
  CHECK(LogTicks(1.5e-4, 0.29) == std::vector<double>{1e-3, 1e-2, 1e-1});
  for (const double tick : LogTicks(0.9, 2e5)) {
    CHECK(std::log10(tick) == Approx(std::round(std::log10(tick))).margin(1e-12));
  }
  CHECK(LogTicks(0.9, 2e5).size() == 6);  // 1 .. 1e5
  // Over many decades, every other power.
  CHECK(LogTicks(1, 1e12).size() == 7);
  // Within one decade there are not two powers: 1-2-5 multiples instead.
  CHECK(LogTicks(1.5, 8) == std::vector<double>{2, 5});
  CHECK(LogTicks(0, 10).empty());
}

TEST_CASE("Points land at their pixel coordinates on linear axes", "[svg]") {
  Chart chart = FixedChart();
  chart.series.push_back(Series("s", {P(0, 0), P(2.5, 75), P(5, 50), P(10, 100)}));
  const ChartLayout layout = LayoutChart(chart);
  CHECK(layout.x_min == 0);
  CHECK(layout.x_max == 10);
  const std::string svg = RenderSvg(chart);
  REQUIRE(XmlProblem(svg) == "");
  std::string polyline;
  for (const ChartPoint& p : chart.series[0].points) {
    const double x = layout.plot_left + p.x / 10 * layout.plot_width;
    const double y = layout.plot_top + layout.plot_height * (1 - p.y / 100);
    CHECK(layout.XPixel(p.x, false) == Approx(x));
    CHECK(layout.YPixel(p.y, false) == Approx(y));
    CHECK_THAT(svg, Catch::Contains("cx=\"" + Px(x) + "\" cy=\"" + Px(y) + "\""));
    polyline += (polyline.empty() ? "" : " ") + Px(x) + "," + Px(y);
  }
  CHECK_THAT(svg, Catch::Contains("<polyline points=\"" + polyline + "\""));
  // Ticks at 0, 2, ..., 10 and 0, 20, ..., 100 with their gridlines.
  for (const char* label : {">0<", ">2<", ">10<", ">20<", ">100<"}) {
    CHECK_THAT(svg, Catch::Contains(label));
  }
  CHECK_THAT(svg, Catch::Contains(">x (s)</text>"));
  CHECK_THAT(svg, Catch::Contains(">y (%)</text>"));
}

TEST_CASE("A log axis puts each decade the same width apart", "[svg]") {
  Chart chart = FixedChart();
  chart.x.log10 = true;
  chart.x.min = 1;
  chart.x.max = 1000;
  // 0 and -1 cannot be shown on a log axis and are skipped.
  chart.series.push_back(Series("s", {P(0, 10), P(-1, 20), P(10, 50), P(1000, 60)}));
  const ChartLayout layout = LayoutChart(chart);
  const std::string svg = RenderSvg(chart);
  REQUIRE(XmlProblem(svg) == "");
  const double x10 = layout.plot_left + layout.plot_width / 3;
  CHECK(layout.XPixel(10, true) == Approx(x10));
  CHECK_THAT(svg, Catch::Contains("cx=\"" + Px(x10) + "\" cy=\"" + Px(layout.YPixel(50, false))));
  CHECK(Count(svg, "<circle") == 2 + 1);  // and the legend's marker
  for (const char* label : {">1<", ">10<", ">100<", ">1000<"}) {
    CHECK_THAT(svg, Catch::Contains(label));
  }

  // Within one decade: 1-2-5 ticks, labelled as they are.
  Chart narrow;
  narrow.x.log10 = true;
  narrow.series.push_back(Series("s", {P(1.5, 1), P(8, 2)}));
  const std::string narrow_svg = RenderSvg(narrow);
  CHECK(XmlProblem(narrow_svg) == "");
  CHECK_THAT(narrow_svg, Catch::Contains(">2<"));
  CHECK_THAT(narrow_svg, Catch::Contains(">5<"));
}

TEST_CASE("Ranges from the data keep every point inside the plot area", "[svg]") {
  Chart chart;
  chart.series.push_back(Series("a", {P(32, 95.02, 0.2), P(256, 97.6, 0.15)}));
  const ChartLayout layout = LayoutChart(chart);
  CHECK(layout.y_min < 95.02 - 0.2);
  CHECK(layout.y_max > 97.6 + 0.15);
  CHECK(layout.x_min < 32);
  CHECK(layout.x_max > 256);
  for (const ChartPoint& p : chart.series[0].points) {
    CHECK(layout.XPixel(p.x, false) > layout.plot_left + 5);
    CHECK(layout.XPixel(p.x, false) < layout.plot_left + layout.plot_width - 5);
  }
  // Error bars: a vertical line from y + error to y - error.
  const std::string svg = RenderSvg(chart);
  const double x = layout.XPixel(32, false);
  CHECK_THAT(svg, Catch::Contains("<line x1=\"" + Px(x) + "\" y1=\"" +
                                  Px(layout.YPixel(95.22, false)) + "\" x2=\"" + Px(x) +
                                  "\" y2=\"" + Px(layout.YPixel(94.82, false)) + "\""));
}

TEST_CASE("Text is escaped for XML", "[svg]") {
  Chart chart;
  chart.title = "t a<b&c";
  chart.subtitle = "it's \"quoted\"";
  chart.x.label = "x<1>";
  chart.x.categories = {"a<b&c", "d"};
  chart.legend_title = "k&v";
  chart.series.push_back(Series("a<b&c\x01", {P(0, 1), P(1, 2)}));
  const std::string svg = RenderSvg(chart);
  CHECK(XmlProblem(svg) == "");
  CHECK_THAT(svg, Catch::Contains("a&lt;b&amp;c"));
  CHECK_THAT(svg, Catch::Contains("it&apos;s &quot;quoted&quot;"));
  CHECK_THAT(svg, Catch::Contains("x&lt;1&gt;"));
  CHECK_THAT(svg, Catch::Contains(">k&amp;v<"));
  CHECK_THAT(svg, !Catch::Contains("a<b"));
  CHECK_THAT(svg, !Catch::Contains("\x01"));
  CHECK(XmlEscape("<&>\"'") == "&lt;&amp;&gt;&quot;&apos;");
}

TEST_CASE("NaN values are skipped and break the line", "[svg]") {
  Chart chart;
  chart.series.push_back(Series("s", {P(1, 1), P(2, NAN), P(3, 3), P(4, 4), P(NAN, 5)}));
  const std::string svg = RenderSvg(chart);
  CHECK(XmlProblem(svg) == "");
  CHECK(Count(svg, "<circle") == 3 + 1);  // three points and the legend's marker
  CHECK(Count(svg, "<polyline") == 1);    // (1, 1) stands alone: no line to it
  CHECK_THAT(svg, !Catch::Contains("nan"));
  CHECK_THAT(svg, !Catch::Contains("inf"));
}

TEST_CASE("One point, equal values and empty series still give a sound chart", "[svg]") {
  SECTION("one point") {
    Chart chart;
    chart.x.integer = true;
    chart.series.push_back(Series("s", {P(1, 0.39)}));
    const ChartLayout layout = LayoutChart(chart);
    CHECK(layout.x_min < 1);
    CHECK(layout.x_max > 1);
    CHECK(layout.y_min < 0.39);
    CHECK(layout.y_max > 0.39);
    const std::string svg = RenderSvg(chart);
    CHECK(XmlProblem(svg) == "");
    CHECK_THAT(svg, !Catch::Contains("nan"));
    CHECK_THAT(svg, Catch::Contains(">1<"));  // the one epoch is a tick
  }
  SECTION("all y equal") {
    Chart chart;
    chart.series.push_back(Series("s", {P(1, 2), P(2, 2), P(3, 2)}));
    const ChartLayout layout = LayoutChart(chart);
    CHECK(layout.y_min < 2);
    CHECK(layout.y_max > 2);
    CHECK(layout.YPixel(2, false) == Approx(layout.plot_top + layout.plot_height / 2));
    CHECK(XmlProblem(RenderSvg(chart)) == "");
  }
  SECTION("an empty series and an empty chart") {
    Chart chart;
    chart.title = "nothing";
    chart.series.push_back(Series("empty", {}));
    std::string svg = RenderSvg(chart);
    CHECK(XmlProblem(svg) == "");
    CHECK_THAT(svg, Catch::Contains(">no data<"));
    CHECK_THAT(svg, Catch::Contains(">empty<"));  // still in the legend
    chart.series.clear();
    svg = RenderSvg(chart);
    CHECK(XmlProblem(svg) == "");
    CHECK_THAT(svg, !Catch::Contains("nan"));
  }
}

TEST_CASE("Categories sit at the centres of equal slots", "[svg]") {
  Chart chart;
  chart.x.categories = {"sgd", "rmsprop", "adam"};
  chart.series.push_back(Series("s", {P(0, 90), P(1, 95), P(2, 97)}));
  const ChartLayout layout = LayoutChart(chart);
  CHECK(layout.XPixel(1, false) == Approx(layout.plot_left + layout.plot_width / 2));
  CHECK(layout.XPixel(0, false) == Approx(layout.plot_left + layout.plot_width / 6));
  std::string svg = RenderSvg(chart);
  CHECK(XmlProblem(svg) == "");
  for (const char* label : {">sgd<", ">rmsprop<", ">adam<"}) {
    CHECK_THAT(svg, Catch::Contains(label));
  }
  CHECK_THAT(svg, !Catch::Contains("rotate(-35"));
  // Labels too wide for their slots are slanted, and the chart grows to fit.
  chart.x.categories.assign(12, std::string(30, 'w'));
  svg = RenderSvg(chart);
  CHECK(XmlProblem(svg) == "");
  CHECK_THAT(svg, Catch::Contains("rotate(-35"));
  CHECK(LayoutChart(chart).height > layout.height + 100);
}

TEST_CASE("The legend sits right of the plot area and fits in the SVG", "[svg]") {
  Chart chart;
  const std::string long_name = "optimizer=sgd (momentum=0.9), optimizer.learning_rate=0.03";
  chart.series.push_back(Series(long_name, {P(1, 1), P(2, 2)}));
  chart.series.push_back(Series("short", {P(1, 2), P(2, 1)}));
  ChartSeries hidden = Series("hidden", {P(1, 3)});
  hidden.in_legend = false;
  chart.series.push_back(hidden);
  const ChartLayout layout = LayoutChart(chart);
  CHECK(layout.legend_left >= layout.plot_left + layout.plot_width);
  // Text is estimated at 0.62 em a glyph; DejaVu Sans averages less.
  CHECK(layout.width >= layout.legend_left + 26 + 12 * 0.6 * long_name.size());
  const std::string svg = RenderSvg(chart);
  CHECK_THAT(svg, Catch::Contains(">short<"));
  CHECK_THAT(svg, !Catch::Contains(">hidden<"));
  // Series take the palette in order; the same chart gives the same bytes.
  CHECK_THAT(svg, Catch::Contains(PaletteColor(0)));
  CHECK_THAT(svg, Catch::Contains(PaletteColor(1)));
  CHECK(RenderSvg(chart) == svg);
}

TEST_CASE("A step series goes across, then up or down", "[svg]") {
  Chart chart = FixedChart();
  ChartSeries step = Series("front", {P(1, 10), P(4, 30)});
  step.style = SeriesStyle::kStep;
  chart.series.push_back(step);
  const ChartLayout layout = LayoutChart(chart);
  const std::string svg = RenderSvg(chart);
  const auto at = [&layout](double x, double y) {
    return Px(layout.XPixel(x, false)) + "," + Px(layout.YPixel(y, false));
  };
  CHECK_THAT(svg,
             Catch::Contains("points=\"" + at(1, 10) + " " + at(4, 10) + " " + at(4, 30) + "\""));
}

TEST_CASE("The palette has distinct colours and wraps around", "[svg]") {
  for (int i = 0; i < kPaletteSize; ++i) {
    for (int j = i + 1; j < kPaletteSize; ++j) {
      CHECK(std::string(PaletteColor(i)) != PaletteColor(j));
    }
  }
  CHECK(std::string(PaletteColor(kPaletteSize)) == PaletteColor(0));
  CHECK(std::string(PaletteColor(-1)) == PaletteColor(kPaletteSize - 1));
}

}  // namespace
}  // namespace mb
