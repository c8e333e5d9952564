// The results of one run and the files that hold them: report.json and
// epochs.csv in the run directory (model.safetensors is written by the
// trainer's caller through safetensors.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mb {

struct EpochRecord {
  int epoch = 0;  // 1-based
  size_t steps = 0;  // training steps taken (fewer than an epoch's when stopped at a target)
  double loss = 0, accuracy = 0;
  std::optional<double> val_loss, val_accuracy;
  double seconds = 0;             // wall time of the epoch's training steps
  double samples_per_second = 0;  // training samples / seconds
  // The rate the next step would use, as Keras' History logs it: a
  // schedule's value at the steps taken so far (or the constant rate).
  double learning_rate = 0;
};

struct Prediction {
  int index = 0;  // position in the test set
  int label = 0;
  int predicted = 0;
  float probability = 0;             // of the predicted class
  std::vector<float> probabilities;  // all classes
};

// Time to accuracy (config.target_accuracy), as MLPerf times it: seconds
// from before the data was first read to the evaluation that reached it.
struct TargetRecord {
  double accuracy = 0;     // the target
  std::string set;         // "validation" or "test"
  uint64_t every_steps = 0;  // 0: checked after every epoch
  bool reached = false;
  std::optional<double> seconds;           // when reached
  std::optional<int> epoch;                // in which it was reached
  std::optional<size_t> step;              // training steps taken by then
  std::optional<double> reached_accuracy;  // the accuracy that reached it
};

// The report.json format this build writes, and the only one summarize,
// compare and plot read (report/report_reader.h): a report of another
// version may mean other things by the same fields.
inline constexpr int kReportSchemaVersion = 1;

// Where a run's wall time went, in seconds, summed over the processes
// that ran it (a resumed run adds each one's).
struct RunTiming {
  // Reading, checking and decoding the data files into memory.
  double load_seconds = 0;
  // From the data in memory to the first training step: the model built and
  // initialised, the trainer's buffers, the run directory.
  double setup_seconds = 0;
  // From the first training step to the final weights, everything between
  // counted: validation, target checks, the per-epoch report and checkpoint,
  // the best weights restored. The number every command calls "training
  // seconds".
  double training_seconds = 0;
  // The test set's evaluation and the predictions.
  double test_seconds = 0;
};

struct RunReport {
  std::string status = "running";  // running | completed | diverged | interrupted
  nlohmann::json config;           // resolved
  std::string config_hash;
  nlohmann::json machine;
  nlohmann::json dataset;
  nlohmann::json training;  // kernel choices etc.: filled by the trainer
  std::vector<EpochRecord> epochs;
  std::optional<double> test_loss, test_accuracy;
  // The test set's counts: correct predictions of how many, and the
  // confusion matrix [true label][predicted], row-major (empty: not
  // evaluated). report.json adds the accuracy's Wilson 95% interval and
  // each class's accuracy.
  uint64_t test_correct = 0, test_samples = 0;
  size_t classes = 0;
  std::vector<uint64_t> test_confusion;
  std::vector<Prediction> predictions;
  std::optional<int> diverged_epoch;
  // With config.early_stopping: {"stopped_epoch" (1-based; null when it
  // did not stop the run), "best_epoch" (1-based; null before any epoch
  // counted), "restored_best_weights"}.
  std::optional<nlohmann::json> early_stopping;
  std::optional<TargetRecord> target;  // with config.target_accuracy
  // For a sweep point: {"name", "spec", "index", "point_id", "varied"}
  // (sweep/sweep_runner.h); null otherwise.
  nlohmann::json sweep;
  RunTiming timing;
  double total_seconds = 0;
  std::string started_at, finished_at;  // ISO 8601 UTC
  std::optional<long> peak_rss_bytes;
  // The memory the run was estimated to need and what was available
  // (train/memory_budget.h); null until the estimate is made.
  nlohmann::json memory;
  // Each time `runner resume` continued the run: {"at" (UTC), "after_epoch",
  // "host"}; absent from report.json when it never was.
  nlohmann::json resumed = nlohmann::json::array();

  // report.json's contents (schema_version kReportSchemaVersion). Optional
  // values that are not set are null or, for val_*, diverged_epoch, target
  // and sweep, absent. NaN and infinity, which JSON cannot hold, become null.
  nlohmann::json ToJson() const;
};

// The report a run had written as of a checkpoint (run_checkpoint.h), for
// `runner resume`: every field ToJson writes before the test evaluation,
// read back exactly (its numbers round-trip). Throws InputError naming
// `source` and the field when one is missing or malformed.
RunReport RunReportFromJson(const nlohmann::json& json, const std::string& source);

// "2026-11-28T15:16:06Z"
std::string UtcTimestamp();

// The run directory's name: <name>-<UTC yyyymmddThhmmss>-<hash[0:8]>, with
// `started_at` as UtcTimestamp() returns it (std::invalid_argument otherwise).
std::string RunDirectoryName(const std::string& name, const std::string& config_hash,
                             const std::string& started_at);

// Writes report.json (2-space indent) and epochs.csv into the existing
// directory `run_dir`, each atomically. Throws OutputError.
void WriteRunFiles(const std::string& run_dir, const RunReport& report);

// Creates `out_dir` if missing and in it the run directory <out_dir>/<name>,
// or <name>-2, -3, ... if a run started in the same second already took it
// (a run never writes into another's directory), writes `report`'s first
// run files there and returns the directory's path. Throws OutputError; a
// run directory whose first files cannot be written is removed again, so a
// failed start leaves nothing behind.
std::string StartRunDirectory(const std::string& out_dir, const std::string& name,
                              const RunReport& report);

// epochs.csv: epoch,loss,accuracy,val_loss,val_accuracy,seconds,samples_per_second
// with empty fields for absent val_* values. Numbers are written in the
// shortest form that reads back as the same double ("0.1", not
// "0.10000000000000001"), independent of the locale.
std::string EpochsCsv(const std::vector<EpochRecord>& epochs);

// The process's peak resident set size (VmHWM in /proc/self/status), or
// nothing where that is not available.
std::optional<long> PeakRssBytes();
// Its resident set size now (VmRSS).
std::optional<long> ResidentBytes();

}  // namespace mb
