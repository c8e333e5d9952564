// RunSweep (sweep/sweep_runner.h) after a signal: a SIGTERM that arrives
// between two runs (scancel or a requeue as a point ends) stops the sweep
// before it claims another point, and the lines it prints carry the rank.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/error.h"
#include "sweep/sweep_runner.h"
#include "temp_dir.h"
#include "train/interrupt.h"

namespace mb {
namespace {

namespace fs = std::filesystem;

TEST_CASE("A sweep signalled between points claims no further point", "[sweep]") {
  TempDir dir;
  const nlohmann::json document = {{"name", "two"},
                                   {"base", "configs/tiny.json"},
                                   {"set", {{"predict", 0}}},
                                   {"seeds", {1, 2}}};
  const std::string err = dir.File("stderr");
  // In a child: the handlers and the flag they set stay with it.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 1;
    if (std::freopen("/dev/null", "w", stdout) && std::freopen(err.c_str(), "w", stderr)) {
      try {
        SetInterruptLinePrefix("[PMI_RANK=1] ");
        InstallInterruptHandlers("interrupted before the sweep started");
        // As during a run's last step: the signal asks for a stop.
        StopCleanlyOnInterrupt("stopping after this step");
        raise(SIGTERM);
        SweepOptions options;
        options.out_dir = dir.File("out");
        options.launcher_rank = "PMI_RANK=1";
        code = RunSweep(ParseSweepSpec(document, "two.json"), options) == kExitInterrupted ? 0 : 1;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
      }
    }
    std::fflush(nullptr);
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  INFO(ReadFile(err));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(ReadFile(err) ==
        "[PMI_RANK=1] interrupt: stopping after this step (interrupt again to exit at once)\n"
        "[PMI_RANK=1] two.json: sweep interrupted; 2 of 2 points left (1-2): run the same "
        "command again to resume\n");
  // sweep.json only: no run directory, no claim.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.File("out") + "/two")) {
    names.push_back(entry.path().filename().string());
  }
  CHECK(names == std::vector<std::string>{"sweep.json"});
}

}  // namespace
}  // namespace mb
