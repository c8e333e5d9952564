#include "sweep/summary.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "common/error.h"
#include "config/config.h"
#include "common/statistics.h"
#include "report/atomic_file.h"
#include "sweep/report_selection.h"

namespace mb {
namespace {

using json = nlohmann::json;

// The sample standard deviation (n - 1); 0 for a single value.
double StdDev(const std::vector<double>& values) {
  if (values.size() < 2) return values.empty() ? NAN : 0.0;
  return std::sqrt(SampleVariance(values));
}

json NumberOrNull(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

// Mean, sample std, and the 95% interval of the mean (Student's t; null
// for a single value).
json Stats(const std::vector<double>& values) {
  const auto [low, high] = MeanInterval95(values);
  return {{"mean", NumberOrNull(Mean(values))},
          {"std", NumberOrNull(StdDev(values))},
          {"ci95", std::isfinite(low) ? json::array({low, high}) : json(nullptr)},
          {"values", values}};
}

// Stats, and the median, fastest and slowest: what a time is judged by
// (a mean alone hides a slow outlier).
json TimeStats(const std::vector<double>& values) {
  json stats = Stats(values);
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  stats["median"] = NumberOrNull(Median(values));
  stats["min"] = values.empty() ? json(nullptr) : json(*low);
  stats["max"] = values.empty() ? json(nullptr) : json(*high);
  return stats;
}

// The values that tell this run's group apart: the sweep's varied values
// without the seed, or for a plain run its name.
json VariedWithoutSeed(const RunResults& run) {
  json varied = json::object();
  if (run.sweep && run.sweep->varied) {
    varied = *run.sweep->varied;
    varied.erase("seed");
  } else {
    varied["name"] = run.config_name.value_or("run");
  }
  return varied;
}

std::string Text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) {
    char text[32];
    const double v = value.get<double>();
    return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
  }
  return value.dump();
}

std::string Fixed(const json& value, int digits) {
  if (!value.is_number()) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value.get<double>());
  return text;
}

// Lower is better for everything but accuracy; rows without the metric last.
bool Better(const json& a, const json& b, SweepMetric metric) {
  const auto value = [metric](const json& row) -> double {
    const json* v = nullptr;
    switch (metric) {
      case SweepMetric::kTestAccuracy: v = &row["test_accuracy"]["mean"]; break;
      case SweepMetric::kFinalLoss: v = &row["final_loss"]["mean"]; break;
      case SweepMetric::kSecondsPerEpoch: v = &row["seconds_per_epoch"]["mean"]; break;
      case SweepMetric::kTimeToTarget: v = &row["time_to_target"]["mean"]; break;
    }
    return v->is_number() ? v->get<double>() : NAN;
  };
  const double x = value(a), y = value(b);
  if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
  return metric == SweepMetric::kTestAccuracy ? x > y : x < y;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string CsvNumber(const json& value) { return value.is_number() ? Text(value) : ""; }

// What the summary merged or left out, one sentence each, for the table's
// notes and summary.json.
json SummaryNotes(const ReportSelection& selection, const json& running) {
  json notes = json::array();
  if (selection.incomplete > 0) {
    notes.push_back(std::to_string(selection.incomplete) +
                    " incomplete runs (interrupted or cut off) are left out.");
  }
  if (!running.empty()) {
    std::string note = std::to_string(running.size()) + " still running " +
                       (running.size() == 1 ? "is" : "are") + " left out:";
    for (size_t i = 0; i < running.size(); ++i) {
      const json& point = running[i];
      const ClaimHolder holder{point["host"].get<std::string>(), point["pid"].get<long>()};
      note += std::string(i == 0 ? " " : ", ") +
              std::filesystem::path(point["run_dir"].get<std::string>()).filename().string() +
              " running on " + holder.Describe();
    }
    notes.push_back(note + ".");
  }
  if (selection.duplicate_reports > 0) {
    notes.push_back(std::to_string(selection.duplicate_reports) + " duplicate reports of " +
                    std::to_string(selection.duplicated_runs) +
                    " runs merged (each run counts once, with its newest complete report).");
  }
  if (selection.not_in_spec > 0) {
    notes.push_back(std::to_string(selection.not_in_spec) +
                    " runs not in the current spec left out (runner summarize --all keeps "
                    "them).");
  }
  return notes;
}

// What dir/sweep.json, when there is one, says about the summary of dir.
struct SweepSummarySettings {
  SweepMetric metric = SweepMetric::kTestAccuracy;
  std::optional<double> accuracy_threshold;
  // The points of the spec the sweep last ran with; nothing without
  // sweep.json.
  std::optional<std::set<std::string>> points;
};

SweepSummarySettings ReadSweepSummarySettings(const std::string& dir) {
  SweepSummarySettings settings;
  const std::string sweep_file = dir + "/sweep.json";
  if (!std::filesystem::exists(sweep_file)) return settings;
  const json sweep = ReadJsonFile(sweep_file);
  if (!sweep.is_object()) return settings;
  if (sweep.contains("metric") && sweep["metric"].is_string()) {
    settings.metric = ParseMetric(sweep["metric"].get<std::string>(), sweep_file);
  }
  if (sweep.contains("accuracy_threshold") && sweep["accuracy_threshold"].is_number()) {
    settings.accuracy_threshold = sweep["accuracy_threshold"].get<double>();
  }
  const auto points = sweep.find("points");
  if (points == sweep.end() || !points->is_array()) return settings;
  settings.points.emplace();
  for (size_t i = 0; i < points->size(); ++i) {
    const json& point = (*points)[i];
    if (!point.is_object() || !point.contains("point_id") || !point["point_id"].is_string()) {
      throw InputError(sweep_file + ": points." + std::to_string(i) +
                       ".point_id: missing or not a string");
    }
    settings.points->insert(point["point_id"].get<std::string>());
  }
  return settings;
}

// "17/30 (57%)": the runs at or above the threshold.
std::string Share(const json& counts) {
  const auto at_least = counts["at_least"].get<size_t>(), of = counts["of"].get<size_t>();
  char text[64];
  std::snprintf(text, sizeof text, "%zu/%zu (%.0f%%)", at_least, of,
                of > 0 ? 100.0 * static_cast<double>(at_least) / static_cast<double>(of) : 0.0);
  return text;
}

// "0.74 (0.71-0.80)": the median training seconds, fastest to slowest.
std::string TimeRange(const json& stats) {
  if (!stats["median"].is_number()) return "-";
  return Fixed(stats["median"], 2) + " (" + Fixed(stats["min"], 2) + "-" + Fixed(stats["max"], 2) +
         ")";
}

}  // namespace

