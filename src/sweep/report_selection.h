// Which of a directory's reports a summary counts: one report per run,
// however many copies of it the directory holds (a run directory copied,
// the results of two machines merged, a point run again), and only the
// points of the sweep spec the directory was last run with. What is merged
// or left out is counted, for the summary to say so.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "report/run_results.h"

namespace mb {

struct ReportSelection {
  // One per run that has a complete report (completed or diverged): its
  // newest, by finished_at (the first by path among equals).
  std::vector<const RunResults*> complete;
  size_t incomplete = 0;         // runs without one (interrupted, cut off)
  size_t running = 0;            // runs without one, running in another process
  size_t duplicate_reports = 0;  // reports merged into another of their run
  size_t duplicated_runs = 0;    // runs with more than one report
  size_t not_in_spec = 0;        // reports left out for not being a point of the spec
};

// A run is a sweep point (its point_id) or, outside a sweep, a config and a
// seed (config_id and seed: what config_hash digests), so that runs that
// differ only in keys that cannot change a number (threads, name, ...) are
// one run, as a sweep's point run again with another thread count is, and
// a summary row, which merges the seeds of one config_id, never counts the
// same numbers twice. With `spec_points`, reports whose point_id is not one
// of them (points of an earlier version of the spec, or runs that are no
// sweep's point) are left out first. A run without a complete report that
// has one in `running_dirs` (run directories whose claim a live process
// holds) counts as running, not as incomplete.
ReportSelection SelectReports(const std::vector<RunResults>& runs,
                              const std::optional<std::set<std::string>>& spec_points,
                              const std::set<std::string>& running_dirs = {});

// A run directory's path in one spelling, to match a report to its claim.
std::string RunDirKey(const std::string& run_dir);

}  // namespace mb
