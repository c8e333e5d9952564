#include "sweep/sweep_spec.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "common/error.h"
#include "common/rng.h"
#include "config/suggest.h"

namespace mb {
namespace {

using json = nlohmann::json;

// More points than anyone runs on one harness: a typo such as a grid of
// 10^4 x 10^4 values fails at once instead of listing 10^8 points.
constexpr uint64_t kMaxPoints = 100000;
// The stream of the random search, apart from every other use of the seed.
constexpr uint64_t kRandomSearchStream = 0x3000;

struct NamedMetric {
  const char* name;
  SweepMetric metric;
};
constexpr NamedMetric kMetrics[] = {
    {"test_accuracy", SweepMetric::kTestAccuracy},
    {"final_loss", SweepMetric::kFinalLoss},
    {"seconds_per_epoch", SweepMetric::kSecondsPerEpoch},
    {"time_to_target", SweepMetric::kTimeToTarget},
};

const char* kKnownKeys[] = {"name",  "base",   "set",   "grid",
                            "random", "seeds", "metric", "accuracy_threshold"};
const char* kDistributions[] = {"uniform", "log_uniform", "int_uniform", "choice"};

[[noreturn]] void Fail(const std::string& path, const std::string& key, const std::string& problem) {
  throw InputError(path + ": " + key + ": " + problem);
}

std::string Describe(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return std::string(value.type_name()) + " " + text;
}

bool IsName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A key path as --set takes it: non-empty parts separated by dots.
void CheckKeyPath(const std::string& path, const std::string& where, const std::string& key) {
  bool empty_part = key.empty() || key.front() == '.' || key.back() == '.' ||
                    key.find("..") != std::string::npos;
  if (empty_part || key.find('=') != std::string::npos) {
    Fail(path, where, "'" + key + "' is not a key path such as model.0.units");
  }
}

// The two bounds [lo, hi] of a distribution, lo < hi.
std::pair<double, double> Bounds(const std::string& path, const std::string& where,
                                 const json& value) {
  if (!value.is_array() || value.size() != 2 || !value[0].is_number() || !value[1].is_number()) {
    Fail(path, where, "expected [low, high], got " + Describe(value));
  }
  const double lo = value[0].get<double>(), hi = value[1].get<double>();
  if (!(lo < hi)) Fail(path, where, "low must be less than high, got " + value.dump());
  return {lo, hi};
}

void CheckDistribution(const std::string& path, const std::string& where, const json& value) {
  if (!value.is_object() || value.size() != 1) {
    Fail(path, where,
         "expected one distribution, e.g. {\"log_uniform\": [1e-4, 1e-2]}, got " +
             Describe(value));
  }
  const std::string kind = value.begin().key();
  const json& arguments = value.begin().value();
  const std::string at = where + "." + kind;
  if (kind == "choice") {
    if (!arguments.is_array() || arguments.empty()) {
      Fail(path, at, "expected a non-empty array, got " + Describe(arguments));
    }
  } else if (kind == "uniform") {
    Bounds(path, at, arguments);
  } else if (kind == "log_uniform") {
    if (Bounds(path, at, arguments).first <= 0) Fail(path, at, "bounds must be > 0");
  } else if (kind == "int_uniform") {
    Bounds(path, at, arguments);
    if (!arguments[0].is_number_integer() || !arguments[1].is_number_integer()) {
      Fail(path, at, "bounds must be integers, got " + arguments.dump());
    }
  } else {
    const std::vector<std::string> names(std::begin(kDistributions), std::end(kDistributions));
    Fail(path, where, "unknown distribution '" + kind + "'" + DidYouMean(kind, names) +
                          " (one of uniform, log_uniform, int_uniform, choice)");
  }
}

// JSON read from a file holds 5 as unsigned, JSON built in C++ as signed.
std::optional<uint64_t> NonNegativeInteger(const json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(value.get<int64_t>());
  }
  return std::nullopt;
}

uint64_t CheckedProduct(const std::string& path, uint64_t a, uint64_t b) {
  if (a != 0 && b > kMaxPoints / a) {
    throw InputError(path + ": the sweep has more than " + std::to_string(kMaxPoints) +
                     " points");
  }
  return a * b;
}

// Three significant digits: a learning rate of 0.000347 reads better in a
// table than 0.00034718860201, and the sweep is no less random for it.
double ThreeDigits(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return std::strtod(text, nullptr);
}

json Draw(const json& distribution, Rng& rng) {
  const std::string kind = distribution.begin().key();
  const json& arguments = distribution.begin().value();
  if (kind == "choice") return arguments[rng.UniformInt(arguments.size())];
  if (kind == "int_uniform") {
    const int64_t lo = arguments[0].get<int64_t>(), hi = arguments[1].get<int64_t>();
    return lo + static_cast<int64_t>(rng.UniformInt(static_cast<uint64_t>(hi - lo) + 1));
  }
  const double lo = arguments[0].get<double>(), hi = arguments[1].get<double>();
  const double u = rng.UniformDouble();
  if (kind == "log_uniform") {
    return ThreeDigits(std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))));
  }
  return ThreeDigits(lo + u * (hi - lo));
}

}  // namespace