double OlympicMean(std::vector<double> values) {
  if (values.size() < 3) return Mean(values);
  std::sort(values.begin(), values.end());
  return Mean(std::vector<double>(values.begin() + 1, values.end() - 1));
}

json Summarize(const std::vector<LoadedReport>& reports, SweepMetric metric,
               const std::optional<std::set<std::string>>& spec_points,
               const std::vector<LiveClaim>& running, std::optional<double> accuracy_threshold) {
  return Summarize(ParseRunResults(reports), metric, spec_points, running, accuracy_threshold);
}

json Summarize(const std::vector<RunResults>& reports, SweepMetric metric,
               const std::optional<std::set<std::string>>& spec_points,
               const std::vector<LiveClaim>& running, std::optional<double> accuracy_threshold) {
  std::set<std::string> running_dirs;
  json running_list = json::array();
  for (const LiveClaim& claim : running) {
    running_dirs.insert(RunDirKey(claim.run_dir));
    running_list.push_back(
        {{"run_dir", claim.run_dir}, {"host", claim.holder.host}, {"pid", claim.holder.pid}});
  }
  const ReportSelection selection = SelectReports(reports, spec_points, running_dirs);
  std::vector<const RunResults*> complete = selection.complete;

  // Groups in order of their first run's sweep index (or path).
  std::sort(complete.begin(), complete.end(), [](const RunResults* a, const RunResults* b) {
    const auto index = [](const RunResults* r) {
      return r->sweep ? r->sweep->index.value_or(0) : uint64_t{0};
    };
    return std::make_pair(index(a), a->path) < std::make_pair(index(b), b->path);
  });
  std::vector<std::string> order;
  std::map<std::string, std::vector<const RunResults*>> groups;
  json varied_keys = json::array();
  for (const RunResults* report : complete) {
    if (!groups.count(report->config_id)) order.push_back(report->config_id);
    groups[report->config_id].push_back(report);
    const json varied = VariedWithoutSeed(*report);
    for (const auto& item : varied.items()) {
      if (std::find(varied_keys.begin(), varied_keys.end(), item.key()) == varied_keys.end()) {
        varied_keys.push_back(item.key());
      }
    }
  }

  json rows = json::array();
  for (const std::string& key : order) {
    const std::vector<const RunResults*>& runs = groups[key];
    std::vector<double> accuracy, loss, per_epoch, to_target, train_seconds;
    // As the reports hold them: a uint64 seed does not fit a double.
    json seeds = json::array();
    size_t diverged = 0, targets = 0;
    json paths = json::array();
    for (const RunResults* run : runs) {
      paths.push_back(run->path);
      seeds.push_back(run->seed ? json(*run->seed) : json(nullptr));
      if (run->status == "diverged") {
        ++diverged;
        continue;
      }
      if (std::isfinite(run->TestAccuracy())) accuracy.push_back(run->TestAccuracy());
      if (!run->epochs.empty() && std::isfinite(run->epochs.back().loss)) {
        loss.push_back(run->epochs.back().loss);
      }
      if (!run->epochs.empty()) per_epoch.push_back(run->SecondsPerEpoch());
      train_seconds.push_back(run->training_seconds);
      if (run->target) {
        ++targets;
        if (run->target->reached && std::isfinite(run->target->seconds)) {
          to_target.push_back(run->target->seconds);
        }
      }
    }
    // MLPerf scores the time to the target; without one, the training time.
    const std::vector<double>& timed = targets > 0 ? to_target : train_seconds;
    json row = {{"varied", VariedWithoutSeed(*runs.front())},
                {"config_hash", runs.front()->config_hash},
                {"config_id", key},
                {"runs", runs.size()},
                {"diverged", diverged},
                {"seeds", seeds},
                {"test_accuracy", Stats(accuracy)},
                {"final_loss", Stats(loss)},
                {"seconds_per_epoch", Stats(per_epoch)},
                {"train_seconds", TimeStats(train_seconds)},
                {"time_to_target",
                 {{"mean", NumberOrNull(Mean(to_target))},
                  {"reached", to_target.size()},
                  {"with_target", targets}}},
                {"mlperf_seconds", NumberOrNull(OlympicMean(timed))},
                {"mlperf_of", targets > 0 ? "time_to_target" : "train_seconds"},
                {"reports", paths}};
    if (accuracy_threshold) {
      // A diverged run counts among the runs, below any threshold.
      const auto at_least = std::count_if(accuracy.begin(), accuracy.end(), [&](double a) {
        return a >= *accuracy_threshold;
      });
      row["accuracy_threshold"] = {{"threshold", *accuracy_threshold},
                                   {"at_least", at_least},
                                   {"of", runs.size()}};
    }
    rows.push_back(row);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [metric](const json& a, const json& b) { return Better(a, b, metric); });
  json summary = {{"metric", MetricName(metric)},
                  {"varied_keys", varied_keys},
                  {"rows", rows},
                  {"runs", complete.size()},
                  {"incomplete", selection.incomplete},
                  {"duplicate_reports", selection.duplicate_reports},
                  {"duplicated_runs", selection.duplicated_runs},
                  {"not_in_spec", selection.not_in_spec},
                  {"running", running_list},
                  {"accuracy_threshold",
                   accuracy_threshold ? json(*accuracy_threshold) : json(nullptr)}};
  summary["notes"] = SummaryNotes(selection, running_list);
  return summary;
}

