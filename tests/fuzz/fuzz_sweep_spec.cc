// libFuzzer target: a sweep spec's text through ReadJsonFile, ParseSweepSpec
// and ExpandSweep, as the runner reads one. InputError is the only
// acceptable failure; a valid spec must expand to the number of points its
// axes multiply to, with indices in order and every axis in every point.
#include <cstdint>
#include <string>

#include "common/error.h"
#include "config/config.h"
#include "fuzz_support.h"
#include "sweep/sweep_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mb::fuzz::Require;
  mb::fuzz::ReadInput(data, size, [](const std::string& path) {
    const nlohmann::json document = mb::ReadJsonFile(path);
    if (!mb::IsSweepSpec(document)) return;
    const mb::SweepSpec spec = mb::ParseSweepSpec(document, path);
    const std::vector<mb::SweepPoint> points = mb::ExpandSweep(spec);
    size_t expected = 1;
    for (const auto& [key, values] : spec.grid) expected *= values.size();
    if (spec.random_samples > 0) expected *= spec.random_samples;
    if (!spec.seeds.empty()) expected *= spec.seeds.size();
    Require(points.size() == expected, "point count is not the product of the axes");
    const size_t axes = spec.grid.size() + (spec.random_samples > 0 ? spec.random_space.size() : 0) +
                        (spec.seeds.empty() ? 0 : 1);
    for (size_t i = 0; i < points.size(); ++i) {
      Require(points[i].index == i, "point indices out of order");
      Require(points[i].varied.size() == axes, "a point lacks an axis");
      for (const auto& [key, value] : points[i].varied) {
        Require(!mb::OverrideText(key, value).empty(), "empty override");
      }
    }
  });
  return 0;
}
