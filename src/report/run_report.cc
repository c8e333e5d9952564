#include "report/run_report.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/error.h"
#include "common/statistics.h"
#include "report/atomic_file.h"

namespace mb {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// A float stored in a JSON double would print as 0.10000000149011612 for
// 0.1f. Going through the float's shortest decimal form prints "0.1", which
// still reads back as the same float.
double ShortestDouble(float value) {
  char text[32];
  const auto printed = std::to_chars(text, text + sizeof text, value);
  double result = value;
  std::from_chars(text, printed.ptr, result);
  return result;
}

nlohmann::json ShortestDoubles(const std::vector<float>& values) {
  nlohmann::json list = nlohmann::json::array();
  for (float value : values) list.push_back(ShortestDouble(value));
  return list;
}

nlohmann::json EpochToJson(const EpochRecord& epoch) {
  nlohmann::json json = {
      {"epoch", epoch.epoch},
      {"steps", epoch.steps},
      {"loss", epoch.loss},
      {"accuracy", epoch.accuracy},
      {"seconds", epoch.seconds},
      {"samples_per_second", epoch.samples_per_second},
      {"learning_rate", epoch.learning_rate},
  };
  if (epoch.val_loss) json["val_loss"] = *epoch.val_loss;
  if (epoch.val_accuracy) json["val_accuracy"] = *epoch.val_accuracy;
  return json;
}

nlohmann::json PredictionToJson(const Prediction& prediction) {
  return {
      {"index", prediction.index},
      {"label", prediction.label},
      {"predicted", prediction.predicted},
      {"probability", ShortestDouble(prediction.probability)},
      {"probabilities", ShortestDoubles(prediction.probabilities)},
  };
}

nlohmann::json TargetToJson(const TargetRecord& target) {
  return {{"accuracy", target.accuracy},
          {"set", target.set},
          {"every_steps", target.every_steps},
          {"reached", target.reached},
          {"seconds", OrNull(target.seconds)},
          {"epoch", OrNull(target.epoch)},
          {"step", OrNull(target.step)},
          {"reached_accuracy", OrNull(target.reached_accuracy)}};
}

// Shortest round-trip form; std::to_chars ignores the locale, unlike printf,
// which would write "0,5" under a German LC_NUMERIC.
std::string FormatNumber(double value) {
  char text[32];
  const auto printed = std::to_chars(text, text + sizeof text, value);
  return std::string(text, printed.ptr);
}

std::string FormatOptional(const std::optional<double>& value) {
  return value ? FormatNumber(*value) : "";
}

bool IsUtcTimestamp(const std::string& text) {
  static const char kPattern[] = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != sizeof kPattern - 1) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool ok =
        kPattern[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == kPattern[i];
    if (!ok) return false;
  }
  return true;
}

// A "<field>:   123 kB" line of /proc/self/status, in bytes.
std::optional<long> ProcessStatusBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(field.size() + 1));
    long kilobytes = 0;
    std::string unit;
    if (fields >> kilobytes >> unit && unit == "kB") return kilobytes * 1024;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

