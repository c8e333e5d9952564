#include "sweep/report_selection.h"

#include <filesystem>
#include <map>

#include "common/sha256.h"

namespace mb {
namespace {

using json = nlohmann::json;

// The sweep point's id, or "" for a report that is no sweep's point.
std::string PointIdOf(const json& report) {
  const json& sweep = SweepOf(report);
  const auto id = sweep.find("point_id");
  return sweep.is_object() && id != sweep.end() && id->is_string() ? id->get<std::string>()
                                                                   : "";
}

// Prefixed, so that a point id never equals a config's digest.
std::string RunIdentity(const json& report) {
  const std::string point_id = PointIdOf(report);
  if (!point_id.empty()) return "point " + point_id;
  return "config " + Sha256Hex(report["config"].dump());
}

std::string FinishedAt(const json& report) {
  const auto found = report.find("finished_at");
  return found != report.end() && found->is_string() ? found->get<std::string>() : "";
}

// By finished_at (ISO 8601 UTC timestamps order as text), then the first by
// path, so that the choice does not depend on the order reports come in.
bool IsNewer(const LoadedReport& a, const LoadedReport& b) {
  const std::string a_finished = FinishedAt(a.json), b_finished = FinishedAt(b.json);
  return a_finished != b_finished ? a_finished > b_finished : a.path < b.path;
}

struct RunReports {
  const LoadedReport* newest_complete = nullptr;
  size_t count = 0;
  bool running = false;  // one of its reports is in a live claim's directory
};

}  // namespace

std::string RunDirKey(const std::string& run_dir) {
  return std::filesystem::path(run_dir).lexically_normal().string();
}

ReportSelection SelectReports(const std::vector<LoadedReport>& reports,
                              const std::optional<std::set<std::string>>& spec_points,
                              const std::set<std::string>& running_dirs) {
  ReportSelection selection;
  std::map<std::string, RunReports> runs;
  for (const LoadedReport& report : reports) {
    if (spec_points && spec_points->count(PointIdOf(report.json)) == 0) {
      ++selection.not_in_spec;
      continue;
    }
    RunReports& run = runs[RunIdentity(report.json)];
    ++run.count;
    run.running = run.running ||
                  running_dirs.count(
                      RunDirKey(std::filesystem::path(report.path).parent_path().string())) > 0;
    if (IsFinishedReport(report.json) &&
        (!run.newest_complete || IsNewer(report, *run.newest_complete))) {
      run.newest_complete = &report;
    }
  }
  for (const auto& [identity, run] : runs) {
    if (run.newest_complete) {
      selection.complete.push_back(run.newest_complete);
    } else if (run.running) {
      ++selection.running;
    } else {
      ++selection.incomplete;
    }
    if (run.count > 1) {
      selection.duplicate_reports += run.count - 1;
      ++selection.duplicated_runs;
    }
  }
  return selection;
}

}  // namespace mb
