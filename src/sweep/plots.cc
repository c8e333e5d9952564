#include "sweep/plots.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "common/error.h"
#include "report/atomic_file.h"
#include "sweep/summary.h"

namespace mb {
namespace {

using json = nlohmann::json;

// Curves or series per chart: one per palette colour, beyond which colours
// would repeat and lines tangle.
constexpr size_t kMaxConfigs = kPaletteSize;
// Learning curves get markers up to this many epochs; beyond, they clutter.
constexpr size_t kMaxMarkedEpochs = 25;
constexpr const char* kKeyColor = "#555555";  // the legend's training/validation samples
constexpr const char* kFrontColor = "#333333";

// A config: the runs of one config_id (that differ only in the seed and keys
// that cannot change a number), as the summary groups them.
struct Group {
  json varied;  // the sweep's varied values without the seed, or {"name": ...}
  std::string config_name;
  std::string hash;
  std::vector<const RunResults*> runs;  // complete: completed or diverged
  double accuracy_mean = NAN;           // test accuracy over the runs that have one
  double accuracy_std = NAN;
  size_t accuracy_count = 0;
  std::string label;  // its legend entry
};

struct Groups {
  std::vector<Group> configs;  // in sweep order (by their first point's index)
  size_t incomplete = 0;       // interrupted or cut-off runs, left out
};

bool Completed(const RunResults& run) { return run.status == "completed"; }

// A summary statistic, NaN when the summary has null (too few values).
double Number(const json& stats, const char* key) {
  const json& value = stats.at(key);
  return value.is_number() ? value.get<double>() : NAN;
}

std::string Join(const std::vector<std::string>& parts, const char* separator) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : separator) + part;
  return text;
}

// A varied value as a legend or tick label: strings bare, numbers in their
// shortest form, an optimizer object as "sgd (momentum=0.9)".
std::string ValueLabel(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_object() || value.empty()) return value.dump();
  std::string name;
  std::vector<std::string> rest;
  for (const auto& item : value.items()) {
    if (item.key() == "name" && item.value().is_string()) {
      name = item.value().get<std::string>();
    } else {
      rest.push_back(item.key() + "=" + ValueLabel(item.value()));
    }
  }
  if (name.empty()) return Join(rest, ", ");
  return rest.empty() ? name : name + " (" + Join(rest, ", ") + ")";
}

// A key path as an axis label, with the unit where the key has one.
std::string AxisLabel(const std::string& key) {
  const auto ends_with = [&key](const std::string& end) {
    return key.size() >= end.size() && key.compare(key.size() - end.size(), end.size(), end) == 0;
  };
  if (ends_with(".units")) return key + " (hidden units)";
  if (key == "batch_size") return key + " (samples per step)";
  if (key == "epochs") return key + " (passes over the training set)";
  if (key == "threads") return key + " (OpenMP threads)";
  if (key == "validation_split") return key + " (fraction held out)";
  return key;
}

// `text` usable in a file name: [A-Za-z0-9._-], anything else as '_'.
std::string FileNamePart(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  return out.empty() ? "_" : out;
}

// Whether positive values from `lo` to `hi` span two decades or more, and so
// read best on a log axis (with slack for 0.01 / 0.0001 < 100 in doubles).
bool SpansTwoDecades(double lo, double hi) { return lo > 0 && hi / lo >= 100 * (1 - 1e-9); }

// "2 diverged runs and 1 incomplete run not shown", or "".
std::string NotShown(size_t diverged, size_t incomplete) {
  std::vector<std::string> parts;
  const auto count = [](size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? " run" : " runs");
  };
  if (diverged > 0) parts.push_back(count(diverged, "diverged"));
  if (incomplete > 0) parts.push_back(count(incomplete, "incomplete"));
  return parts.empty() ? "" : Join(parts, " and ") + " not shown";
}

// How the means were taken: over how many seeds per config.
std::string SeedsNote(const std::vector<const Group*>& groups, const char* what) {
  size_t least = SIZE_MAX, most = 0;
  for (const Group* group : groups) {
    least = std::min(least, group->accuracy_count);
    most = std::max(most, group->accuracy_count);
  }
  if (most <= 1) return "one run per config";
  if (least == most) {
    return std::string(what) + " over " + std::to_string(most) + " seeds per config";
  }
  return std::string(what) + " over the seeds of each config";
}

