// One run of a resolved config from start to finish: read the data, build or
// load the model, train with per-epoch reports, evaluate on the test set,
// predict, save. Everything the user can get wrong is checked before the run
// directory is created, so a bad input leaves nothing behind.
#pragma once

#include <string>

#include "config/config.h"

namespace mb {

// Returns the process exit code (kExitOk or kExitDiverged). Throws
// InputError for bad inputs and OutputError when results cannot be written.
int RunExperiment(const Config& config, const std::string& out_dir);

}  // namespace mb
