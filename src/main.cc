// The runner's command line: parse the arguments, resolve the config, run it,
// and map every failure to its exit code with a one-line message on stderr.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "cli/command_line.h"
#include "common/error.h"
#include "config/config.h"
#include "sweep/compare.h"
#include "sweep/plots.h"
#include "sweep/shard.h"
#include "sweep/summary.h"
#include "sweep/sweep_runner.h"
#include "sweep/sweep_spec.h"
#include "train/experiment.h"

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

// `runner CONFIG|SWEEP ...`: one run, or every point of a sweep spec.
int Run(const mb::CommandLine& args) {
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
  mb::RunOptions options;
  options.out_dir = args.out_dir;
  return mb::RunExperiment(config, options);
}

}  // namespace

int main(int argc, char** argv) {
  BoundOpenMpWaits(argv);
  // Whole lines, written as they end: launchers collect the output of many
  // ranks into one pipe or file, where a block written mid-line would split
  // a line between ranks and stdout's lines would fall behind stderr's.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    const mb::CommandLine args = mb::ParseCommandLine(argc, argv);
    if (args.help) {
      std::fputs(mb::HelpText().c_str(), stdout);
      return mb::kExitOk;
    }
    switch (args.command) {
      case mb::Command::kRun: return Run(args);
      case mb::Command::kSummarize: return mb::RunSummarizeCommand(args.paths.front(), stdout);
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