Groups MakeGroups(const std::vector<RunResults>& reports) {
  const json summary = Summarize(reports, SweepMetric::kTestAccuracy);
  std::map<std::string, const RunResults*> by_path;
  for (const RunResults& report : reports) by_path[report.path] = &report;
  Groups groups;
  groups.incomplete = summary["incomplete"].get<size_t>();
  std::vector<std::pair<std::pair<double, std::string>, Group>> keyed;
  for (const json& row : summary["rows"]) {
    Group group;
    group.varied = row["varied"];
    group.hash = row["config_hash"].get<std::string>();
    for (const json& path : row["reports"]) {
      group.runs.push_back(by_path.at(path.get<std::string>()));
    }
    group.config_name = group.runs.front()->config_name.value_or("run");
    group.accuracy_mean = Number(row["test_accuracy"], "mean");
    group.accuracy_std = Number(row["test_accuracy"], "std");
    group.accuracy_count = row["test_accuracy"]["values"].size();
    // Sweep order is the order of the first point's index.
    double index = INFINITY;
    for (const RunResults* run : group.runs) {
      if (run->sweep && run->sweep->index) {
        index = std::min(index, static_cast<double>(*run->sweep->index));
      }
    }
    keyed.push_back({{index, row["reports"][0].get<std::string>()}, std::move(group)});
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& item : keyed) groups.configs.push_back(std::move(item.second));
  return groups;
}

// Names the configs for legends, by the values of the varied keys when all
// configs vary the same keys (returned, to title the legend), else by
// "key=value" pairs; by the config name when only the seed varies. Configs
// that would share a name (runs of one name with different configs) get the
// start of their config hash.
std::string AssignLabels(std::vector<Group>& groups) {
  std::vector<std::string> keys;
  bool same_keys = true;
  for (size_t i = 0; i < groups.size(); ++i) {
    std::vector<std::string> these;
    for (const auto& item : groups[i].varied.items()) these.push_back(item.key());
    if (i == 0) keys = these;
    same_keys = same_keys && these == keys;
  }
  std::map<std::string, size_t> uses;
  for (Group& group : groups) {
    std::vector<std::string> parts;
    for (const auto& item : group.varied.items()) {
      parts.push_back(same_keys ? ValueLabel(item.value())
                                : item.key() + "=" + ValueLabel(item.value()));
    }
    group.label = parts.empty() ? group.config_name : Join(parts, ", ");
    ++uses[group.label];
  }
  for (Group& group : groups) {
    if (uses[group.label] > 1) group.label += " (" + group.hash.substr(0, 8) + ")";
  }
  if (!same_keys || keys.empty()) return "";
  return keys == std::vector<std::string>{"name"} ? "run" : Join(keys, ", ");
}

// One per-epoch number of a learning curve; NaN where there is none.
using EpochMetric = double (*)(const EpochResults&);
double TrainingLoss(const EpochResults& epoch) { return epoch.loss; }
double TrainingAccuracy(const EpochResults& epoch) { return epoch.accuracy; }
double ValidationLoss(const EpochResults& epoch) { return epoch.val_loss.value_or(NAN); }
double ValidationAccuracy(const EpochResults& epoch) { return epoch.val_accuracy.value_or(NAN); }

// The mean of `metric` per epoch over the group's completed runs.
std::vector<ChartPoint> MeanPerEpoch(const Group& group, EpochMetric metric, double scale) {
  std::map<double, std::pair<double, size_t>> sums;  // epoch -> (sum, count)
  for (const RunResults* run : group.runs) {
    if (!Completed(*run)) continue;
    for (const EpochResults& epoch : run->epochs) {
      const double value = metric(epoch);
      if (!std::isfinite(value)) continue;
      const double e = static_cast<double>(epoch.epoch);
      sums[e].first += value;
      ++sums[e].second;
    }
  }
  std::vector<ChartPoint> points;
  for (const auto& [epoch, sum] : sums) {
    ChartPoint point;
    point.x = epoch;
    point.y = sum.first / static_cast<double>(sum.second) * scale;
    points.push_back(point);
  }
  return points;
}

enum class Curve { kLoss, kAccuracy };