std::string SummaryMarkdown(const json& summary) {
  std::string header = "|";
  std::string rule = "|";
  for (const json& key : summary["varied_keys"]) {
    header += " " + key.get<std::string>() + " |";
    rule += "---|";
  }
  // The time-to-target column only when some run had a target.
  bool targets = false;
  for (const json& row : summary["rows"]) {
    targets = targets || row["time_to_target"]["with_target"].get<size_t>() > 0;
  }
  const json& threshold = summary.value("accuracy_threshold", json(nullptr));
  header += std::string(" runs | test accuracy (mean ± std, 95% interval of the mean) |") +
            (threshold.is_number() ? " ≥ " + Text(threshold) + " |" : "") +
            " final loss | s/epoch |" + (targets ? " time to target s |" : "") +
            " MLPerf s | train s median (min-max) |";
  rule += std::string("---:|---|") + (threshold.is_number() ? "---:|" : "") + "---:|---:|" +
          (targets ? "---:|" : "") + "---:|---:|";
  std::string text = header + "\n" + rule + "\n";
  for (const json& row : summary["rows"]) {
    std::string line = "|";
    for (const json& key : summary["varied_keys"]) {
      const std::string name = key.get<std::string>();
      line += " " + (row["varied"].contains(name) ? Text(row["varied"][name]) : "-") + " |";
    }
    const json& accuracy = row["test_accuracy"];
    std::string runs = std::to_string(row["runs"].get<size_t>());
    if (row["diverged"].get<size_t>() > 0) {
      runs += " (" + std::to_string(row["diverged"].get<size_t>()) + " diverged)";
    }
    std::string to_target = "-";
    const json& target = row["time_to_target"];
    if (target["with_target"].get<size_t>() > 0) {
      to_target = Fixed(target["mean"], 2) + " (" + std::to_string(target["reached"].get<size_t>()) +
                  "/" + std::to_string(target["with_target"].get<size_t>()) + " reached)";
    }
    line += " " + runs + " | " + Fixed(accuracy["mean"], 4) +
            (accuracy["values"].size() > 1 ? " ± " + Fixed(accuracy["std"], 4) : "") +
            (accuracy["ci95"].is_array() ? " (" + Fixed(accuracy["ci95"][0], 4) + "-" +
                                               Fixed(accuracy["ci95"][1], 4) + ")"
                                         : "") +
            " | " + (row.contains("accuracy_threshold") ? Share(row["accuracy_threshold"]) + " | " : "") +
            Fixed(row["final_loss"]["mean"], 4) + " | " +
            Fixed(row["seconds_per_epoch"]["mean"], 3) + " | " +
            (targets ? to_target + " | " : "") + Fixed(row["mlperf_seconds"], 2) + " | " +
            TimeRange(row["train_seconds"]) + " |";
    text += line + "\n";
  }
  text += "\n" + std::to_string(summary["rows"].size()) + " configs from " +
          std::to_string(summary["runs"].get<size_t>()) + " complete runs, sorted by " +
          summary["metric"].get<std::string>() +
          ". MLPerf s: the mean time to target (or training time without a target) after "
          "dropping the fastest and the slowest run.";
  for (const json& note : summary["notes"]) text += " " + note.get<std::string>();
  return text + "\n";
}

