// The runner's command line:
//   runner CONFIG|SWEEP [--set key.path=value]... [--threads N] [--out DIR] [--shard K/N]
//   runner evaluate CONFIG --set init_from=MODEL [--set ...] [--threads N] [--out DIR]
//   runner resume RUN_DIR [--threads N]
//   runner summarize [--all] DIR | runner compare A B [C ...] | runner plot DIR
//   runner --help
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mb {

enum class Command { kRun, kEvaluate, kResume, kSummarize, kCompare, kPlot };

struct CommandLine {
  bool help = false;
  Command command = Command::kRun;
  std::string config_path;          // kRun: a config or a sweep spec; kEvaluate: a config
  std::vector<std::string> paths;   // the other commands' arguments
  bool all = false;                 // summarize --all: runs not in the current spec too
  std::string shard;                // --shard K/N as given ("" when not)
  std::vector<std::string> overrides;  // "key.path=value", in order given
  std::optional<int> threads;          // --threads overrides the config's
  std::string out_dir = "results";
};

// argv[0] is the program name. Accepts both "--set k=v" and "--set=k=v"
// (likewise --threads, --out, --shard). A first argument evaluate takes the
// run's CONFIG and options but --shard. A first argument resume, summarize,
// compare or plot names that command; its arguments are paths (one DIR, or
// at least two for compare) and it takes no options but --help (and
// summarize's --all, resume's --threads). Throws InputError with a one-line message ("--threads: expected an
// integer between 1 and 1024, got 'x'") on an unknown option, a missing or
// bad value, a missing or second CONFIG, wrong arguments of a command; with
// --help, CONFIG may be omitted. --set values are checked by ApplyOverride, --shard by ParseShard.
CommandLine ParseCommandLine(int argc, const char* const* argv);

// The text `runner --help` prints: usage, options, the config keys with
// their defaults, and the exit codes.
std::string HelpText();

}  // namespace mb
