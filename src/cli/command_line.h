// The runner's command line: `runner CONFIG [--set key.path=value]...
// [--threads N] [--out DIR]` and `runner --help`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mb {

struct CommandLine {
  bool help = false;
  std::string config_path;
  std::vector<std::string> overrides;  // "key.path=value", in order given
  std::optional<int> threads;          // --threads overrides the config's
  std::string out_dir = "results";
};

// argv[0] is the program name. Accepts both "--set k=v" and "--set=k=v"
// (likewise --threads, --out). Throws InputError with a one-line message
// ("--threads: expected an integer between 1 and 1024, got 'x'") on an
// unknown option, a missing or bad value, a missing or second CONFIG; with
// --help, CONFIG may be omitted. --set values are checked by ApplyOverride.
CommandLine ParseCommandLine(int argc, const char* const* argv);

// The text `runner --help` prints: usage, options, the config keys with
// their defaults, and the exit codes.
std::string HelpText();

}  // namespace mb
