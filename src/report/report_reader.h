// Finding and reading back the report.json files that runs wrote, for the
// commands that work on finished results (summarize, compare, plot) and for
// a sweep resuming. Those commands then read each report's fields through
// ParseRunResults (report/run_results.h), never from the JSON directly.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mb {

struct LoadedReport {
  std::string path;     // of the report.json file
  nlohmann::json json;  // its contents
};

// Every report.json at or under each of `paths`: a report file itself, a run
// directory, or a directory of runs or of sweeps (searched recursively,
// symlinks not followed). Reports are returned sorted by path, each once.
// Throws InputError with a one-line message naming the file when a path does
// not exist, a file cannot be read, is not JSON, or lacks the fields every
// report has (schema_version, status, config, config_hash, epochs), or its
// schema_version is not kReportSchemaVersion (report/run_report.h).
std::vector<LoadedReport> FindReports(const std::vector<std::string>& paths);

// Whether a report's status means finished for good: "completed" or
// "diverged" (a diverged run is a result); "running" and "interrupted" runs
// were cut off.
bool IsFinishedStatus(const std::string& status);
bool IsFinishedReport(const nlohmann::json& report);

// The report's "sweep" object (see RunReport::sweep), or null for a run
// that was not part of a sweep.
const nlohmann::json& SweepOf(const nlohmann::json& report);

// Every report.json under the directory `dir`, for the commands that write
// their results into it (summarize, plot). Throws InputError naming `dir`
// when it is not a directory or holds no reports, and as FindReports does.
std::vector<LoadedReport> FindReportsInDirectory(const std::string& dir);

// Reads one report.json; throws InputError as FindReports does.
LoadedReport ReadReport(const std::string& path);

}  // namespace mb