bool IsSweepSpec(const json& document) {
  return document.is_object() && document.contains("base");
}

const char* MetricName(SweepMetric metric) {
  for (const NamedMetric& named : kMetrics) {
    if (named.metric == metric) return named.name;
  }
  return "?";
}

SweepMetric ParseMetric(const std::string& name, const std::string& source) {
  std::vector<std::string> names;
  for (const NamedMetric& named : kMetrics) {
    if (name == named.name) return named.metric;
    names.push_back(named.name);
  }
  throw InputError(source + ": metric: '" + name + "' is not one of test_accuracy, final_loss, " +
                   "seconds_per_epoch, time_to_target" + DidYouMean(name, names));
}

SweepSpec ParseSweepSpec(const json& document, const std::string& path) {
  if (!document.is_object()) {
    throw InputError(path + ": a sweep spec must be a JSON object, got " + Describe(document));
  }
  SweepSpec spec;
  spec.path = path;
  spec.document = document;
  const std::vector<std::string> known(std::begin(kKnownKeys), std::end(kKnownKeys));
  for (const auto& item : document.items()) {
    bool is_known = false;
    for (const std::string& key : known) is_known = is_known || key == item.key();
    if (!is_known) Fail(path, item.key(), "unknown key in a sweep spec" + DidYouMean(item.key(), known));
  }

  const auto string_at = [&](const char* key) -> std::string {
    const json& value = document.at(key);
    if (!value.is_string()) Fail(path, key, "expected a string, got " + Describe(value));
    return value.get<std::string>();
  };
  if (!document.contains("name")) Fail(path, "name", "missing (it names the sweep's directory)");
  spec.name = string_at("name");
  if (!IsName(spec.name)) {
    Fail(path, "name", "must be non-empty and use only letters, digits, '.', '_' and '-', got \"" +
                           spec.name + "\"");
  }
  spec.base = string_at("base");
  if (spec.base.empty()) Fail(path, "base", "must be the path of a config file");

  if (document.contains("set")) {
    const json& set = document["set"];
    if (!set.is_object()) Fail(path, "set", "expected an object of key paths, got " + Describe(set));
    for (const auto& item : set.items()) {
      CheckKeyPath(path, "set", item.key());
      spec.set.emplace_back(item.key(), item.value());
    }
  }

  uint64_t points = 1;
  if (document.contains("grid")) {
    const json& grid = document["grid"];
    if (!grid.is_object()) Fail(path, "grid", "expected an object of key paths, got " + Describe(grid));
    for (const auto& item : grid.items()) {
      const std::string where = "grid." + item.key();
      CheckKeyPath(path, "grid", item.key());
      if (!item.value().is_array() || item.value().empty()) {
        Fail(path, where, "expected a non-empty array of values, got " + Describe(item.value()));
      }
      points = CheckedProduct(path, points, item.value().size());
      spec.grid.emplace_back(item.key(), std::vector<json>(item.value().begin(), item.value().end()));
    }
  }

  if (document.contains("random")) {
    const json& random = document["random"];
    if (!random.is_object()) Fail(path, "random", "expected an object, got " + Describe(random));
    for (const auto& item : random.items()) {
      if (item.key() != "samples" && item.key() != "seed" && item.key() != "space") {
        Fail(path, "random." + item.key(),
             "unknown key" + DidYouMean(item.key(), {"samples", "seed", "space"}));
      }
    }
    const json samples = random.value("samples", json());
    const std::optional<uint64_t> count = NonNegativeInteger(samples);
    if (!count || *count == 0) {
      Fail(path, "random.samples", "expected a positive integer, got " + Describe(samples));
    }
    spec.random_samples = *count;
    points = CheckedProduct(path, points, spec.random_samples);
    if (random.contains("seed")) {
      const std::optional<uint64_t> seed = NonNegativeInteger(random["seed"]);
      if (!seed) Fail(path, "random.seed", "expected an integer >= 0, got " + Describe(random["seed"]));
      spec.random_seed = *seed;
    }
    const json space = random.value("space", json());
    if (!space.is_object() || space.empty()) {
      Fail(path, "random.space", "expected an object of key paths to distributions, got " +
                                     Describe(space));
    }
    for (const auto& item : space.items()) {
      CheckKeyPath(path, "random.space", item.key());
      for (const auto& [grid_key, values] : spec.grid) {
        if (grid_key == item.key()) Fail(path, "random.space." + item.key(), "also in grid");
      }
      CheckDistribution(path, "random.space." + item.key(), item.value());
    }
    spec.random_space = space;
  }

  if (document.contains("seeds")) {
    const json& seeds = document["seeds"];
    if (!seeds.is_array() || seeds.empty()) {
      Fail(path, "seeds", "expected a non-empty array of integers, got " + Describe(seeds));
    }
    for (size_t i = 0; i < seeds.size(); ++i) {
      const std::optional<uint64_t> valid = NonNegativeInteger(seeds[i]);
      if (!valid) {
        Fail(path, "seeds." + std::to_string(i), "expected an integer >= 0, got " + Describe(seeds[i]));
      }
      const uint64_t seed = *valid;
      for (uint64_t earlier : spec.seeds) {
        if (earlier == seed) Fail(path, "seeds." + std::to_string(i), "seed " + std::to_string(seed) + " is listed twice");
      }
      spec.seeds.push_back(seed);
    }
    points = CheckedProduct(path, points, spec.seeds.size());
    for (const auto& [key, values] : spec.grid) {
      if (key == "seed") Fail(path, "grid.seed", "use \"seeds\" for repeats over seeds");
    }
  }

  if (document.contains("metric")) spec.metric = ParseMetric(string_at("metric"), path);
  if (document.contains("accuracy_threshold")) {
    const json& value = document["accuracy_threshold"];
    if (!value.is_number() || !(value.get<double>() > 0.0 && value.get<double>() <= 1.0)) {
      Fail(path, "accuracy_threshold", "must be a number in (0, 1], got " + Describe(value));
    }
    spec.accuracy_threshold = value.get<double>();
  }
  return spec;
}

