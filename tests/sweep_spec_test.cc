// Sweep specs: validation with key paths, and the expansion into points.
#include <catch2/catch.hpp>

#include <string>

#include "common/error.h"
#include "sweep/sweep_spec.h"

namespace mb {
namespace {

using json = nlohmann::json;

std::string SpecError(const json& document) {
  try {
    ParseSweepSpec(document, "x.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

json Minimal() { return {{"name", "s"}, {"base", "configs/tiny.json"}}; }

json With(json patch) {
  json document = Minimal();
  document.merge_patch(patch);
  return document;
}

std::string Varied(const SweepPoint& point) {
  std::string text;
  for (const auto& [key, value] : point.varied) text += key + "=" + value.dump() + " ";
  return text;
}

TEST_CASE("A document with a base key is a sweep spec", "[sweep]") {
  CHECK(IsSweepSpec(Minimal()));
  CHECK_FALSE(IsSweepSpec({{"name", "baseline"}, {"epochs", 5}}));
  CHECK_FALSE(IsSweepSpec(json::array()));
}

TEST_CASE("accuracy_threshold is read when given, absent otherwise", "[sweep]") {
  CHECK_FALSE(ParseSweepSpec(Minimal(), "x.json").accuracy_threshold);
  CHECK(ParseSweepSpec(With({{"accuracy_threshold", 0.99}}), "x.json").accuracy_threshold == 0.99);
  CHECK(ParseSweepSpec(With({{"accuracy_threshold", 1}}), "x.json").accuracy_threshold == 1.0);
}

TEST_CASE("A grid expands to every combination, first axis slowest, seeds fastest", "[sweep]") {
  const SweepSpec spec = ParseSweepSpec(
      With({{"grid", {{"model.0.units", {128, 256}}, {"optimizer.name", {"adam", "sgd"}}}},
            {"seeds", {1, 2}}}),
      "x.json");
  const std::vector<SweepPoint> points = ExpandSweep(spec);
  REQUIRE(points.size() == 8);
  // nlohmann orders object keys, so the grid axes come in key order.
  CHECK(Varied(points[0]) == "model.0.units=128 optimizer.name=\"adam\" seed=1 ");
  CHECK(Varied(points[1]) == "model.0.units=128 optimizer.name=\"adam\" seed=2 ");
  CHECK(Varied(points[2]) == "model.0.units=128 optimizer.name=\"sgd\" seed=1 ");
  CHECK(Varied(points[7]) == "model.0.units=256 optimizer.name=\"sgd\" seed=2 ");
  for (size_t i = 0; i < points.size(); ++i) CHECK(points[i].index == i);
}

TEST_CASE("A spec without axes is the base config once", "[sweep]") {
  const std::vector<SweepPoint> points = ExpandSweep(ParseSweepSpec(Minimal(), "x.json"));
  REQUIRE(points.size() == 1);
  CHECK(points[0].varied.empty());
}

TEST_CASE("Random search draws the same values for the same spec, within bounds", "[sweep]") {
  const json document = With(
      {{"random",
        {{"samples", 50},
         {"seed", 7},
         {"space",
          {{"optimizer.learning_rate", {{"log_uniform", {1e-4, 1e-2}}}},
           {"model.0.units", {{"int_uniform", {16, 20}}}},
           {"optimizer.name", {{"choice", {"adam", "rmsprop"}}}},
           {"validation_split", {{"uniform", {0.1, 0.2}}}}}}}}});
  const std::vector<SweepPoint> a = ExpandSweep(ParseSweepSpec(document, "x.json"));
  const std::vector<SweepPoint> b = ExpandSweep(ParseSweepSpec(document, "x.json"));
  REQUIRE(a.size() == 50);
  bool saw_adam = false, saw_rmsprop = false, saw_16 = false, saw_20 = false;
  double lowest_rate = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(Varied(a[i]) == Varied(b[i]));
    for (const auto& [key, value] : a[i].varied) {
      if (key == "optimizer.learning_rate") {
        CHECK(value.get<double>() >= 1e-4);
        CHECK(value.get<double>() <= 1e-2);
        lowest_rate = std::min(lowest_rate, value.get<double>());
      } else if (key == "model.0.units") {
        REQUIRE(value.is_number_integer());
        CHECK(value.get<int>() >= 16);
        CHECK(value.get<int>() <= 20);
        saw_16 = saw_16 || value == 16;
        saw_20 = saw_20 || value == 20;
      } else if (key == "optimizer.name") {
        saw_adam = saw_adam || value == "adam";
        saw_rmsprop = saw_rmsprop || value == "rmsprop";
      } else {
        CHECK(key == "validation_split");
        CHECK(value.get<double>() >= 0.1);
        CHECK(value.get<double>() <= 0.2);
      }
    }
  }
  CHECK((saw_adam && saw_rmsprop && saw_16 && saw_20));
  // Log-uniform: about half the 50 draws fall below 1e-3, so some are near 1e-4.
  CHECK(lowest_rate < 5e-4);
  // Another seed gives other points.
  json other = document;
  other["random"]["seed"] = 8;
  CHECK(Varied(ExpandSweep(ParseSweepSpec(other, "x.json"))[0]) != Varied(a[0]));
}

TEST_CASE("Grid, random samples and seeds multiply", "[sweep]") {
  const SweepSpec spec = ParseSweepSpec(
      With({{"grid", {{"batch_size", {64, 128}}}},
            {"random", {{"samples", 3}, {"space", {{"optimizer.learning_rate", {{"uniform", {0.001, 0.01}}}}}}}},
            {"seeds", {1, 2, 3}}}),
      "x.json");
  CHECK(ExpandSweep(spec).size() == 18);
}

TEST_CASE("Bad sweep specs name the file and the key", "[sweep]") {
  CHECK(SpecError(json::array()) == "x.json: a sweep spec must be a JSON object, got array []");
  CHECK(SpecError({{"base", "b.json"}}) == "x.json: name: missing (it names the sweep's directory)");
  CHECK(SpecError(With({{"name", "a b"}})) ==
        "x.json: name: must be non-empty and use only letters, digits, '.', '_' and '-', got \"a b\"");
  CHECK(SpecError(With({{"base", 3}})) == "x.json: base: expected a string, got number 3");
  CHECK(SpecError(With({{"gird", json::object()}})) ==
        "x.json: gird: unknown key in a sweep spec (did you mean 'grid'?)");
  CHECK(SpecError(With({{"grid", {{"model.0.units", json::array()}}}})) ==
        "x.json: grid.model.0.units: expected a non-empty array of values, got array []");
  CHECK(SpecError(With({{"grid", {{"model..units", {1}}}}})) ==
        "x.json: grid: 'model..units' is not a key path such as model.0.units");
  CHECK(SpecError(With({{"grid", {{"seed", {1, 2}}}}, {"seeds", {1}}})) ==
        "x.json: grid.seed: use \"seeds\" for repeats over seeds");
  CHECK(SpecError(With({{"seeds", {1, 1}}})) == "x.json: seeds.1: seed 1 is listed twice");
  CHECK(SpecError(With({{"seeds", {1, -2}}})) ==
        "x.json: seeds.1: expected an integer >= 0, got number -2");
  CHECK(SpecError(With({{"random", {{"samples", 0}, {"space", {{"a", {{"uniform", {0, 1}}}}}}}}})) ==
        "x.json: random.samples: expected a positive integer, got number 0");
  CHECK(SpecError(With({{"random", {{"samples", 2}, {"space", {{"a", {{"uniform", {1, 0}}}}}}}}})) ==
        "x.json: random.space.a.uniform: low must be less than high, got [1,0]");
  CHECK(SpecError(With({{"random", {{"samples", 2}, {"space", {{"a", {{"log_uniform", {0, 1}}}}}}}}})) ==
        "x.json: random.space.a.log_uniform: bounds must be > 0");
  CHECK(SpecError(With({{"random", {{"samples", 2}, {"space", {{"a", {{"normal", {0, 1}}}}}}}}})) ==
        "x.json: random.space.a: unknown distribution 'normal' (one of uniform, log_uniform, "
        "int_uniform, choice)");
  CHECK(SpecError(With({{"random", {{"samples", 2}, {"space", {{"a", {{"int_uniform", {0.5, 3}}}}}}}}})) ==
        "x.json: random.space.a.int_uniform: bounds must be integers, got [0.5,3]");
  CHECK(SpecError(With({{"random", {{"samples", 2}, {"spaces", json::object()}}}})) ==
        "x.json: random.spaces: unknown key (did you mean 'space'?)");
  CHECK(SpecError(With({{"metric", "final_los"}})) ==
        "x.json: metric: 'final_los' is not one of test_accuracy, final_loss, seconds_per_epoch, "
        "time_to_target (did you mean 'final_loss'?)");
  CHECK(SpecError(With({{"accuracy_threshold", 0}})) ==
        "x.json: accuracy_threshold: must be a number in (0, 1], got number 0");
  CHECK(SpecError(With({{"accuracy_threshold", "0.99"}})) ==
        "x.json: accuracy_threshold: must be a number in (0, 1], got string \"0.99\"");
  CHECK(SpecError(With({{"grid", {{"a", json::array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})},
                                  {"b", json(std::vector<int>(10000, 1))},
                                  {"c", json::array({1, 2})}}}})) ==
        "x.json: the sweep has more than 100000 points");
}

TEST_CASE("OverrideText writes the value as JSON", "[sweep]") {
  CHECK(OverrideText("model.0.units", 256) == "model.0.units=256");
  CHECK(OverrideText("optimizer.name", "adam") == "optimizer.name=\"adam\"");
  CHECK(OverrideText("optimizer", {{"name", "sgd"}}) == "optimizer={\"name\":\"sgd\"}");
}

}  // namespace
}  // namespace mb
