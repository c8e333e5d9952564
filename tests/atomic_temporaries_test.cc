// The temporaries of atomic writes name their writer, and those whose
// writer was killed are removed while those being written are kept.
#include "report/atomic_temporaries.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "report/atomic_file.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using mb::TempDir;

namespace {

// The pid of a child that has exited and been reaped: a process that no
// longer runs (pids are not reused that soon).
pid_t DeadPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

// A temporary of `target` as this host's process `pid` would name it.
std::string TemporaryOf(const std::string& target, pid_t pid) {
  std::string name = mb::AtomicTemporaryTemplate(target);
  const std::string own = "." + std::to_string(getpid()) + ".XXXXXX";
  REQUIRE(name.size() > own.size());
  REQUIRE(name.compare(name.size() - own.size(), own.size(), own) == 0);
  name.resize(name.size() - own.size());
  return name + "." + std::to_string(pid) + ".a1B2c3";
}

std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("A temporary's name says which process of which host writes it", "[report]") {
  const std::string name =
      fs::path(mb::AtomicTemporaryTemplate("/x/report.json")).filename().string();
  CHECK_THAT(name, Catch::StartsWith("report.json.tmp.") &&
                       Catch::EndsWith("." + std::to_string(getpid()) + ".XXXXXX"));
  const auto writer = mb::TemporaryWriterOf(name);
  REQUIRE(writer);
  CHECK(writer->pid == getpid());
  CHECK(writer->host.find('.') == std::string::npos);

  const auto other = mb::TemporaryWriterOf("model.v2.safetensors.tmp.node-7.123.Ab3dE9");
  REQUIRE(other);
  CHECK(other->host == "node-7");
  CHECK(other->pid == 123);
  for (const char* not_ours :
       {"report.json", "report.json.tmp.Ab3dE9", ".tmp.host.123.Ab3dE9", "a.tmp..123.Ab3dE9",
        "a.tmp.host.0.Ab3dE9", "a.tmp.host.12x.Ab3dE9", "a.tmp.host.123.Ab3dE", "a.tmp.123.Ab3dE9",
        "a.tmp.host.1234567890.Ab3dE9"}) {
    CAPTURE(not_ours);
    CHECK_FALSE(mb::TemporaryWriterOf(not_ours));
  }
}

TEST_CASE("Temporaries of dead processes of this host are removed, others kept", "[report]") {
  TempDir dir;
  const fs::path run = dir.path() / "tiny-20261129T040613-2b80f3c3";
  fs::create_directories(run);
  mb::WriteFileAtomic((run / "report.json").string(), "{}");
  const pid_t dead = DeadPid();
  const std::string stale = TemporaryOf((run / "report.json").string(), dead);
  const std::string stale_top = TemporaryOf(dir.File("summary.json"), dead);
  const std::string live = TemporaryOf((run / "epochs.csv").string(), getpid());
  const std::string other_host = (run / "model.safetensors.tmp.elsewhere.1.Ab3dE9").string();
  const std::string unnamed = (run / "report.json.tmp.Ab3dE9").string();  // an older build's
  for (const std::string& path : {stale, stale_top, live, other_host, unnamed}) {
    mb::WriteFileAtomic(path, "partial");
  }

  std::vector<std::string> removed = mb::RemoveStaleTemporariesOfRuns(dir.path().string());
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expected = {stale, stale_top};
  std::sort(expected.begin(), expected.end());
  CHECK(removed == expected);
  CHECK_FALSE(fs::exists(stale));
  CHECK_FALSE(fs::exists(stale_top));
  std::vector<std::string> kept = {fs::path(live).filename().string(),
                                   "model.safetensors.tmp.elsewhere.1.Ab3dE9", "report.json",
                                   "report.json.tmp.Ab3dE9"};
  std::sort(kept.begin(), kept.end());
  CHECK(Names(run) == kept);
  // Nothing more to do, and a missing directory is no error.
  CHECK(mb::RemoveStaleTemporariesOfRuns(dir.path().string()).empty());
  CHECK(mb::RemoveStaleTemporariesOfRuns(dir.File("missing")).empty());
}
