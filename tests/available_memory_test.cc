// Where the available-memory figure comes from, on a directory laid out
// like / with made-up cgroup and meminfo files, and on this machine.
#include "train/available_memory.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "temp_dir.h"

namespace mb {
namespace {

namespace fs = std::filesystem;

// Writes `text` to `relative` under `root`, creating its directories.
void Put(const TempDir& root, const std::string& relative, const std::string& text) {
  const fs::path path = root.path() / relative;
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

constexpr const char* kMeminfo =
    "MemTotal:       24000000 kB\n"
    "MemFree:        20000000 kB\n"
    "MemAvailable:       5000 kB\n";

TEST_CASE("Available memory is the smallest limit found", "[memory]") {
  // Each layout: the files under the root besides kMeminfo, the figure
  // found and the file it comes from.
  const struct {
    const char* name;
    std::vector<std::pair<std::string, std::string>> files;
    uint64_t bytes;
    std::string source_file;
  } layouts[] = {
      {"MemAvailable alone", {}, 5000 * 1024, "proc/meminfo"},
      {"the smallest cgroup v2 limit up the tree",
       {{"proc/self/cgroup", "0::/jobs/build\n"},
        {"sys/fs/cgroup/jobs/build/memory.max", "max\n"},
        {"sys/fs/cgroup/jobs/memory.max", "3000000\n"}},
       3000000,
       "sys/fs/cgroup/jobs/memory.max"},
      // A hybrid system: v2 holds no memory controller, v1's does.
      {"a cgroup v1 memory limit",
       {{"proc/self/cgroup", "4:cpu,memory:/api/run\n3:pids:/\n0::/\n"},
        {"sys/fs/cgroup/memory/api/run/memory.limit_in_bytes", "2000000\n"},
        {"sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n"}},
       2000000,
       "sys/fs/cgroup/memory/api/run/memory.limit_in_bytes"},
  };
  for (const auto& layout : layouts) {
    INFO(layout.name);
    TempDir root;
    Put(root, "proc/meminfo", kMeminfo);
    for (const auto& [relative, text] : layout.files) Put(root, relative, text);
    const AvailableMemory available = FindAvailableMemory(root.path().string(), nullptr);
    CHECK(available.bytes == layout.bytes);
    CHECK_THAT(available.source, Catch::Matchers::EndsWith(" " + root.File(layout.source_file)));
  }
}

TEST_CASE("Available memory: MB_MEMORY_LIMIT_BYTES only lowers it", "[memory]") {
  TempDir root;
  Put(root, "proc/meminfo", kMeminfo);
  const std::string dir = root.path().string();
  CHECK(FindAvailableMemory(dir, "1000").bytes == 1000);
  CHECK(FindAvailableMemory(dir, "1000").source == "MB_MEMORY_LIMIT_BYTES");
  CHECK(FindAvailableMemory(dir, "999999999999").bytes == 5000 * 1024);
  CHECK_THROWS_MATCHES(FindAvailableMemory(dir, "8G"), InputError,
                       Catch::Message("MB_MEMORY_LIMIT_BYTES: '8G' is not a number of bytes"));
  CHECK_THROWS_AS(FindAvailableMemory(dir, ""), InputError);
}

TEST_CASE("Available memory: nothing to go by means no limit", "[memory]") {
  TempDir root;
  const AvailableMemory available = FindAvailableMemory(root.path().string(), nullptr);
  CHECK(available.bytes == UINT64_MAX);
  CHECK(available.source.empty());
}

TEST_CASE("Available memory on this machine", "[memory]") {
  // Linux always has MemAvailable; any cgroup limit can only lower it.
  const AvailableMemory available = FindAvailableMemory("/", nullptr);
  CHECK(available.bytes > 0);
  CHECK(available.bytes < UINT64_MAX);
  CHECK_FALSE(available.source.empty());
}

}  // namespace
}  // namespace mb