Chart LearningCurves(const Groups& groups, const std::string& legend_title, Curve curve,
                     const std::string& title_prefix) {
  const bool loss = curve == Curve::kLoss;
  // The configs with a completed run; beyond kMaxConfigs, the most accurate.
  std::vector<size_t> shown;
  size_t diverged = 0;
  for (size_t i = 0; i < groups.configs.size(); ++i) {
    const std::vector<const RunResults*>& runs = groups.configs[i].runs;
    const auto completed = static_cast<size_t>(std::count_if(
        runs.begin(), runs.end(), [](const RunResults* run) { return Completed(*run); }));
    diverged += runs.size() - completed;
    if (completed > 0) shown.push_back(i);
  }
  const size_t with_runs = shown.size();
  if (shown.size() > kMaxConfigs) {
    const auto accuracy = [&groups](size_t i) {
      const double a = groups.configs[i].accuracy_mean;
      return std::isnan(a) ? -INFINITY : a;
    };
    std::stable_sort(shown.begin(), shown.end(),
                     [&accuracy](size_t a, size_t b) { return accuracy(a) > accuracy(b); });
    shown.resize(kMaxConfigs);
    std::sort(shown.begin(), shown.end());  // back to sweep order
  }

  Chart chart;
  chart.title = title_prefix + (loss ? "Loss per epoch" : "Accuracy per epoch");
  chart.x.label = "epoch";
  chart.x.integer = true;
  chart.y.label = loss ? "loss (cross-entropy)" : "accuracy (%)";
  chart.legend_title = legend_title;
  const double scale = loss ? 1 : 100;
  std::vector<ChartSeries> validation;
  std::vector<const Group*> shown_groups;
  size_t most_epochs = 0;
  for (size_t n = 0; n < shown.size(); ++n) {
    const Group& group = groups.configs[shown[n]];
    shown_groups.push_back(&group);
    ChartSeries train;
    train.name = group.label;
    train.palette_index = static_cast<int>(n);
    train.points = MeanPerEpoch(group, loss ? TrainingLoss : TrainingAccuracy, scale);
    ChartSeries val = train;
    val.name = group.label + " (validation)";
    val.points = MeanPerEpoch(group, loss ? ValidationLoss : ValidationAccuracy, scale);
    val.dashed = true;
    val.in_legend = false;
    most_epochs = std::max({most_epochs, train.points.size(), val.points.size()});
    chart.series.push_back(std::move(train));
    if (!val.points.empty()) validation.push_back(std::move(val));
  }
  // Dashed lines over solid ones, and a key to the two styles.
  for (ChartSeries& val : validation) chart.series.push_back(std::move(val));
  if (!validation.empty()) {
    ChartSeries gap;  // an empty legend row between the configs and the key
    gap.style = SeriesStyle::kPoints;
    gap.markers = false;
    ChartSeries train_key;
    train_key.name = "training";
    train_key.color = kKeyColor;
    train_key.markers = false;
    ChartSeries val_key = train_key;
    val_key.name = "validation";
    val_key.dashed = true;
    chart.series.insert(chart.series.end(), {gap, train_key, val_key});
  }
  for (ChartSeries& series : chart.series) {
    series.markers = series.markers && most_epochs <= kMaxMarkedEpochs && series.color.empty();
  }

  std::vector<std::string> notes = {"training: running mean over each epoch"};
  if (!shown_groups.empty()) notes.push_back(SeedsNote(shown_groups, "mean"));
  if (with_runs > shown.size()) {
    notes.push_back("the " + std::to_string(shown.size()) + " of " + std::to_string(with_runs) +
                    " configs with the best test accuracy");
  }
  const std::string not_shown = NotShown(diverged, groups.incomplete);
  if (!not_shown.empty()) notes.push_back(not_shown);
  chart.subtitle = Join(notes, "; ");
  return chart;
}

