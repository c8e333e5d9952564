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
  // Starts every line the run prints, on stdout and stderr: the launcher's
  // rank of a sweep process ("[SLURM_ARRAY_TASK_ID=3] "), "" for none.
  std::string line_prefix;
};

// Returns the process exit code (kExitOk, kExitDiverged or
// kExitInterrupted). Throws InputError for bad inputs and OutputError when
// results cannot be written.
int RunExperiment(const Config& config, const RunOptions& options);

}  // namespace mb
