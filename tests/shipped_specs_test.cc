// The configs and sweep specs the repository ships: each resolves as a run
// would (a spec's every point), so an edit to a base config that breaks a
// spec built on it, or a stale key, fails here rather than in a user's run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "sweep/sweep_runner.h"
#include "sweep/sweep_spec.h"

namespace mb {
namespace {

std::vector<std::string> JsonFilesIn(const std::string& dir) {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST_CASE("Every config in configs/ resolves", "[shipped]") {
  const std::vector<std::string> paths = JsonFilesIn("configs");
  CHECK(paths.size() >= 4);
  for (const std::string& path : paths) {
    CAPTURE(path);
    CHECK_FALSE(IsSweepSpec(ReadJsonFile(path)));
    CHECK_NOTHROW(LoadConfig(path, {}));
  }
}

TEST_CASE("Every sweep spec in experiments/ resolves every point", "[shipped]") {
  const std::vector<std::string> paths = JsonFilesIn("experiments");
  CHECK(paths.size() >= 10);
  for (const std::string& path : paths) {
    CAPTURE(path);
    const auto document = ReadJsonFile(path);
    REQUIRE(IsSweepSpec(document));
    const SweepSpec spec = ParseSweepSpec(document, path);
    std::vector<ResolvedPoint> points;
    CHECK_NOTHROW(points = ResolvePoints(spec, SweepOptions()));
    CHECK(points.size() == ExpandSweep(spec).size());
  }
}

}  // namespace
}  // namespace mb