// Test accuracy (mean +- std over the seeds) against one varied key.
Chart AccuracyVsKey(const Groups& groups, const std::string& key,
                    const std::vector<std::string>& keys, const std::string& title_prefix) {
  Chart chart;
  chart.title = title_prefix + "Test accuracy vs " + key;
  chart.x.label = AxisLabel(key);
  chart.y.label = "test accuracy (%)";

  std::vector<const Group*> plotted;
  bool numeric = true;
  double lo = INFINITY, hi = -INFINITY;
  std::vector<std::string> categories;
  size_t diverged = 0;
  for (const Group& group : groups.configs) {
    for (const RunResults* run : group.runs) diverged += run->status == "diverged";
    if (!group.varied.contains(key)) continue;
    plotted.push_back(&group);
    const json& value = group.varied[key];
    if (value.is_number()) {
      lo = std::min(lo, value.get<double>());
      hi = std::max(hi, value.get<double>());
    } else {
      numeric = false;
    }
    const std::string label = ValueLabel(value);
    if (std::find(categories.begin(), categories.end(), label) == categories.end()) {
      categories.push_back(label);
    }
  }
  if (numeric) {
    chart.x.log10 = SpansTwoDecades(lo, hi);
  } else {
    chart.x.categories = categories;
  }

  // One series per combination of the other keys' values, in sweep order.
  std::vector<std::string> others;
  for (const std::string& k : keys) {
    if (k != key) others.push_back(k);
  }
  if (others.size() == 1) chart.legend_title = others.front();
  std::map<std::string, size_t> series_of;
  std::vector<std::vector<const Group*>> members;
  for (const Group* group : plotted) {
    json rest = group->varied;
    rest.erase(key);
    const auto [it, added] = series_of.emplace(rest.dump(), chart.series.size());
    if (added) {
      ChartSeries series;
      std::vector<std::string> parts;
      for (const auto& item : rest.items()) {
        parts.push_back(others.size() == 1 ? ValueLabel(item.value())
                                           : item.key() + "=" + ValueLabel(item.value()));
      }
      series.name = Join(parts, ", ");
      chart.series.push_back(series);
      members.emplace_back();
    }
    members[it->second].push_back(group);
  }
  const bool collapsed = chart.series.size() > kMaxConfigs;
  if (collapsed) {
    // Too many to tell apart: every config as one set of points.
    chart.series.assign(1, ChartSeries());
    chart.series.front().name = "configs";
    members.assign(1, plotted);
    chart.legend_title.clear();
  }

  const size_t count = chart.series.size();
  for (size_t s = 0; s < count; ++s) {
    ChartSeries& series = chart.series[s];
    series.style = numeric && !collapsed ? SeriesStyle::kLine : SeriesStyle::kPoints;
    series.in_legend = count > 1;
    // Series side by side within a category, so their error bars do not overlap.
    const double dodge = numeric ? 0
                                 : (static_cast<double>(s) - (count - 1) / 2.0) *
                                       std::min(0.12, 0.6 / static_cast<double>(count));
    for (const Group* group : members[s]) {
      const json& value = group->varied[key];
      ChartPoint point;
      point.x = numeric ? value.get<double>()
                        : static_cast<double>(
                              std::find(categories.begin(), categories.end(), ValueLabel(value)) -
                              categories.begin()) +
                              dodge;
      point.y = group->accuracy_mean * 100;
      if (group->accuracy_count > 1) point.error = group->accuracy_std * 100;
      series.points.push_back(point);
    }
    if (numeric) {
      std::stable_sort(series.points.begin(), series.points.end(),
                       [](const ChartPoint& a, const ChartPoint& b) { return a.x < b.x; });
    }
  }

  std::vector<std::string> notes = {SeedsNote(plotted, "mean ± std")};
  if (collapsed) {
    notes.push_back(std::to_string(plotted.size()) + " configs, too many to draw as lines");
  }
  const std::string not_shown = NotShown(diverged, 0);
  if (!not_shown.empty()) notes.push_back(not_shown);
  chart.subtitle = Join(notes, "; ");
  return chart;
}

// Every run's test accuracy against its training time, with the Pareto front.
Chart AccuracyVsTime(const Groups& groups, const std::string& legend_title,
                     const std::string& title_prefix) {
  Chart chart;
  chart.title = title_prefix + "Test accuracy vs training time";
  chart.x.label = "training time (s)";
  chart.y.label = "test accuracy (%)";
  const bool by_config = groups.configs.size() <= kMaxConfigs;
  chart.legend_title = by_config ? legend_title : "";
  std::vector<double> seconds, accuracy;
  size_t diverged = 0;
  for (size_t i = 0; i < groups.configs.size(); ++i) {
    const Group& group = groups.configs[i];
    if (by_config || i == 0) {
      ChartSeries series;
      series.name = by_config ? group.label : "runs";
      series.style = SeriesStyle::kPoints;
      chart.series.push_back(series);
    }
    for (const RunResults* run : group.runs) {
      const double a = run->TestAccuracy();
      if (!Completed(*run) || !std::isfinite(a)) {
        diverged += !Completed(*run);
        continue;
      }
      ChartPoint point;
      point.x = run->training_seconds;
      point.y = a * 100;
      chart.series.back().points.push_back(point);
      seconds.push_back(point.x);
      accuracy.push_back(point.y);
    }
  }
  double lo = INFINITY, hi = -INFINITY;
  for (const double s : seconds) {
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  chart.x.log10 = SpansTwoDecades(lo, hi);

  ChartSeries front;
  front.name = "Pareto front";
  front.style = SeriesStyle::kStep;
  front.color = kFrontColor;
  front.hollow_markers = true;
  for (const size_t i : ParetoFront(seconds, accuracy)) {
    ChartPoint point;
    point.x = seconds[i];
    point.y = accuracy[i];
    front.points.push_back(point);
  }
  chart.series.push_back(front);

  std::vector<std::string> notes = {
      "training time: the sum of the epochs' seconds, evaluation excluded",
      "front: the runs no other run beats on both"};
  const std::string not_shown = NotShown(diverged, groups.incomplete);
  if (!not_shown.empty()) notes.push_back(not_shown);
  chart.subtitle = Join(notes, "; ");
  return chart;
}

}  // namespace

