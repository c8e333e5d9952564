#include "sweep/summary.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>

#include "common/error.h"
#include "common/sha256.h"
#include "config/config.h"
#include "report/atomic_file.h"

namespace mb {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

double Mean(const std::vector<double>& values) {
  return values.empty() ? NAN
                        : std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

// The sample standard deviation (n - 1); 0 for a single value.
double StdDev(const std::vector<double>& values) {
  if (values.size() < 2) return values.empty() ? NAN : 0.0;
  const double mean = Mean(values);
  double sum = 0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / static_cast<double>(values.size() - 1));
}

json NumberOrNull(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json Stats(const std::vector<double>& values) {
  return {{"mean", NumberOrNull(Mean(values))},
          {"std", NumberOrNull(StdDev(values))},
          {"values", values}};
}

double TrainSeconds(const json& report) {
  double seconds = 0;
  for (const json& epoch : report["epochs"]) seconds += epoch.value("seconds", 0.0);
  return seconds;
}

// The values that tell this run's group apart: the sweep's varied values
// without the seed, or for a plain run its name.
json VariedWithoutSeed(const json& report) {
  json varied = json::object();
  const json& sweep = SweepOf(report);
  if (sweep.contains("varied") && sweep["varied"].is_object()) {
    varied = sweep["varied"];
    varied.erase("seed");
  } else {
    varied["name"] = report["config"].value("name", "run");
  }
  return varied;
}

// Runs with the same config apart from the seed form one row.
std::string GroupKey(const json& report) {
  json config = report["config"];
  config.erase("seed");
  return Sha256Hex(config.dump());
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

// A run directory's path in one spelling, to match a report to its claim.
std::string RunDirKey(const std::string& run_dir) {
  return fs::path(run_dir).lexically_normal().string();
}

}  // namespace

double OlympicMean(std::vector<double> values) {
  if (values.size() < 3) return Mean(values);
  std::sort(values.begin(), values.end());
  return Mean(std::vector<double>(values.begin() + 1, values.end() - 1));
}

json Summarize(const std::vector<LoadedReport>& reports, SweepMetric metric,
               const std::vector<LiveClaim>& running) {
  std::set<std::string> running_dirs;
  json running_list = json::array();
  for (const LiveClaim& claim : running) {
    running_dirs.insert(RunDirKey(claim.run_dir));
    running_list.push_back(
        {{"run_dir", claim.run_dir}, {"host", claim.holder.host}, {"pid", claim.holder.pid}});
  }
  // One report per sweep point: the last to finish when a point ran twice.
  std::map<std::string, const LoadedReport*> by_point;
  std::vector<const LoadedReport*> complete;
  size_t incomplete = 0;
  for (const LoadedReport& report : reports) {
    if (!IsFinishedReport(report.json)) {
      // Still running elsewhere is not cut off: it is listed from its claim.
      if (!running_dirs.count(RunDirKey(fs::path(report.path).parent_path().string()))) {
        ++incomplete;
      }
      continue;
    }
    const json& sweep = SweepOf(report.json);
    if (sweep.contains("point_id")) {
      const LoadedReport*& kept = by_point[sweep["point_id"].dump()];
      if (!kept || kept->json.value("finished_at", json("")).dump() <
                       report.json.value("finished_at", json("")).dump()) {
        kept = &report;
      }
    } else {
      complete.push_back(&report);
    }
  }
  for (const auto& [id, report] : by_point) complete.push_back(report);

  // Groups in order of their first run's sweep index (or path).
  std::sort(complete.begin(), complete.end(), [](const LoadedReport* a, const LoadedReport* b) {
    const auto index = [](const LoadedReport* r) {
      const json& sweep = SweepOf(r->json);
      return sweep.is_object() ? sweep.value("index", size_t{0}) : size_t{0};
    };
    return std::make_pair(index(a), a->path) < std::make_pair(index(b), b->path);
  });
  std::vector<std::string> order;
  std::map<std::string, std::vector<const LoadedReport*>> groups;
  json varied_keys = json::array();
  for (const LoadedReport* report : complete) {
    const std::string key = GroupKey(report->json);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(report);
    const json varied = VariedWithoutSeed(report->json);
    for (const auto& item : varied.items()) {
      if (std::find(varied_keys.begin(), varied_keys.end(), item.key()) == varied_keys.end()) {
        varied_keys.push_back(item.key());
      }
    }
  }

  json rows = json::array();
  for (const std::string& key : order) {
    const std::vector<const LoadedReport*>& runs = groups[key];
    std::vector<double> accuracy, loss, per_epoch, to_target, train_seconds, seeds;
    size_t diverged = 0, targets = 0;
    json paths = json::array();
    for (const LoadedReport* run : runs) {
      const json& r = run->json;
      paths.push_back(run->path);
      seeds.push_back(r["config"].value("seed", 0.0));
      if (r["status"] == "diverged") {
        ++diverged;
        continue;
      }
      const json& test = r.contains("test") ? r["test"] : json();
      if (test.is_object() && test["accuracy"].is_number()) {
        accuracy.push_back(test["accuracy"].get<double>());
      }
      const json& epochs = r["epochs"];
      if (!epochs.empty() && epochs.back()["loss"].is_number()) {
        loss.push_back(epochs.back()["loss"].get<double>());
      }
      if (!epochs.empty()) per_epoch.push_back(TrainSeconds(r) / static_cast<double>(epochs.size()));
      train_seconds.push_back(TrainSeconds(r));
      if (r.contains("target") && r["target"].is_object()) {
        ++targets;
        if (r["target"].value("reached", false) && r["target"]["seconds"].is_number()) {
          to_target.push_back(r["target"]["seconds"].get<double>());
        }
      }
    }
    // MLPerf scores the time to the target; without one, the training time.
    const std::vector<double>& timed = targets > 0 ? to_target : train_seconds;
    json row = {{"varied", VariedWithoutSeed(runs.front()->json)},
                {"config_hash", runs.front()->json["config_hash"]},
                {"runs", runs.size()},
                {"diverged", diverged},
                {"seeds", seeds},
                {"test_accuracy", Stats(accuracy)},
                {"final_loss", Stats(loss)},
                {"seconds_per_epoch", Stats(per_epoch)},
                {"train_seconds", Stats(train_seconds)},
                {"time_to_target",
                 {{"mean", NumberOrNull(Mean(to_target))},
                  {"reached", to_target.size()},
                  {"with_target", targets}}},
                {"mlperf_seconds", NumberOrNull(OlympicMean(timed))},
                {"mlperf_of", targets > 0 ? "time_to_target" : "train_seconds"},
                {"reports", paths}};
    rows.push_back(row);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [metric](const json& a, const json& b) { return Better(a, b, metric); });
  return {{"metric", MetricName(metric)},
          {"varied_keys", varied_keys},
          {"rows", rows},
          {"runs", complete.size()},
          {"incomplete", incomplete},
          {"running", running_list}};
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
  header += std::string(" runs | test accuracy (mean ± std) | final loss | s/epoch |") +
            (targets ? " time to target s |" : "") + " MLPerf s |";
  rule += targets ? "---:|---|---:|---:|---:|---:|" : "---:|---|---:|---:|---:|";
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
            (accuracy["values"].size() > 1 ? " ± " + Fixed(accuracy["std"], 4) : "") + " | " +
            Fixed(row["final_loss"]["mean"], 4) + " | " +
            Fixed(row["seconds_per_epoch"]["mean"], 3) + " | " +
            (targets ? to_target + " | " : "") + Fixed(row["mlperf_seconds"], 2) + " |";
    text += line + "\n";
  }
  text += "\n" + std::to_string(summary["rows"].size()) + " configs from " +
          std::to_string(summary["runs"].get<size_t>()) + " complete runs, sorted by " +
          summary["metric"].get<std::string>() +
          ". MLPerf s: the mean time to target (or training time without a target) after "
          "dropping the fastest and the slowest run.";
  if (summary["incomplete"].get<size_t>() > 0) {
    text += " " + std::to_string(summary["incomplete"].get<size_t>()) +
            " incomplete runs (interrupted or cut off) are left out.";
  }
  const json& running = summary["running"];
  if (!running.empty()) {
    text += " " + std::to_string(running.size()) + " still running " +
            (running.size() == 1 ? "is" : "are") + " left out:";
    for (size_t i = 0; i < running.size(); ++i) {
      const json& point = running[i];
      const ClaimHolder holder{point["host"].get<std::string>(), point["pid"].get<long>()};
      text += std::string(i == 0 ? " " : ", ") +
              fs::path(point["run_dir"].get<std::string>()).filename().string() +
              " running on " + holder.Describe();
    }
    text += ".";
  }
  return text + "\n";
}

std::string SummaryCsv(const json& summary) {
  std::string text;
  for (const json& key : summary["varied_keys"]) text += CsvField(key.get<std::string>()) + ",";
  text +=
      "runs,diverged,test_accuracy_mean,test_accuracy_std,final_loss_mean,"
      "seconds_per_epoch_mean,time_to_target_mean,targets_reached,mlperf_seconds,config_hash\n";
  for (const json& row : summary["rows"]) {
    for (const json& key : summary["varied_keys"]) {
      const std::string name = key.get<std::string>();
      text += (row["varied"].contains(name) ? CsvField(Text(row["varied"][name])) : "") + ",";
    }
    text += std::to_string(row["runs"].get<size_t>()) + "," +
            std::to_string(row["diverged"].get<size_t>()) + "," +
            CsvNumber(row["test_accuracy"]["mean"]) + "," + CsvNumber(row["test_accuracy"]["std"]) +
            "," + CsvNumber(row["final_loss"]["mean"]) + "," +
            CsvNumber(row["seconds_per_epoch"]["mean"]) + "," +
            CsvNumber(row["time_to_target"]["mean"]) + "," +
            std::to_string(row["time_to_target"]["reached"].get<size_t>()) + "," +
            CsvNumber(row["mlperf_seconds"]) + "," + row["config_hash"].get<std::string>() + "\n";
  }
  return text;
}

void WriteSummary(const std::string& dir, std::FILE* out) {
  LinePrinter printer(out);
  WriteSummary(dir, FindReportsInDirectory(dir), printer);
}

void WriteSummary(const std::string& dir, const std::vector<LoadedReport>& reports,
                  LinePrinter& out) {
  SweepMetric metric = SweepMetric::kTestAccuracy;
  const std::string sweep_file = dir + "/sweep.json";
  if (std::filesystem::exists(sweep_file)) {
    const json sweep = ReadJsonFile(sweep_file);
    if (sweep.is_object() && sweep.contains("metric") && sweep["metric"].is_string()) {
      metric = ParseMetric(sweep["metric"].get<std::string>(), sweep_file);
    }
  }
  const json summary = Summarize(reports, metric, FindLiveClaims(dir));
  WriteFileAtomic(dir + "/summary.json", summary.dump(2) + "\n");
  WriteFileAtomic(dir + "/summary.csv", SummaryCsv(summary));
  out.Write(SummaryMarkdown(summary));
  out.Printf("Summary: %s/summary.csv, %s/summary.json\n", dir.c_str(), dir.c_str());
}

int RunSummarizeCommand(const std::string& dir, std::FILE* out) {
  WriteSummary(dir, out);
  return kExitOk;
}

}  // namespace mb
