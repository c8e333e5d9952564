// `runner resume RUN_DIR`: continues a run that was killed, powered off or
// interrupted from the checkpoint its directory holds (run_checkpoint.h),
// in the same directory, with the config its report.json records.
#pragma once

#include <optional>
#include <string>

namespace mb {

// Throws InputError with a one-line message naming the file when RUN_DIR
// holds no report.json, its run is finished (completed, diverged,
// evaluated), it has no checkpoint (it was cut off in its first epoch: run
// it again), or its config or checkpoint does not match the run. `threads`
// overrides the config's (it changes no number). Returns the run's exit
// code (train/experiment.h).
int ResumeRun(const std::string& run_dir, std::optional<int> threads);

}  // namespace mb
