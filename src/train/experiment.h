// One run of a resolved config from start to finish: read the data, build or
// load the model, train with per-epoch reports, evaluate on the test set,
// predict, save. Everything the user can get wrong is checked before the run
// directory is created, so a bad input leaves nothing behind.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace mb {

struct RunOptions {
  std::string out_dir = "results";  // where the run directory is created
  // The run directory's name under out_dir; "" for
  // <name>-<UTC timestamp>-<hash8> (RunDirectoryName).
  std::string run_dir_name;
  // report.json's "sweep" object for a sweep point; null for a single run.
  nlohmann::json sweep;
  // The line an interrupt prints while the data loads, when it ends the
  // process at once (train/interrupt.h); "" for "<name>: interrupted while
  // loading data; nothing written". A sweep says which points are left.
  std::string interrupted_while_loading;
  // Starts every line the run prints, on stdout and stderr: the launcher's
  // rank of a sweep process ("[SLURM_ARRAY_TASK_ID=3] "), "" for none.
  std::string line_prefix;
  // `runner evaluate`: no training; the test set is evaluated with the
  // config's init_from weights, and the report's status is "evaluated".
  bool evaluate_only = false;
  // `runner resume` (train/resume.h): the run directory to continue from
  // its checkpoint (train/run_checkpoint.h), which must be of `config`'s
  // config_hash; "" to start a new run.
  std::string resume_dir;
};

struct RunResult {
  int exit_code = 0;  // kExitOk, kExitDiverged or kExitInterrupted
  // The report is final: "completed" or "diverged", not to be run again.
  bool finished = false;
};

// After every epoch the run directory holds a checkpoint
// (train/run_checkpoint.h) to resume from; a run that ends completed or
// diverged removes it, since nothing is left to resume.
// Interrupts (train/interrupt.h): while the data loads, one ends the
// process at once; during training the run stops after the current step
// with status "interrupted"; after the last training step the run still
// evaluates, predicts and saves, ends "completed", and returns
// kExitInterrupted all the same. On return, interrupts end the process at
// once until the caller says otherwise.
// Throws InputError for bad inputs and OutputError when results cannot be
// written.
RunResult RunExperiment(const Config& config, const RunOptions& options);

}  // namespace mb
