// What one report.json says, typed and checked once, for the commands that
// work on finished runs (summarize, compare, plot): they read reports only
// through RunResults, so that each field has one meaning and one check.
//
// Missing optional fields are fine (reports of older builds lack some, and
// diverged or running runs lack their test results); fields this does not
// know are ignored. A field of the wrong type is an InputError naming the
// file and the field: "<path>: epochs.2.loss: expected a number, got "x"".
// Numbers the runner writes as null (NaN and infinity) read as NaN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report_reader.h"

namespace mb {

// One element of "epochs". Numbers missing or null are NaN.
struct EpochResults {
  int64_t epoch = 0;  // 1-based, as written; its position + 1 when missing
  double loss = 0, accuracy = 0;
  // Present only with a validation split.
  std::optional<double> val_loss, val_accuracy;
  double learning_rate = 0;
  double seconds = 0;  // the epoch's training steps, evaluation excluded
};

// "test": on the test set, once evaluated.
struct TestResults {
  double loss = 0, accuracy = 0;
  std::optional<uint64_t> samples, correct;
};

// "target": time to accuracy, with target_accuracy in the config.
struct TargetResults {
  double accuracy = 0;  // the target
  std::string set;      // "validation" or "test"
  bool reached = false;
  // From before the data is first read to the end of the evaluation that
  // reached the target, as MLPerf times it; NaN when not reached.
  double seconds = 0;
  std::optional<int64_t> epoch, step;
};

// "early_stopping", with early_stopping in the config.
struct EarlyStoppingResults {
  std::optional<int64_t> stopped_epoch;  // none if the patience never ran out
  std::optional<int64_t> best_epoch;
  bool restored_best_weights = false;
};

// "sweep", for a sweep's point.
struct SweepPointResults {
  std::string name;
  std::string spec;
  std::optional<uint64_t> index;
  std::string point_id;  // "" when missing
  // Key path -> value of the point's axes, seed included: config values,
  // any JSON. An object; nothing when missing.
  std::optional<nlohmann::json> varied;
};

// A machine, build, run-setting or data field that may explain why two
// runs of one config differ, as the report has it (any JSON; nothing when
// the report lacks it), in the order a reader checks them: hardware, build,
// run settings, data. See kFingerprintFields in run_results.cc.
struct FingerprintField {
  const char* label;
  std::optional<nlohmann::json> value;
};

struct RunResults {
  std::string path;    // of the report.json file
  std::string status;  // "running", "completed", "diverged", "interrupted", "evaluated"
  std::string config_hash;
  // What "the same config" means for summarize, compare and plot: the hash
  // of the config without the seed and without the keys config_hash leaves
  // out (name, threads, kernels, ...: they cannot change a number). Runs
  // that differ only in those and the seed are runs of one config.
  std::string config_id;
  std::optional<std::string> config_name;
  std::optional<uint64_t> seed;
  std::optional<SweepPointResults> sweep;  // for a sweep's point
  std::vector<EpochResults> epochs;
  std::optional<TestResults> test;  // none until evaluated, and for diverged runs
  std::optional<TargetResults> target;
  std::optional<EarlyStoppingResults> early_stopping;
  // Training seconds, the one definition every command uses:
  // timing.training_seconds, from the first training step to the final
  // weights (data loading, setup and the test evaluation excluded); for
  // reports of older builds without it, the sum of the epochs' seconds (an
  // epoch without a number counts 0). NaN when timing has no number.
  double training_seconds = 0;
  double total_seconds = 0;  // wall time from before the data is read; NaN if missing
  std::string finished_at;   // ISO 8601 UTC; "" while running or when missing
  // machine.numerics_class, git_commit and git_dirty, for whether two runs
  // of one config should have given the same bits.
  std::optional<std::string> numerics_class;
  std::optional<std::string> git_commit;
  std::optional<bool> git_dirty;
  std::vector<FingerprintField> fingerprint;

  // Finished for good: "completed" or "diverged" (a diverged run is a
  // result); "running" and "interrupted" runs were cut off.
  bool IsFinished() const { return IsFinishedStatus(status); }
  // training_seconds per epoch; NaN without epochs.
  double SecondsPerEpoch() const;
  // The test accuracy, or NaN without one.
  double TestAccuracy() const;
};

// Reads the typed fields of one report; throws InputError naming the file
// and the field when one has the wrong type or a required one (status,
// config, config_hash, epochs) is missing.
RunResults ParseRunResults(const LoadedReport& report);
std::vector<RunResults> ParseRunResults(const std::vector<LoadedReport>& reports);

// RunResults::config_id of a resolved config. Throws nlohmann::json's
// exceptions on a config whose keys have impossible types.
std::string ConfigId(const nlohmann::json& config);

}  // namespace mb