std::vector<SweepPoint> ExpandSweep(const SweepSpec& spec) {
  // The random samples first, drawn in one fixed order.
  std::vector<std::vector<std::pair<std::string, json>>> samples(1);
  if (spec.random_samples > 0) {
    samples.assign(spec.random_samples, {});
    Rng rng(spec.random_seed, kRandomSearchStream);
    for (auto& sample : samples) {
      for (const auto& item : spec.random_space.items()) {
        sample.emplace_back(item.key(), Draw(item.value(), rng));
      }
    }
  }
  const std::vector<uint64_t> seeds = spec.seeds;

  size_t grid_points = 1;
  for (const auto& [key, values] : spec.grid) grid_points *= values.size();
  std::vector<SweepPoint> points;
  for (size_t g = 0; g < grid_points; ++g) {
    // The grid's first axis varies slowest, as in nested loops.
    std::vector<std::pair<std::string, json>> grid_values(spec.grid.size());
    size_t rest = g;
    for (size_t a = spec.grid.size(); a-- > 0;) {
      const auto& [key, values] = spec.grid[a];
      grid_values[a] = {key, values[rest % values.size()]};
      rest /= values.size();
    }
    for (const auto& sample : samples) {
      for (size_t s = 0; s < std::max<size_t>(seeds.size(), 1); ++s) {
        SweepPoint point;
        point.index = points.size();
        point.varied = grid_values;
        point.varied.insert(point.varied.end(), sample.begin(), sample.end());
        if (!seeds.empty()) point.varied.emplace_back("seed", seeds[s]);
        points.push_back(std::move(point));
      }
    }
  }
  return points;
}

std::string OverrideText(const std::string& key, const json& value) {
  return key + "=" + value.dump();
}

}  // namespace mb
