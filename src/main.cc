// The runner's command line: parse the arguments, resolve the config, run it,
// and map every failure to its exit code with a one-line message on stderr.
#include <cstdio>
#include <exception>
#include <string>

#include "cli/command_line.h"
#include "common/error.h"
#include "config/config.h"
#include "train/experiment.h"

int main(int argc, char** argv) {
  try {
    const mb::CommandLine args = mb::ParseCommandLine(argc, argv);
    if (args.help) {
      std::fputs(mb::HelpText().c_str(), stdout);
      return mb::kExitOk;
    }
    std::vector<std::string> overrides = args.overrides;
    if (args.threads) overrides.push_back("threads=" + std::to_string(*args.threads));
    const mb::Config config = mb::LoadConfig(args.config_path, overrides);
    return mb::RunExperiment(config, args.out_dir);
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