nlohmann::json RunReport::ToJson() const {
  nlohmann::json json;
  json["schema_version"] = kReportSchemaVersion;
  json["status"] = status;
  json["config"] = config;
  json["config_hash"] = config_hash;
  json["machine"] = machine;
  json["dataset"] = dataset;
  json["training"] = training;
  json["epochs"] = nlohmann::json::array();
  for (const EpochRecord& epoch : epochs) json["epochs"].push_back(EpochToJson(epoch));
  json["test"] = test_loss || test_accuracy ? nlohmann::json{{"loss", OrNull(test_loss)},
                                                             {"accuracy", OrNull(test_accuracy)}}
                                            : nlohmann::json(nullptr);
  if (!test_confusion.empty() && test_samples > 0) {
    const auto [low, high] = WilsonInterval95(test_correct, test_samples);
    nlohmann::json& test = json["test"];
    test["samples"] = test_samples;
    test["correct"] = test_correct;
    test["accuracy_ci95"] = {low, high};
    nlohmann::json matrix = nlohmann::json::array(), per_class = nlohmann::json::array();
    for (size_t label = 0; label < classes; ++label) {
      const auto row_begin = test_confusion.begin() + static_cast<std::ptrdiff_t>(label * classes);
      const std::vector<uint64_t> row(row_begin, row_begin + static_cast<std::ptrdiff_t>(classes));
      uint64_t total = 0;
      for (uint64_t n : row) total += n;
      matrix.push_back(row);
      per_class.push_back(total > 0 ? nlohmann::json(static_cast<double>(row[label]) /
                                                     static_cast<double>(total))
                                    : nlohmann::json(nullptr));
    }
    test["per_class_accuracy"] = per_class;
    test["confusion_matrix"] = matrix;
  }
  json["predictions"] = nlohmann::json::array();
  for (const Prediction& prediction : predictions) {
    json["predictions"].push_back(PredictionToJson(prediction));
  }
  if (diverged_epoch) json["diverged_epoch"] = *diverged_epoch;
  if (early_stopping) json["early_stopping"] = *early_stopping;
  if (target) json["target"] = TargetToJson(*target);
  if (!sweep.is_null()) json["sweep"] = sweep;
  if (!resumed.empty()) json["resumed"] = resumed;
  json["timing"] = {{"load_seconds", timing.load_seconds},
                    {"setup_seconds", timing.setup_seconds},
                    {"training_seconds", timing.training_seconds},
                    {"test_seconds", timing.test_seconds}};
  json["total_seconds"] = total_seconds;
  json["started_at"] = started_at;
  json["finished_at"] = finished_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(finished_at);
  json["peak_rss_bytes"] = OrNull(peak_rss_bytes);
  json["memory"] = memory;
  return json;
}

RunReport RunReportFromJson(const nlohmann::json& json, const std::string& source) {
  // The report is this program's own output: a field of the wrong type
  // means the file was damaged or edited, which one message says.
  try {
    RunReport report;
    report.status = json.at("status").get<std::string>();
    report.config = json.at("config");
    report.config_hash = json.at("config_hash").get<std::string>();
    report.machine = json.at("machine");
    report.dataset = json.at("dataset");
    report.training = json.at("training");
    for (const nlohmann::json& e : json.at("epochs")) {
      EpochRecord epoch;
      epoch.epoch = e.at("epoch").get<int>();
      epoch.steps = e.at("steps").get<size_t>();
      epoch.loss = e.at("loss").get<double>();
      epoch.accuracy = e.at("accuracy").get<double>();
      epoch.seconds = e.at("seconds").get<double>();
      epoch.samples_per_second = e.at("samples_per_second").get<double>();
      epoch.learning_rate = e.at("learning_rate").get<double>();
      if (e.contains("val_loss")) epoch.val_loss = e["val_loss"].get<double>();
      if (e.contains("val_accuracy")) epoch.val_accuracy = e["val_accuracy"].get<double>();
      report.epochs.push_back(epoch);
    }
    if (json.contains("diverged_epoch")) report.diverged_epoch = json["diverged_epoch"].get<int>();
    if (json.contains("early_stopping")) report.early_stopping = json["early_stopping"];
    if (json.contains("target")) {
      const nlohmann::json& t = json["target"];
      TargetRecord target;
      target.accuracy = t.at("accuracy").get<double>();
      target.set = t.at("set").get<std::string>();
      target.every_steps = t.at("every_steps").get<uint64_t>();
      target.reached = t.at("reached").get<bool>();
      if (!t.at("seconds").is_null()) target.seconds = t["seconds"].get<double>();
      if (!t.at("epoch").is_null()) target.epoch = t["epoch"].get<int>();
      if (!t.at("step").is_null()) target.step = t["step"].get<size_t>();
      if (!t.at("reached_accuracy").is_null()) {
        target.reached_accuracy = t["reached_accuracy"].get<double>();
      }
      report.target = target;
    }
    if (json.contains("sweep")) report.sweep = json["sweep"];
    if (json.contains("resumed")) report.resumed = json["resumed"];
    const nlohmann::json& timing = json.at("timing");
    report.timing.load_seconds = timing.at("load_seconds").get<double>();
    report.timing.setup_seconds = timing.at("setup_seconds").get<double>();
    report.timing.training_seconds = timing.at("training_seconds").get<double>();
    report.timing.test_seconds = timing.at("test_seconds").get<double>();
    report.total_seconds = json.at("total_seconds").get<double>();
    report.started_at = json.at("started_at").get<std::string>();
    report.memory = json.at("memory");
    return report;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(source + ": the report it holds is damaged (" + e.what() + ")");
  }
}

