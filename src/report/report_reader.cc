#include "report/report_reader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "report/run_report.h"

namespace mb {
namespace fs = std::filesystem;

namespace {

constexpr const char* kReportName = "report.json";

void Require(const LoadedReport& report, const char* key, bool (nlohmann::json::*is_type)() const,
             const char* type) {
  const auto found = report.json.find(key);
  if (found == report.json.end() || !((*found).*is_type)()) {
    throw InputError(report.path + ": " + key + ": missing or not " + type +
                     " (not a mnistbench report?)");
  }
}

}  // namespace

LoadedReport ReadReport(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(path + ": cannot read report");
  std::ostringstream text;
  text << file.rdbuf();
  LoadedReport report{path, {}};
  try {
    report.json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": report is not valid JSON: " + e.what());
  }
  if (!report.json.is_object()) throw InputError(path + ": report is not a JSON object");
  Require(report, "schema_version", &nlohmann::json::is_number_integer, "an integer");
  Require(report, "status", &nlohmann::json::is_string, "a string");
  Require(report, "config", &nlohmann::json::is_object, "an object");
  Require(report, "config_hash", &nlohmann::json::is_string, "a string");
  Require(report, "epochs", &nlohmann::json::is_array, "an array");
  // Refused like a corrupt report: a later version may mean something else
  // by the same fields, and a silently misread report is worse than none.
  const nlohmann::json& version = report.json["schema_version"];
  if (version != kReportSchemaVersion) {
    throw InputError(path + ": schema_version: " + version.dump() +
                     " is not supported (this build reads " +
                     std::to_string(kReportSchemaVersion) + ")");
  }
  return report;
}

std::vector<LoadedReport> FindReports(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (error || !fs::exists(status)) throw InputError(path + ": no such file or directory");
    if (!fs::is_directory(status)) {
      files.push_back(path);
      continue;
    }
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, error);
    if (error) throw InputError(path + ": cannot list directory (" + error.message() + ")");
    for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (error) throw InputError(path + ": cannot list directory (" + error.message() + ")");
      if (it->path().filename() == kReportName && it->is_regular_file()) {
        files.push_back(it->path().lexically_normal().string());
      }
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  std::vector<LoadedReport> reports;
  reports.reserve(files.size());
  for (const std::string& file : files) reports.push_back(ReadReport(file));
  return reports;
}

bool IsFinishedStatus(const std::string& status) {
  return status == "completed" || status == "diverged";
}

bool IsFinishedReport(const nlohmann::json& report) {
  return IsFinishedStatus(report.value("status", ""));
}

const nlohmann::json& SweepOf(const nlohmann::json& report) {
  static const nlohmann::json kNone;
  const auto found = report.find("sweep");
  return found != report.end() && found->is_object() ? *found : kNone;
}

std::vector<LoadedReport> FindReportsInDirectory(const std::string& dir) {
  std::error_code error;
  if (fs::exists(dir, error) && !fs::is_directory(dir, error)) {
    throw InputError(dir + ": not a directory (expected a directory of runs)");
  }
  std::vector<LoadedReport> reports = FindReports({dir});
  if (reports.empty()) throw InputError(dir + ": no report.json files in this directory");
  return reports;
}

}  // namespace mb
