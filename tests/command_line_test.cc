// The runner's command line and its --help text.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "layer_configs.h"
#include "cli/command_line.h"
#include "common/error.h"
#include "config/config.h"

namespace {

// Parses `args` as if after the program name.
mb::CommandLine Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "runner");
  return mb::ParseCommandLine(static_cast<int>(args.size()), args.data());
}

// The InputError message of parsing `args` ("" if none).
std::string ParseError(const std::vector<const char*>& args) {
  try {
    Parse(args);
  } catch (const mb::InputError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a bare CONFIG gets the defaults", "[config]") {
  const mb::CommandLine command_line = Parse({"configs/baseline.json"});
  CHECK_FALSE(command_line.help);
  CHECK(command_line.config_path == "configs/baseline.json");
  CHECK(command_line.overrides.empty());
  CHECK_FALSE(command_line.threads.has_value());
  CHECK(command_line.out_dir == "results");
}

TEST_CASE("options take their value inline or as the next argument", "[config]") {
  const mb::CommandLine separate =
      Parse({"--set", "epochs=1", "c.json", "--threads", "4", "--out", "runs", "--set", "name=x"});
  CHECK(separate.config_path == "c.json");
  CHECK(separate.overrides == std::vector<std::string>{"epochs=1", "name=x"});
  CHECK(separate.threads == 4);
  CHECK(separate.out_dir == "runs");

  const mb::CommandLine inline_values =
      Parse({"c.json", "--set=optimizer.learning_rate=0.01", "--threads=1024", "--out=/tmp/r"});
  CHECK(inline_values.overrides == std::vector<std::string>{"optimizer.learning_rate=0.01"});
  CHECK(inline_values.threads == 1024);
  CHECK(inline_values.out_dir == "/tmp/r");
}

TEST_CASE("--help needs no CONFIG", "[config]") {
  CHECK(Parse({"--help"}).help);
  CHECK(Parse({"-h"}).help);
  CHECK(Parse({"c.json", "--help"}).help);
  CHECK(ParseError({"--help=yes"}) == "--help: takes no value");
}

TEST_CASE("evaluate takes a config and the run's options", "[config]") {
  const mb::CommandLine evaluate =
      Parse({"evaluate", "c.json", "--set", "init_from=m.safetensors", "--threads", "1"});
  CHECK(evaluate.command == mb::Command::kEvaluate);
  CHECK(evaluate.config_path == "c.json");
  CHECK(evaluate.overrides == std::vector<std::string>{"init_from=m.safetensors"});
  CHECK(evaluate.threads == 1);
  CHECK(ParseError({"evaluate", "c.json", "--shard", "0/2"}) ==
        "evaluate: --shard is for sweeps; evaluate takes one config");
}

TEST_CASE("summarize, compare and plot take paths", "[config]") {
  const mb::CommandLine summarize = Parse({"summarize", "results/w"});
  CHECK(summarize.command == mb::Command::kSummarize);
  CHECK(summarize.paths == std::vector<std::string>{"results/w"});
  const mb::CommandLine compare = Parse({"compare", "a", "b", "c"});
  CHECK(compare.command == mb::Command::kCompare);
  CHECK(compare.paths == std::vector<std::string>{"a", "b", "c"});
  CHECK(Parse({"plot", "d"}).command == mb::Command::kPlot);
  CHECK(Parse({"plot", "--help"}).help);
  CHECK_FALSE(summarize.all);
  CHECK(ParseError({"summarize"}) ==
        "summarize: expected one directory, got 0 (usage: runner summarize [--all] DIR)");
  CHECK(ParseError({"plot", "a", "b"}) == "plot: expected one directory, got 2 (usage: runner plot DIR)");
  CHECK(ParseError({"compare", "a"}) ==
        "compare: expected at least two reports or directories, got 1 (usage: runner compare A B "
        "[C ...])");
  CHECK(ParseError({"compare", "a", "b", "--threads", "2"}) ==
        "compare: unknown option '--threads' (usage: runner compare A B [C ...])");
  const mb::CommandLine all = Parse({"summarize", "--all", "results/w"});
  CHECK(all.all);
  CHECK(all.paths == std::vector<std::string>{"results/w"});
  CHECK(ParseError({"plot", "--all", "d"}) ==
        "plot: unknown option '--all' (usage: runner plot DIR)");
  CHECK(ParseError({"summarize", "--al", "d"}) ==
        "summarize: unknown option '--al' (usage: runner summarize [--all] DIR)");
  const mb::CommandLine run = Parse({"sweep.json", "--shard", "1/4"});
  CHECK(run.command == mb::Command::kRun);
  CHECK(run.shard == "1/4");
}

TEST_CASE("command line errors name the problem", "[config]") {
  CHECK(ParseError({}) ==
        "missing CONFIG: usage: runner CONFIG|SWEEP [--set key.path=value]... [--threads N] "
        "[--out DIR] [--shard K/N] (see runner --help)");
  CHECK(ParseError({"--set", "epochs=1"}) == ParseError({}));
  CHECK(ParseError({"a.json", "b.json"}) ==
        "unexpected argument 'b.json': CONFIG was already given as 'a.json'");
  CHECK(ParseError({"c.json", "--outt", "x"}) == "unknown option '--outt' (did you mean '--out'?)");
  CHECK(ParseError({"c.json", "--thread=2"}) ==
        "unknown option '--thread' (did you mean '--threads'?)");
  CHECK(ParseError({"c.json", "--verbose"}) == "unknown option '--verbose'");
}

TEST_CASE("options without their value are rejected", "[config]") {
  CHECK(ParseError({"c.json", "--set"}) == "--set: missing value, expected --set key.path=value");
  CHECK(ParseError({"c.json", "--set="}) == "--set: missing value, expected --set key.path=value");
  CHECK(ParseError({"c.json", "--out", "--set", "epochs=1"}) ==
        "--out: missing value, expected --out DIR");
  CHECK(ParseError({"c.json", "--out="}) == "--out: missing value, expected --out DIR");
  CHECK(ParseError({"c.json", "--threads"}) == "--threads: missing value, expected --threads N");
}

TEST_CASE("--threads must be an integer between 1 and 1024", "[config]") {
  for (const char* bad : {"0", "1025", "x", "-1", "2.5", "+4", "99999999999"}) {
    CAPTURE(bad);
    CHECK(ParseError({"c.json", "--threads", bad}) ==
          std::string("--threads: expected an integer between 1 and 1024, got '") + bad + "'");
  }
  CHECK(Parse({"c.json", "--threads", "1"}).threads == 1);
}

TEST_CASE("--help documents every config key, the outputs and the exit codes", "[config]") {
  const std::string help = mb::HelpText();
  const auto mentions = [&help](const std::string& word) {
    return help.find(word) != std::string::npos;
  };
  const nlohmann::json resolved = mb::ResolveConfig(nlohmann::json::object(), "x.json").resolved;
  for (const auto& item : resolved.items()) {
    CAPTURE(item.key());
    CHECK(mentions("\n  " + item.key() + " "));
  }
  for (const auto& item : resolved["data"].items()) CHECK(mentions("data." + item.key()));
  for (const auto& item : resolved["kernels"].items()) CHECK(mentions("kernels." + item.key()));
  const nlohmann::json layers =
      mb::ResolveConfig({{"model", mb::test::EveryLayerTypeJson()}}, "x.json").resolved["model"];
  for (const auto& layer : layers) {
    for (const auto& item : layer.items()) {
      CAPTURE(item.key());
      CHECK(mentions("model.N." + item.key()));
    }
    CHECK(mentions(layer["type"].get<std::string>()));
  }
  for (const char* optimizer :
       {"sgd", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax", "nadam", "lion"}) {
    const nlohmann::json parameters =
        mb::ResolveConfig({{"optimizer", optimizer}}, "x.json").resolved["optimizer"];
    for (const auto& item : parameters.items()) {
      CAPTURE(optimizer, item.key());
      CHECK(mentions(item.key()));
    }
  }
  CHECK(mentions("--set optimizer.learning_rate=0.01 --set epochs=1"));
  CHECK(mentions("runner summarize [--all] DIR"));
  for (const char* output :
       {"report.json", "epochs.csv", "model.safetensors", "<out>/<name>-<timestamp>-<hash8>/"}) {
    CHECK(mentions(output));
  }
  for (int code : {mb::kExitOk, mb::kExitInternalError, mb::kExitInputError, mb::kExitDiverged,
                   mb::kExitOutputError, mb::kExitInterrupted}) {
    CHECK(mentions("\n  " + std::to_string(code) + " "));
  }
}
