// The runner's command line: parse the arguments, resolve the config, run it,
// and map every failure to its exit code with a one-line message on stderr.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "cli/command_line.h"
#include "common/error.h"
#include "config/config.h"
#include "report/atomic_temporaries.h"
#include "sweep/compare.h"
#include "sweep/plots.h"
#include "sweep/shard.h"
#include "sweep/summary.h"
#include "sweep/sweep_runner.h"
#include "sweep/sweep_spec.h"
#include "train/experiment.h"
#include "train/interrupt.h"
#include "train/resume.h"

namespace {

// libgomp reads its wait policy once, when it loads, so the runner sets a
// bounded spin and starts itself again unless the user chose a policy.
// Workers spin this many iterations (tens of microseconds: enough to bridge
// the gap between the parallel regions of one training step) before
// sleeping, so a team whose core is briefly taken away by another process
// does not burn the remaining core spinning at every barrier.
constexpr const char* kSpinCount = "100000";

void BoundOpenMpWaits(char** argv) {
  if (std::getenv("GOMP_SPINCOUNT") != nullptr || std::getenv("OMP_WAIT_POLICY") != nullptr) {
    return;
  }
  setenv("GOMP_SPINCOUNT", kSpinCount, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: run as we are
}

// stdout only shows what the runner does; its results are files. So a
// reader that goes away (`runner ... | head -1`) must not kill it with
// SIGPIPE: writes to stdout fail instead (train/lost_stdout.h). Lines go
// out whole and at once, even into a pipe, so that a process ended by an
// interrupt (train/interrupt.h) has shown everything it printed, and so
// that launchers collecting many ranks into one pipe or file never split a
// line between ranks, nor let stdout's lines fall behind stderr's.
void PrepareStdout() {
  signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
}

// `runner CONFIG|SWEEP ...`: one run, or every point of a sweep spec.
int Run(const mb::CommandLine& args) {
  mb::InstallInterruptHandlers("interrupted while reading the config; nothing written");
  std::vector<std::string> overrides = args.overrides;
  if (args.threads) overrides.push_back("threads=" + std::to_string(*args.threads));
  const nlohmann::json document = mb::ReadJsonFile(args.config_path);
  if (mb::IsSweepSpec(document)) {
    mb::SweepOptions options;
    options.out_dir = args.out_dir;
    options.overrides = overrides;
    if (!args.shard.empty()) options.shard = mb::ParseShard(args.shard);
    options.launcher_rank = mb::LauncherRank([](const char* name) { return std::getenv(name); });
    return mb::RunSweep(mb::ParseSweepSpec(document, args.config_path), options);
  }
  if (!args.shard.empty()) {
    throw mb::InputError("--shard: " + args.config_path +
                         " is a config, not a sweep spec (a spec has a \"base\" key)");
  }
  const mb::Config config = mb::LoadConfig(args.config_path, overrides);
  // A single run's directory is never written again, so what a killed run
  // left half-written there is removed by the next run into the same place.
  const std::vector<std::string> removed = mb::RemoveStaleTemporariesOfRuns(args.out_dir);
  if (!removed.empty()) {
    std::printf("Removed %zu temporary files left by killed runs under %s\n", removed.size(),
                args.out_dir.c_str());
  }
  mb::RunOptions options;
  options.out_dir = args.out_dir;
  return mb::RunExperiment(config, options).exit_code;
}

// `runner evaluate CONFIG --set init_from=MODEL`: saved weights on the
// test set, without training.
int Evaluate(const mb::CommandLine& args) {
  mb::InstallInterruptHandlers("interrupted while reading the config; nothing written");
  std::vector<std::string> overrides = args.overrides;
  if (args.threads) overrides.push_back("threads=" + std::to_string(*args.threads));
  const mb::Config config = mb::LoadConfig(args.config_path, overrides);
  if (config.init_from.empty()) {
    throw mb::InputError(args.config_path +
                         ": init_from: evaluate needs the weights to test (--set "
                         "init_from=results/RUN/model.safetensors)");
  }
  mb::RunOptions options;
  options.out_dir = args.out_dir;
  options.evaluate_only = true;
  return mb::RunExperiment(config, options).exit_code;
}

// `runner resume RUN_DIR`: a cut-off run continued from its checkpoint.
int Resume(const mb::CommandLine& args) {
  mb::InstallInterruptHandlers("interrupted while reading the run; nothing written");
  return mb::ResumeRun(args.paths.front(), args.threads);
}

}  // namespace

int main(int argc, char** argv) {
  BoundOpenMpWaits(argv);
  PrepareStdout();
  try {
    const mb::CommandLine args = mb::ParseCommandLine(argc, argv);
    if (args.help) {
      std::fputs(mb::HelpText().c_str(), stdout);
      return mb::kExitOk;
    }
    switch (args.command) {
      case mb::Command::kRun: return Run(args);
      case mb::Command::kEvaluate: return Evaluate(args);
      case mb::Command::kResume: return Resume(args);
      case mb::Command::kSummarize:
        return mb::RunSummarizeCommand(
            args.paths.front(), stdout,
            args.all ? mb::SummaryScope::kAllRuns : mb::SummaryScope::kCurrentSpec);
      case mb::Command::kCompare: return mb::RunCompareCommand(args.paths, stdout);
      case mb::Command::kPlot: return mb::RunPlotCommand(args.paths.front(), stdout);
    }
    return mb::kExitInternalError;
  } catch (const mb::InputError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return mb::kExitInputError;
  } catch (const mb::OutputError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return mb::kExitOutputError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return mb::kExitInternalError;
  }
}
