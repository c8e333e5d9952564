// Sweep specs (experiments/*.json): a base config and the axes to vary by key
// path, expanded into the list of points to run.
//
//   {"name": "width_sweep",
//    "base": "configs/baseline.json",        relative to the current directory
//    "set": {"epochs": 3},                    fixed overrides for every point
//    "grid": {"model.0.units": [128, 256]},   every combination of the values
//    "random": {"samples": 20, "seed": 1,     points drawn from distributions
//               "space": {"optimizer.learning_rate": {"log_uniform": [1e-4, 1e-2]}}},
//    "seeds": [1, 2, 3],                      repeats of every point
//    "metric": "test_accuracy",               what the summary sorts by
//    "accuracy_threshold": 0.99}              the summary counts the runs at or above it
//
// Points are the product grid x random samples x seeds, in that order with
// the seed varying fastest (so consecutive indices, which --shard spreads
// over machines, are repeats of one point).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mb {

// What a sweep's summary sorts by; each has its better direction.
enum class SweepMetric { kTestAccuracy, kFinalLoss, kSecondsPerEpoch, kTimeToTarget };

struct SweepSpec {
  std::string path;  // of the spec file, for messages
  std::string name;  // [A-Za-z0-9._-]+, names the sweep's directory
  std::string base;  // the base config's path
  // Overrides in the order they apply: "set", then (per point) the axes.
  std::vector<std::pair<std::string, nlohmann::json>> set;
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;  // in file order
  uint64_t random_samples = 0;
  uint64_t random_seed = 1;
  nlohmann::json random_space = nlohmann::json::object();  // key path -> distribution
  std::vector<uint64_t> seeds;  // empty: the base config's seed
  SweepMetric metric = SweepMetric::kTestAccuracy;
  // With a value in (0, 1]: the summary's share of runs whose test accuracy
  // is at least this.
  std::optional<double> accuracy_threshold;
  nlohmann::json document;  // the spec as read, recorded in sweep.json
};

struct SweepPoint {
  size_t index = 0;  // 0-based position in the expansion
  // The varied values of this point, key path -> value, in axis order
  // (grid, random, then "seed").
  std::vector<std::pair<std::string, nlohmann::json>> varied;
};

// Whether a parsed JSON document is a sweep spec rather than a config: a
// spec has a "base" key, which a config cannot have.
bool IsSweepSpec(const nlohmann::json& document);

// Validates a parsed spec; `path` names it in errors. Throws InputError with a
// one-line message "<path>: <key.path>: <problem>". Axis key paths are checked
// when the points' configs are resolved (an unknown key is reported there).
SweepSpec ParseSweepSpec(const nlohmann::json& document, const std::string& path);

// Every point of the sweep, in index order. Random values are drawn from
// mb::Rng(random_seed), so the same spec always gives the same points.
std::vector<SweepPoint> ExpandSweep(const SweepSpec& spec);

// "key.path=<value as JSON>", as --set and mb::ApplyOverride take it.
std::string OverrideText(const std::string& key, const nlohmann::json& value);

const char* MetricName(SweepMetric metric);
// The metric named `name`; throws InputError naming `source` otherwise.
SweepMetric ParseMetric(const std::string& name, const std::string& source);

}  // namespace mb
