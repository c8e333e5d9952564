#include "train/resume.h"

#include <filesystem>

#include "common/error.h"
#include "config/config.h"
#include "report/atomic_temporaries.h"
#include "train/experiment.h"
#include "train/run_checkpoint.h"

namespace mb {

int ResumeRun(const std::string& run_dir, std::optional<int> threads) {
  namespace fs = std::filesystem;
  const std::string report_path = (fs::path(run_dir) / "report.json").string();
  if (!fs::is_directory(run_dir)) {
    throw InputError(run_dir + ": not a run directory (runner resume RUN_DIR)");
  }
  if (!fs::exists(report_path)) {
    throw InputError(report_path + ": missing: " + run_dir +
                     " is not a run directory, or its run was killed before it began");
  }
  const nlohmann::json report = ReadJsonFile(report_path);
  if (!report.is_object() || !report.contains("status") || !report["status"].is_string() ||
      !report.contains("config") || !report.contains("config_hash") ||
      !report["config_hash"].is_string()) {
    throw InputError(report_path + ": not a run report (status, config and config_hash needed)");
  }
  const std::string status = report["status"].get<std::string>();
  if (status != "running" && status != "interrupted") {
    throw InputError(report_path + ": status: the run is " + status + ": nothing to resume");
  }
  const std::string checkpoint = (fs::path(run_dir) / kCheckpointFile).string();
  if (!fs::exists(checkpoint)) {
    throw InputError(checkpoint + ": missing: the run was cut off before its first epoch "
                     "ended; run its config again");
  }
  nlohmann::json document = report["config"];
  if (threads) ApplyOverride(document, "threads=" + std::to_string(*threads));
  const Config config = ResolveConfig(document, report_path);
  if (config.hash != report["config_hash"].get<std::string>()) {
    throw InputError(report_path + ": config_hash: its config resolves to " + config.hash +
                     ", not the recorded " + report["config_hash"].get<std::string>() +
                     " (a report of another mnistbench version?)");
  }
  // What a kill during the last write left: this directory's temporaries.
  RemoveStaleTemporaries(run_dir);
  RunOptions options;
  options.out_dir = fs::path(run_dir).parent_path().string();
  options.resume_dir = run_dir;
  options.sweep = report.value("sweep", nlohmann::json());
  return RunExperiment(config, options).exit_code;
}

}  // namespace mb