std::vector<size_t> ParetoFront(const std::vector<double>& seconds,
                                const std::vector<double>& accuracy) {
  std::vector<size_t> order;
  for (size_t i = 0; i < seconds.size() && i < accuracy.size(); ++i) {
    if (!std::isnan(seconds[i]) && !std::isnan(accuracy[i])) order.push_back(i);
  }
  // Fastest first and, at equal times, most accurate first: then a point is
  // on the front exactly when it is more accurate than every point before it.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (seconds[a] != seconds[b]) return seconds[a] < seconds[b];
    return accuracy[a] > accuracy[b];
  });
  std::vector<size_t> front;
  double best = -INFINITY;
  for (const size_t i : order) {
    if (accuracy[i] > best) {
      front.push_back(i);
      best = accuracy[i];
    }
  }
  return front;
}

std::vector<PlotFile> BuildPlots(const std::vector<LoadedReport>& reports) {
  return BuildPlots(ParseRunResults(reports));
}

std::vector<PlotFile> BuildPlots(const std::vector<RunResults>& reports) {
  std::vector<PlotFile> plots;
  Groups all = MakeGroups(reports);
  if (all.configs.empty()) return plots;

  std::map<std::string, std::vector<RunResults>> sweeps;
  bool all_in_sweeps = true;
  for (const RunResults& report : reports) {
    if (!report.sweep) {
      all_in_sweeps = false;
      continue;
    }
    sweeps[report.sweep->name.empty() ? "sweep" : report.sweep->name].push_back(report);
  }
  const std::string prefix =
      all_in_sweeps && sweeps.size() == 1 ? sweeps.begin()->first + ": " : "";
  const std::string legend_title = AssignLabels(all.configs);
  plots.push_back(
      {"learning_curves_loss.svg", LearningCurves(all, legend_title, Curve::kLoss, prefix)});
  plots.push_back({"learning_curves_accuracy.svg",
                   LearningCurves(all, legend_title, Curve::kAccuracy, prefix)});

  for (const auto& [name, sweep_reports] : sweeps) {
    Groups groups = MakeGroups(sweep_reports);
    if (groups.configs.empty()) continue;
    const std::string sweep_legend = AssignLabels(groups.configs);
    const std::string file_prefix = sweeps.size() > 1 ? FileNamePart(name) + "_" : "";
    // Alphabetical, as report.json writes the keys of "varied".
    std::vector<std::string> keys;
    for (const Group& group : groups.configs) {
      for (const auto& item : group.varied.items()) {
        if (std::find(keys.begin(), keys.end(), item.key()) == keys.end()) {
          keys.push_back(item.key());
        }
      }
    }
    for (const std::string& key : keys) {
      plots.push_back({file_prefix + "accuracy_vs_" + FileNamePart(key) + ".svg",
                       AccuracyVsKey(groups, key, keys, name + ": ")});
    }
    plots.push_back(
        {file_prefix + "accuracy_vs_time.svg", AccuracyVsTime(groups, sweep_legend, name + ": ")});
  }
  return plots;
}

int RunPlotCommand(const std::string& dir, std::FILE* out) {
  const std::vector<RunResults> reports = ParseRunResults(FindReportsInDirectory(dir));
  const std::vector<PlotFile> plots = BuildPlots(reports);
  if (plots.empty()) {
    throw InputError(dir + ": no complete runs to plot (" + std::to_string(reports.size()) +
                     " reports, all interrupted or still running)");
  }
  const std::string plot_dir = dir + "/plots";
  std::error_code error;
  std::filesystem::create_directories(plot_dir, error);
  if (error) throw OutputError(plot_dir + ": cannot create directory (" + error.message() + ")");
  for (const PlotFile& plot : plots) {
    const std::string path = plot_dir + "/" + plot.name;
    WriteFileAtomic(path, RenderSvg(plot.chart));
    std::fprintf(out, "Plot: %s\n", path.c_str());
  }
  return kExitOk;
}

}  // namespace mb