// One end of Stats' 95% interval for a CSV cell ("" without one).
std::string CiBound(const json& stats, size_t end) {
  return stats["ci95"].is_array() ? CsvNumber(stats["ci95"][end]) : "";
}

std::string SummaryCsv(const json& summary) {
  std::string text;
  for (const json& key : summary["varied_keys"]) text += CsvField(key.get<std::string>()) + ",";
  text +=
      "runs,diverged,test_accuracy_mean,test_accuracy_std,test_accuracy_ci95_low,"
      "test_accuracy_ci95_high,final_loss_mean,"
      "seconds_per_epoch_mean,time_to_target_mean,targets_reached,mlperf_seconds,"
      "train_seconds_median,train_seconds_min,train_seconds_max,accuracy_at_least_threshold,"
      "config_hash\n";
  for (const json& row : summary["rows"]) {
    for (const json& key : summary["varied_keys"]) {
      const std::string name = key.get<std::string>();
      text += (row["varied"].contains(name) ? CsvField(Text(row["varied"][name])) : "") + ",";
    }
    text += std::to_string(row["runs"].get<size_t>()) + "," +
            std::to_string(row["diverged"].get<size_t>()) + "," +
            CsvNumber(row["test_accuracy"]["mean"]) + "," + CsvNumber(row["test_accuracy"]["std"]) +
            "," + CiBound(row["test_accuracy"], 0) + "," + CiBound(row["test_accuracy"], 1) + "," +
            CsvNumber(row["final_loss"]["mean"]) + "," +
            CsvNumber(row["seconds_per_epoch"]["mean"]) + "," +
            CsvNumber(row["time_to_target"]["mean"]) + "," +
            std::to_string(row["time_to_target"]["reached"].get<size_t>()) + "," +
            CsvNumber(row["mlperf_seconds"]) + "," + CsvNumber(row["train_seconds"]["median"]) +
            "," + CsvNumber(row["train_seconds"]["min"]) + "," +
            CsvNumber(row["train_seconds"]["max"]) + "," +
            (row.contains("accuracy_threshold")
                 ? std::to_string(row["accuracy_threshold"]["at_least"].get<size_t>())
                 : std::string()) +
            "," + row["config_hash"].get<std::string>() + "\n";
  }
  return text;
}

void WriteSummary(const std::string& dir, std::FILE* out, SummaryScope scope) {
  LinePrinter printer(out);
  WriteSummary(dir, FindReportsInDirectory(dir), printer, scope);
}

void WriteSummary(const std::string& dir, const std::vector<LoadedReport>& reports,
                  LinePrinter& out, SummaryScope scope) {
  SweepSummarySettings settings = ReadSweepSummarySettings(dir);
  if (scope == SummaryScope::kAllRuns) settings.points.reset();
  const json summary = Summarize(reports, settings.metric, settings.points, FindLiveClaims(dir),
                                 settings.accuracy_threshold);
  WriteFileAtomic(dir + "/summary.json", summary.dump(2) + "\n");
  WriteFileAtomic(dir + "/summary.csv", SummaryCsv(summary));
  out.Write(SummaryMarkdown(summary));
  out.Printf("Summary: %s/summary.csv, %s/summary.json\n", dir.c_str(), dir.c_str());
}

int RunSummarizeCommand(const std::string& dir, std::FILE* out, SummaryScope scope) {
  WriteSummary(dir, out, scope);
  return kExitOk;
}

}  // namespace mb
