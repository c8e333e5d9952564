// `runner compare A B [C ...]`: the same configs run on different machines or
// builds, side by side. Runs pair when they are runs of one config: the same
// RunResults::config_id (report/run_results.h), which leaves out the seed and
// the keys config_hash leaves out (the name, the thread count, ...), as the
// summary's rows do. Side A is the baseline: each row sets one config on a
// later side against the first side that has it, with test accuracy, seconds
// per epoch, whether the per-epoch losses of each seed are bitwise identical,
// a list of the machine and build fields that differ, to explain the
// differences, and, when both have at least 2 seeds, Welch's t-test of
// whether their mean test accuracies differ.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report_reader.h"
#include "report/run_results.h"
#include "sweep/run_differences.h"

namespace mb {

// The comparison as JSON; a pure function, for tests. `sides[i]` holds the
// runs of the i-th source, named `side_names[i]` (the sides are labelled A,
// B, C, ...). Within a side the runs of one config form a group: its test
// accuracy and seconds per epoch are the medians over its runs; per seed,
// the run that stands for it in the loss and fingerprint comparisons is its
// first completed run by path (its first run by path if none completed), and
// its test accuracy, for Welch's test, the median over its runs.
//
// {"sides": [{"label", "source", "runs"}],
//  "pairs": [{"label", "config_id", "config_hash" (null when the pair's runs
//             span several seeds), "base", "other" (side labels),
//             "runs": {"base", "other"},
//             "test_accuracy": {"base", "other", "difference"},
//             "seconds_per_epoch": {"base", "other", "ratio"},
//             "losses_bitwise_identical", "status",
//             "fingerprint_differences": [...],
//             "welch": {"seeds": {"base", "other"}, "possible",
//                       "mean": {"base", "other"}, "difference", "t", "df", "p",
//                       "no_variance", "significant", "verdict"}}],
//  "unpaired": [{"side", "runs", "configs": [{"label", "config_id", "config_hash"}]}],
//  "merged_repeats": {"groups", "runs"}}
//
// Differences are other - base; numbers that do not exist (no accuracy, a
// test not possible, t and df without variance) are null. Throws InputError
// with fewer than 2 sides or a side without reports.
nlohmann::json CompareRuns(const std::vector<std::vector<RunResults>>& sides,
                           const std::vector<std::string>& side_names);

// The comparison as a Markdown table plus notes (compare_text.cc).
std::string ComparisonText(const nlohmann::json& comparison);

// The hash a config of the comparison (a pair or an unpaired config) is
// shown by: its config_hash when its runs share one, else its config_id.
std::string ShownConfigHash(const nlohmann::json& config);

// ComparisonText(CompareRuns(...)) of reports as read (ParseRunResults on
// each first).
std::string CompareReportSets(const std::vector<std::vector<LoadedReport>>& sides,
                              const std::vector<std::string>& side_names);

// `runner compare A B [C ...]`: each argument is one side (a report file, a
// run directory, or a directory of runs or sweeps). Prints the comparison to
// `out` and returns kExitOk. Throws InputError with fewer than 2 sources, a
// source without reports, or a bad report.
int RunCompareCommand(const std::vector<std::string>& sources, std::FILE* out);

}  // namespace mb
