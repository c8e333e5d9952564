// `runner compare A B [C ...]`: the same configs run on different machines or
// builds, side by side. Runs pair when they have the same config_hash (which
// leaves out the name and the thread count). Side A is the baseline: each row
// sets one config on a later side against the first side that has it, with
// test accuracy, seconds per epoch, whether the per-epoch losses are bitwise
// identical, and a list of the machine and build fields that differ, to
// explain the differences.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report_reader.h"

namespace mb {

// The comparison as a Markdown table plus notes; a pure function, for tests.
// `sides[i]` holds the reports of the i-th source, named `side_names[i]` in
// the output (the sides are labelled A, B, C, ...). When a side has several
// runs of one config, its test accuracy and seconds per epoch are the medians
// over them, and the losses and fingerprint compared are those of its first
// completed run by path (its first run by path if none completed); the output
// says how many runs were merged. Throws InputError with fewer than 2 sides or
// a side without reports.
std::string CompareReportSets(const std::vector<std::vector<LoadedReport>>& sides,
                              const std::vector<std::string>& side_names);

// `runner compare A B [C ...]`: each argument is one side (a report file, a
// run directory, or a directory of runs or sweeps). Prints the comparison to
// `out` and returns kExitOk. Throws InputError with fewer than 2 sources, a
// source without reports, or a bad report.
int RunCompareCommand(const std::vector<std::string>& sources, std::FILE* out);

// Whether two reports' per-epoch losses (`loss`, and `val_loss` where
// present) are bitwise identical: "yes", "no (epoch N, rel X[; why])" naming
// the first epoch that differs, the relative difference of its loss there
// and NumericsExplanation's reason, or "n/a (..)" when the epoch counts
// differ or there are no epochs.
std::string CompareLosses(const nlohmann::json& base, const nlohmann::json& other);

// Why two runs of one config may differ, from their numerics classes
// (kernels/target.h): "numerics fma vs no-fma" when the classes differ (the
// promise holds within a class only), "same numerics, other build" when the
// commits differ or either is dirty or unknown (the code may have changed),
// "same numerics and commit: unexpected" otherwise; "" when either report
// lacks the class (reports from builds before it was recorded).
std::string NumericsExplanation(const nlohmann::json& base, const nlohmann::json& other);

// The fingerprint fields whose values differ between two reports, in a fixed
// order, each as "field: base value -> other value": the machine and build
// (CPU, SIMD targets, compiler and flags, threads, versions, git commit, host,
// OS, FTZ/DAZ), how training ran (first-layer kernel, OpenMP wait policy), the
// data files' sha256 and the config name. Empty when none differ.
std::vector<std::string> FingerprintDifferences(const nlohmann::json& base,
                                                const nlohmann::json& other);

}  // namespace mb
