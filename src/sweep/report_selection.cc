#include "sweep/report_selection.h"

#include <filesystem>
#include <map>

namespace mb {
namespace {

// The sweep point's id, or "" for a report that is no sweep's point.
std::string PointIdOf(const RunResults& run) { return run.sweep ? run.sweep->point_id : ""; }

// Prefixed, so that a point id never equals a config's identity.
std::string RunIdentity(const RunResults& run) {
  const std::string point_id = PointIdOf(run);
  if (!point_id.empty()) return "point " + point_id;
  return "config " + run.config_id + " seed " + (run.seed ? std::to_string(*run.seed) : "none");
}

// By finished_at (ISO 8601 UTC timestamps order as text), then the first by
// path, so that the choice does not depend on the order reports come in.
bool IsNewer(const RunResults& a, const RunResults& b) {
  return a.finished_at != b.finished_at ? a.finished_at > b.finished_at : a.path < b.path;
}

struct RunReports {
  const RunResults* newest_complete = nullptr;
  size_t count = 0;
  bool running = false;  // one of its reports is in a live claim's directory
};

}  // namespace

std::string RunDirKey(const std::string& run_dir) {
  return std::filesystem::path(run_dir).lexically_normal().string();
}

ReportSelection SelectReports(const std::vector<RunResults>& runs,
                              const std::optional<std::set<std::string>>& spec_points,
                              const std::set<std::string>& running_dirs) {
  ReportSelection selection;
  std::map<std::string, RunReports> by_identity;
  for (const RunResults& report : runs) {
    if (spec_points && spec_points->count(PointIdOf(report)) == 0) {
      ++selection.not_in_spec;
      continue;
    }
    RunReports& run = by_identity[RunIdentity(report)];
    ++run.count;
    run.running = run.running ||
                  running_dirs.count(
                      RunDirKey(std::filesystem::path(report.path).parent_path().string())) > 0;
    if (report.IsFinished() && (!run.newest_complete || IsNewer(report, *run.newest_complete))) {
      run.newest_complete = &report;
    }
  }
  for (const auto& [identity, run] : by_identity) {
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
