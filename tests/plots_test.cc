// `runner plot`: which charts a set of reports gives and what they hold
// (means over seeds, axes, series, the Pareto front), and the files written.
#include "sweep/plots.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "report/atomic_file.h"
#include "temp_dir.h"

namespace mb {
namespace {

using json = nlohmann::json;

// A completed report with two epochs (with validation). `varied` holds the
// sweep's values including the seed, which also go into the config; without
// `sweep_name` it is a plain run.
LoadedReport Run(const json& varied, double accuracy, double epoch_seconds,
                 const std::string& sweep_name = "s", int index = 0) {
  json config = {{"name", sweep_name.empty() ? "plain" : sweep_name}, {"seed", 1}};
  for (const auto& item : varied.items()) config[item.key()] = item.value();
  const double loss = 1 - accuracy;
  json report = {{"schema_version", 1},
                 {"status", "completed"},
                 {"config", config},
                 {"config_hash", "hash-" + varied.dump()},
                 {"epochs",
                  {{{"epoch", 1},
                    {"loss", 2 * loss},
                    {"accuracy", accuracy - 0.1},
                    {"val_loss", 3 * loss},
                    {"val_accuracy", accuracy - 0.05},
                    {"seconds", epoch_seconds}},
                   {{"epoch", 2},
                    {"loss", loss},
                    {"accuracy", accuracy},
                    {"val_loss", 2 * loss},
                    {"val_accuracy", accuracy - 0.01},
                    {"seconds", epoch_seconds}}}},
                 {"test", {{"loss", loss}, {"accuracy", accuracy}}},
                 {"finished_at", "2026-11-29T00:00:00Z"}};
  if (!sweep_name.empty()) {
    report["sweep"] = {{"name", sweep_name},
                       {"index", index},
                       {"point_id", "id-" + varied.dump()},
                       {"varied", varied}};
  }
  return {"r/" + sweep_name + "/" + std::to_string(1000 + index) + "/report.json", report};
}

// 4 widths x 2 seeds; accuracy and time grow with the width.
std::vector<LoadedReport> WidthSweep() {
  std::vector<LoadedReport> reports;
  int index = 0;
  for (const int units : {32, 64, 128, 256}) {
    for (const int seed : {1, 2}) {
      const double accuracy = 0.9 + units / 10000.0 + seed / 1000.0;
      reports.push_back(Run({{"model.0.units", units}, {"seed", seed}}, accuracy,
                            units / 1000.0 + seed / 100.0, "width", index++));
    }
  }
  return reports;
}

const PlotFile& Find(const std::vector<PlotFile>& plots, const std::string& name) {
  for (const PlotFile& plot : plots) {
    if (plot.name == name) return plot;
  }
  FAIL("no plot " << name);
  throw std::logic_error("unreachable");
}

std::vector<std::string> Names(const std::vector<PlotFile>& plots) {
  std::vector<std::string> names;
  for (const PlotFile& plot : plots) names.push_back(plot.name);
  return names;
}

std::vector<std::string> LegendNames(const Chart& chart) {
  std::vector<std::string> names;
  for (const ChartSeries& series : chart.series) {
    if (series.in_legend) names.push_back(series.name);
  }
  return names;
}

TEST_CASE("ParetoFront keeps the runs nothing beats on both time and accuracy", "[plot]") {
  //                            0     1     2     3     4     5    6
  const std::vector<double> s = {1.0, 2.0, 3.0, 2.0, 4.0, 1.5, NAN};
  const std::vector<double> a = {0.90, 0.95, 0.94, 0.95, 0.97, 0.89, 0.99};
  // 5 is slower and worse than 0, 2 slower and worse than 1, 3 the same as 1
  // (the first is kept), 6 has no time.
  CHECK(ParetoFront(s, a) == std::vector<size_t>{0, 1, 4});
  // At equal times only the most accurate; a faster and better run wins alone.
  CHECK(ParetoFront({1, 1}, {0.8, 0.9}) == std::vector<size_t>{1});
  CHECK(ParetoFront({2, 1}, {0.8, 0.9}) == std::vector<size_t>{1});
  CHECK(ParetoFront({}, {}).empty());
}

TEST_CASE("A width sweep gives learning curves, accuracy vs width and vs time", "[plot]") {
  const std::vector<PlotFile> plots = BuildPlots(WidthSweep());
  CHECK(Names(plots) ==
        std::vector<std::string>{"learning_curves_loss.svg", "learning_curves_accuracy.svg",
                                 "accuracy_vs_model.0.units.svg", "accuracy_vs_time.svg"});

  // One curve per width, the mean of its two seeds; validation dashed.
  const Chart& loss = Find(plots, "learning_curves_loss.svg").chart;
  CHECK(loss.title == "width: Loss per epoch");
  CHECK(loss.legend_title == "model.0.units");
  CHECK(LegendNames(loss) ==
        std::vector<std::string>{"32", "64", "128", "256", "", "training", "validation"});
  const ChartSeries& narrow = loss.series[0];
  REQUIRE(narrow.points.size() == 2);
  CHECK(narrow.points[1].x == 2);
  CHECK(narrow.points[1].y == Approx(1 - (0.9 + 0.0032 + 0.0015)));
  const ChartSeries& narrow_val = loss.series[4];
  CHECK(narrow_val.dashed);
  CHECK(narrow_val.palette_index == narrow.palette_index);
  CHECK(narrow_val.points[0].y == Approx(3 * (1 - (0.9 + 0.0032 + 0.0015))));
  CHECK(loss.x.integer);
  const Chart& accuracy = Find(plots, "learning_curves_accuracy.svg").chart;
  CHECK(accuracy.y.label == "accuracy (%)");
  CHECK(accuracy.series[0].points[1].y == Approx(100 * (0.9 + 0.0032 + 0.0015)));

  // Mean +- std over the seeds at each width, on a linear axis (one decade).
  const Chart& by_width = Find(plots, "accuracy_vs_model.0.units.svg").chart;
  CHECK(by_width.x.label == "model.0.units (hidden units)");
  CHECK_FALSE(by_width.x.log10);
  CHECK(by_width.x.categories.empty());
  REQUIRE(by_width.series.size() == 1);
  CHECK_FALSE(by_width.series[0].in_legend);
  const std::vector<ChartPoint>& points = by_width.series[0].points;
  REQUIRE(points.size() == 4);
  CHECK(points[0].x == 32);
  CHECK(points[3].x == 256);
  CHECK(points[3].y == Approx(100 * (0.9 + 0.0256 + 0.0015)));
  CHECK(points[3].error == Approx(100 * 0.001 / std::sqrt(2.0)));
  CHECK(by_width.subtitle == "mean ± std over 2 seeds per config");

  // Every run, by width, plus the front: here each seed 2 run is both slower
  // and more accurate than seed 1, and each width more than the last, so
  // every run is on it.
  const Chart& by_time = Find(plots, "accuracy_vs_time.svg").chart;
  REQUIRE(by_time.series.size() == 5);
  CHECK(by_time.series[0].points.size() == 2);
  CHECK(by_time.series[0].points[0].x == Approx(2 * (0.032 + 0.01)));
  const ChartSeries& front = by_time.series.back();
  CHECK(front.name == "Pareto front");
  CHECK(front.style == SeriesStyle::kStep);
  CHECK(front.points.size() == 8);
}

TEST_CASE("The Pareto front of a sweep leaves out dominated runs", "[plot]") {
  // The wide run is slower and less accurate than the middle one.
  const std::vector<LoadedReport> reports = {Run({{"model.0.units", 16}}, 0.90, 1.0, "s", 0),
                                             Run({{"model.0.units", 64}}, 0.95, 2.0, "s", 1),
                                             Run({{"model.0.units", 512}}, 0.94, 3.0, "s", 2)};
  const std::vector<PlotFile> plots = BuildPlots(reports);
  const Chart& chart = Find(plots, "accuracy_vs_time.svg").chart;
  const std::vector<ChartPoint>& front = chart.series.back().points;
  REQUIRE(front.size() == 2);
  CHECK(front[0].x == 2.0);
  CHECK(front[1].x == 4.0);
  CHECK(front[1].y == Approx(95));
  CHECK(chart.subtitle.find("1 diverged") == std::string::npos);
}

TEST_CASE("Two varied keys give one series per value of the other", "[plot]") {
  std::vector<LoadedReport> reports;
  int index = 0;
  for (const char* optimizer : {"sgd", "adam"}) {
    for (const int units : {64, 128}) {
      reports.push_back(Run({{"optimizer.name", optimizer}, {"model.0.units", units}},
                            0.9 + units / 10000.0 + (optimizer[0] == 'a' ? 0.01 : 0), 1.0, "two",
                            index++));
    }
  }
  const std::vector<PlotFile> plots = BuildPlots(reports);
  // Keys in the sweep's order (nlohmann::json sorts object keys).
  CHECK(Names(plots) ==
        std::vector<std::string>{"learning_curves_loss.svg", "learning_curves_accuracy.svg",
                                 "accuracy_vs_model.0.units.svg", "accuracy_vs_optimizer.name.svg",
                                 "accuracy_vs_time.svg"});
  const Chart& by_units = Find(plots, "accuracy_vs_model.0.units.svg").chart;
  CHECK(by_units.legend_title == "optimizer.name");
  CHECK(LegendNames(by_units) == std::vector<std::string>{"sgd", "adam"});
  CHECK(by_units.series[1].points[1].y == Approx(100 * (0.9 + 0.0128 + 0.01)));
  CHECK(by_units.series[0].style == SeriesStyle::kLine);

  // Strings are categories, in sweep order, each series a little aside.
  const Chart& by_optimizer = Find(plots, "accuracy_vs_optimizer.name.svg").chart;
  CHECK(by_optimizer.x.categories == std::vector<std::string>{"sgd", "adam"});
  CHECK(LegendNames(by_optimizer) == std::vector<std::string>{"64", "128"});
  CHECK(by_optimizer.series[0].style == SeriesStyle::kPoints);
  CHECK(by_optimizer.series[0].points[1].x > 0.5);
  CHECK(by_optimizer.series[0].points[1].x < 1);
  CHECK(by_optimizer.series[1].points[1].x > 1);
  CHECK(std::isnan(by_optimizer.series[0].points[0].error));  // one seed: no error bar

  // The learning curves name each config by both values.
  CHECK(LegendNames(Find(plots, "learning_curves_loss.svg").chart).front() == "64, sgd");
}

TEST_CASE("A key spanning two decades gets a log axis; objects are categories", "[plot]") {
  std::vector<LoadedReport> reports;
  int index = 0;
  for (const double rate : {1e-4, 1e-3, 1e-2}) {
    reports.push_back(
        Run({{"optimizer", {{"name", "sgd"}, {"momentum", 0.9}, {"learning_rate", rate}}}}, 0.9,
            1.0, "lr", index++));
  }
  const std::vector<PlotFile> plots = BuildPlots(reports);
  const Chart& chart = Find(plots, "accuracy_vs_optimizer.svg").chart;
  CHECK(chart.x.categories.front() == "sgd (learning_rate=0.0001, momentum=0.9)");

  reports.clear();
  for (const double rate : {1e-4, 1e-3, 1e-2}) {
    reports.push_back(Run({{"optimizer.learning_rate", rate}}, 0.9, 1.0, "lr", index++));
  }
  CHECK(Find(BuildPlots(reports), "accuracy_vs_optimizer.learning_rate.svg").chart.x.log10);
  reports.pop_back();  // 1e-4 .. 1e-3: one decade
  CHECK_FALSE(Find(BuildPlots(reports), "accuracy_vs_optimizer.learning_rate.svg").chart.x.log10);
}

TEST_CASE("Many configs: the best learning curves, every point elsewhere", "[plot]") {
  std::vector<LoadedReport> reports;
  for (int i = 0; i < 10; ++i) {
    reports.push_back(Run({{"model.0.units", 10 + i}}, 0.9 + i / 1000.0, 1.0, "many", i));
  }
  const std::vector<PlotFile> plots = BuildPlots(reports);
  const Chart& curves = Find(plots, "learning_curves_loss.svg").chart;
  // The 7 most accurate, in sweep order.
  CHECK(LegendNames(curves).front() == "13");
  CHECK(LegendNames(curves).at(6) == "19");
  CHECK(curves.subtitle.find("the 7 of 10 configs with the best test accuracy") !=
        std::string::npos);
  const Chart& by_time = Find(plots, "accuracy_vs_time.svg").chart;
  REQUIRE(by_time.series.size() == 2);  // one set of runs, and the front
  CHECK(by_time.series[0].points.size() == 10);
}

TEST_CASE("Diverged runs are left out and counted; plain runs get learning curves", "[plot]") {
  std::vector<LoadedReport> reports = WidthSweep();
  reports[0].json["status"] = "diverged";
  reports[0].json["test"] = nullptr;
  reports[0].json["epochs"][1]["loss"] = nullptr;
  const std::vector<PlotFile> plots = BuildPlots(reports);
  const Chart& loss = Find(plots, "learning_curves_loss.svg").chart;
  CHECK(loss.subtitle.find("1 diverged run not shown") != std::string::npos);
  // The narrowest width's curve is its other seed alone.
  CHECK(loss.series[0].points[1].y == Approx(1 - (0.9 + 0.0032 + 0.002)));
  CHECK(Find(plots, "accuracy_vs_time.svg").chart.series[0].points.size() == 1);

  const std::vector<PlotFile> plain = BuildPlots({Run({{"model.0.units", 16}}, 0.9, 1.0, "", 0),
                                                  Run({{"model.0.units", 32}}, 0.95, 1.0, "", 1)});
  CHECK(Names(plain) ==
        std::vector<std::string>{"learning_curves_loss.svg", "learning_curves_accuracy.svg"});
  // Both are called "plain": their config hashes tell them apart.
  const Chart& curves = plain.front().chart;
  CHECK(curves.legend_title == "run");
  CHECK(LegendNames(curves).front().rfind("plain (hash-", 0) == 0);
}

TEST_CASE("runner plot writes the SVG files and lists them", "[plot]") {
  TempDir dir;
  int n = 0;
  for (const LoadedReport& report : WidthSweep()) {
    const std::string run_dir = dir.File("width_sweep/" + std::to_string(n++));
    std::filesystem::create_directories(run_dir);
    WriteFileAtomic(run_dir + "/report.json", report.json.dump(2));
  }
  const std::string sweep_dir = dir.File("width_sweep");
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  CHECK(RunPlotCommand(sweep_dir, out) == kExitOk);
  std::rewind(out);
  std::string printed;
  for (int c; (c = std::fgetc(out)) != EOF;) printed += static_cast<char>(c);
  std::fclose(out);
  for (const char* name : {"learning_curves_loss.svg", "learning_curves_accuracy.svg",
                           "accuracy_vs_model.0.units.svg", "accuracy_vs_time.svg"}) {
    const std::string path = sweep_dir + "/plots/" + name;
    CHECK_THAT(printed, Catch::Contains("Plot: " + path + "\n"));
    const std::string svg = ReadFile(path);
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.size() > 1000);
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  }
  CHECK_FALSE(std::filesystem::exists(sweep_dir + "/plots/accuracy_vs_seed.svg"));
}

TEST_CASE("runner plot on a directory without complete reports is an input error", "[plot]") {
  TempDir dir;
  CHECK_THROWS_AS(RunPlotCommand(dir.path().string(), stdout), InputError);
  LoadedReport running = WidthSweep().front();
  running.json["status"] = "running";
  std::filesystem::create_directories(dir.File("run"));
  WriteFileAtomic(dir.File("run/report.json"), running.json.dump());
  CHECK_THROWS_WITH(RunPlotCommand(dir.path().string(), stdout),
                    Catch::Contains("no complete runs"));
  CHECK_FALSE(std::filesystem::exists(dir.File("plots")));
}

TEST_CASE("runner plot names the file and field of a wrong-typed value", "[plot]") {
  TempDir dir;
  LoadedReport bad = WidthSweep().front();
  bad.json["sweep"]["varied"] = "model.0.units=32";
  std::filesystem::create_directories(dir.File("run"));
  WriteFileAtomic(dir.File("run/report.json"), bad.json.dump());
  CHECK_THROWS_MATCHES(
      RunPlotCommand(dir.path().string(), stdout), InputError,
      Catch::Message(dir.File("run/report.json") +
                     ": sweep.varied: expected an object, got \"model.0.units=32\""));
}

}  // namespace
}  // namespace mb