std::string UtcTimestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[sizeof "2026-11-28T15:16:06Z"];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string RunDirectoryName(const std::string& name, const std::string& config_hash,
                             const std::string& started_at) {
  if (!IsUtcTimestamp(started_at)) {
    throw std::invalid_argument("RunDirectoryName: not a UTC timestamp: " + started_at);
  }
  // "2026-11-28T15:16:06Z" -> "20261128T151606": sorts by time, no colons
  // (which some file systems and tools reject).
  const std::string compact = started_at.substr(0, 4) + started_at.substr(5, 2) +
                              started_at.substr(8, 2) + "T" + started_at.substr(11, 2) +
                              started_at.substr(14, 2) + started_at.substr(17, 2);
  return name + "-" + compact + "-" + config_hash.substr(0, 8);
}

std::string EpochsCsv(const std::vector<EpochRecord>& epochs) {
  std::string csv =
      "epoch,loss,accuracy,val_loss,val_accuracy,seconds,samples_per_second,learning_rate\n";
  for (const EpochRecord& epoch : epochs) {
    csv += std::to_string(epoch.epoch) + "," + FormatNumber(epoch.loss) + "," +
           FormatNumber(epoch.accuracy) + "," + FormatOptional(epoch.val_loss) + "," +
           FormatOptional(epoch.val_accuracy) + "," + FormatNumber(epoch.seconds) + "," +
           FormatNumber(epoch.samples_per_second) + "," + FormatNumber(epoch.learning_rate) +
           "\n";
  }
  return csv;
}

void WriteRunFiles(const std::string& run_dir, const RunReport& report) {
  const std::filesystem::path dir(run_dir);
  WriteFileAtomic((dir / "epochs.csv").string(), EpochsCsv(report.epochs));
  // Strings such as the hostname or config values are not guaranteed to be
  // UTF-8; a stray byte is replaced rather than losing the whole report.
  const std::string json =
      report.ToJson().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  WriteFileAtomic((dir / "report.json").string(), json);
}

std::string StartRunDirectory(const std::string& out_dir, const std::string& name,
                              const RunReport& report) {
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) throw OutputError(out_dir + ": cannot create output directory (" + error.message() + ")");
  std::string run_dir;
  for (int attempt = 1; run_dir.empty(); ++attempt) {
    const std::string path =
        out_dir + "/" + name + (attempt == 1 ? "" : "-" + std::to_string(attempt));
    if (mkdir(path.c_str(), 0755) == 0) {
      run_dir = path;
    } else if (errno != EEXIST || attempt == 1000) {
      throw OutputError(path + ": cannot create run directory (" + std::strerror(errno) + ")");
    }
  }
  try {
    WriteRunFiles(run_dir, report);
  } catch (const OutputError&) {
    // Without a report the directory describes nothing; what could be
    // written (epochs.csv, say) would only pass for a run's results.
    std::filesystem::remove_all(run_dir, error);
    throw;
  }
  return run_dir;
}

std::optional<long> PeakRssBytes() { return ProcessStatusBytes("VmHWM"); }

std::optional<long> ResidentBytes() { return ProcessStatusBytes("VmRSS"); }

}  // namespace mb
