// The summary of a directory of runs (a sweep, or any runs): one row per
// distinct config apart from the seed, with test accuracy as mean +- std over
// the seeds and the 95% interval of the mean, the share of runs at or above
// the spec's accuracy_threshold, final loss, seconds per epoch, time to
// target, the MLPerf-style time (the mean after dropping the fastest and
// the slowest run) and the training seconds' median, min and max, sorted by
// the sweep's metric.
#pragma once

#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/line_printer.h"
#include "report/report_reader.h"
#include "report/run_results.h"
#include "sweep/point_claim.h"
#include "sweep/sweep_spec.h"

namespace mb {

// The summary as JSON (summary.json's contents): {"metric", "varied_keys",
// "rows": [...], "runs", "incomplete", "duplicate_reports",
// "duplicated_runs", "not_in_spec", "running", "notes", "accuracy_threshold"}.
// With accuracy_threshold, each row has "accuracy_threshold": {"threshold",
// "at_least", "of"}: how many of its runs (diverged ones included) reached
// that test accuracy. A row is a config:
// the runs with one RunResults::config_id (report/run_results.h), which
// differ at most in the seed and in keys that cannot change a number. The
// reports counted are those SelectReports (sweep/report_selection.h) keeps:
// one per run, the newest complete one, and with `spec_points` only those
// points. Runs that are neither completed nor diverged are left out: those
// in the run directory of one of the `running` claims (a point still
// running in another process) are listed in "running" with their holders,
// the others (interrupted, cut off) counted in "incomplete". "notes" says in
// sentences what was merged or left out. Integers (seeds, counts) are JSON
// integers.
nlohmann::json Summarize(const std::vector<RunResults>& reports, SweepMetric metric,
                         const std::optional<std::set<std::string>>& spec_points = std::nullopt,
                         const std::vector<LiveClaim>& running = {},
                         std::optional<double> accuracy_threshold = std::nullopt);
// As above, for reports as read (ParseRunResults on each first).
nlohmann::json Summarize(const std::vector<LoadedReport>& reports, SweepMetric metric,
                         const std::optional<std::set<std::string>>& spec_points = std::nullopt,
                         const std::vector<LiveClaim>& running = {},
                         std::optional<double> accuracy_threshold = std::nullopt);

// The summary as a Markdown table with a line of notes after it.
std::string SummaryMarkdown(const nlohmann::json& summary);
// The summary as CSV: one row per summary row, numbers in full precision.
std::string SummaryCsv(const nlohmann::json& summary);

// Which runs the summary of a sweep directory covers.
enum class SummaryScope {
  kCurrentSpec,  // the points of the spec in dir/sweep.json (all runs without one)
  kAllRuns,      // every run under the directory (runner summarize --all)
};

// Summarizes every report under `dir` (sorted by the metric of dir/sweep.json
// when there is one, else by test accuracy; with kCurrentSpec, only the
// points listed in dir/sweep.json), with the points that live claims under
// `dir` say are running, writes dir/summary.csv and
// dir/summary.json atomically and prints the Markdown table to `out`.
// Throws InputError when `dir` holds no reports, OutputError when the files
// cannot be written.
void WriteSummary(const std::string& dir, std::FILE* out,
                  SummaryScope scope = SummaryScope::kCurrentSpec);

// As WriteSummary(dir, out, scope), for the `reports` already read from
// `dir` (at least one), each line printed through `out`.
void WriteSummary(const std::string& dir, const std::vector<LoadedReport>& reports,
                  LinePrinter& out, SummaryScope scope = SummaryScope::kCurrentSpec);

// `runner summarize [--all] DIR`: WriteSummary(dir, out, scope); returns
// kExitOk.
int RunSummarizeCommand(const std::string& dir, std::FILE* out,
                        SummaryScope scope = SummaryScope::kCurrentSpec);

// The mean of `values` after dropping the smallest and the largest, as
// MLPerf scores repeated runs; the plain mean of fewer than 3 values.
double OlympicMean(std::vector<double> values);

}  // namespace mb
