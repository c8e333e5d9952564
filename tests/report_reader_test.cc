// Reading report.json files back for summarize, compare and plot: what is
// refused, with a one-line error naming the file, and the typed view
// (RunResults) every field is read through.
#include "report/report_reader.h"

#include <catch2/catch.hpp>

#include <cmath>

#include "common/error.h"
#include "common/sha256.h"
#include "config/config.h"
#include "report/run_report.h"
#include "report/run_results.h"
#include "temp_dir.h"

namespace mb {
namespace {

using json = nlohmann::json;

json MinimalReport(const json& schema_version) {
  return {{"schema_version", schema_version},
          {"status", "completed"},
          {"config", json::object()},
          {"config_hash", "abc"},
          {"epochs", json::array()}};
}

TEST_CASE("ReadReport reads this build's schema_version", "[report]") {
  TempDir dir;
  const std::string path = dir.Write("report.json", MinimalReport(kReportSchemaVersion).dump());
  CHECK(ReadReport(path).json["status"] == "completed");
  CHECK(RunReport().ToJson()["schema_version"] == kReportSchemaVersion);
}

TEST_CASE("ReadReport refuses another schema_version, naming the file", "[report]") {
  TempDir dir;
  const std::string path = dir.Write("report.json", MinimalReport(999).dump());
  CHECK_THROWS_MATCHES(ReadReport(path), InputError,
                       Catch::Message(path + ": schema_version: 999 is not supported (this "
                                             "build reads 1)"));
  CHECK_THROWS_MATCHES(FindReports({dir.path().string()}), InputError,
                       Catch::Message(path + ": schema_version: 999 is not supported (this "
                                             "build reads 1)"));
  dir.Write("report.json", MinimalReport(0).dump());
  CHECK_THROWS_AS(ReadReport(path), InputError);
  dir.Write("report.json", MinimalReport("1").dump());
  CHECK_THROWS_WITH(ReadReport(path),
                    path + ": schema_version: missing or not an integer (not a mnistbench report?)");
}

// A finished sweep point with every field the typed view reads.
json FullReport() {
  return json::parse(R"({
    "schema_version": 1, "status": "completed",
    "config": {"name": "w", "seed": 3, "threads": 2, "model": [{"units": 64}]},
    "config_hash": "abc",
    "epochs": [
      {"epoch": 1, "loss": 0.5, "accuracy": 0.9, "val_loss": 0.6, "val_accuracy": 0.85,
       "learning_rate": 0.001, "seconds": 1.25, "steps": 469},
      {"epoch": 2, "loss": null, "accuracy": 0.95, "val_loss": null, "val_accuracy": 0.9,
       "learning_rate": 0.0005, "seconds": 2.5}],
    "test": {"loss": 0.1, "accuracy": 0.97, "samples": 10000, "correct": 9700,
             "accuracy_ci95": [0.96, 0.98]},
    "target": {"accuracy": 0.95, "set": "validation", "reached": true, "seconds": 3.5,
               "epoch": 2, "step": 700, "every_steps": 100},
    "early_stopping": {"stopped_epoch": null, "best_epoch": 2, "restored_best_weights": true},
    "sweep": {"name": "w", "spec": "w.json", "index": 4, "point_id": "p4",
              "varied": {"model.0.units": 64, "seed": 3}},
    "total_seconds": 9.0, "finished_at": "2026-12-02T10:00:00Z",
    "machine": {"numerics_class": "fma", "git_commit": "c0ffee", "git_dirty": false,
                "threads": 2, "hostname": "vm"},
    "resumed": [{"epoch": 1}]
  })");
}

RunResults Parse(const json& report, const std::string& path = "runs/x/report.json") {
  return ParseRunResults(LoadedReport{path, report});
}

TEST_CASE("RunResults reads a report's fields once, typed", "[report]") {
  const RunResults run = Parse(FullReport());
  CHECK(run.path == "runs/x/report.json");
  CHECK(run.status == "completed");
  CHECK(run.IsFinished());
  CHECK(run.config_hash == "abc");
  CHECK(run.config_name == "w");
  CHECK(run.seed == 3u);
  REQUIRE(run.epochs.size() == 2);
  CHECK(run.epochs[0].epoch == 1);
  CHECK(run.epochs[0].loss == 0.5);
  CHECK(run.epochs[0].val_loss == 0.6);
  CHECK(run.epochs[0].val_accuracy == 0.85);
  CHECK(run.epochs[0].learning_rate == 0.001);
  // null, as the runner writes NaN: NaN, and a validation loss still present.
  CHECK(std::isnan(run.epochs[1].loss));
  REQUIRE(run.epochs[1].val_loss.has_value());
  CHECK(std::isnan(*run.epochs[1].val_loss));
  // The one training time: the sum of the epochs' seconds in a report
  // without timing (of an older build)...
  CHECK(run.training_seconds == 3.75);
  CHECK(run.SecondsPerEpoch() == 1.875);
  // ... and the span from the first step to the final weights with it.
  json timed = FullReport();
  timed["timing"] = {{"load_seconds", 0.5}, {"setup_seconds", 0.25},
                     {"training_seconds", 4.0}, {"test_seconds", 0.125}};
  CHECK(Parse(timed).training_seconds == 4.0);
  CHECK(Parse(timed).SecondsPerEpoch() == 2.0);
  REQUIRE(run.test.has_value());
  CHECK(run.TestAccuracy() == 0.97);
  CHECK(run.test->samples == 10000u);
  CHECK(run.test->correct == 9700u);
  REQUIRE(run.target.has_value());
  CHECK(run.target->reached);
  CHECK(run.target->set == "validation");
  CHECK(run.target->seconds == 3.5);
  CHECK(run.target->step == 700);
  REQUIRE(run.early_stopping.has_value());
  CHECK_FALSE(run.early_stopping->stopped_epoch.has_value());
  CHECK(run.early_stopping->best_epoch == 2);
  CHECK(run.early_stopping->restored_best_weights);
  REQUIRE(run.sweep.has_value());
  CHECK(run.sweep->index == 4u);
  CHECK(run.sweep->point_id == "p4");
  CHECK(run.sweep->varied == json({{"model.0.units", 64}, {"seed", 3}}));
  CHECK(run.total_seconds == 9.0);
  CHECK(run.finished_at == "2026-12-02T10:00:00Z");
  CHECK(run.numerics_class == "fma");
  CHECK(run.git_dirty == false);
  // The fingerprint has every field, missing ones as nothing.
  REQUIRE(run.fingerprint.size() == 25);
  CHECK(std::string(run.fingerprint[0].label) == "cpu_model");
  CHECK_FALSE(run.fingerprint[0].value.has_value());
  CHECK(std::string(run.fingerprint[6].label) == "threads");
  CHECK(run.fingerprint[6].value == json(2));
}

TEST_CASE("RunResults: missing optional fields are fine", "[report]") {
  const RunResults run = Parse(MinimalReport(1));
  CHECK(run.epochs.empty());
  CHECK(run.training_seconds == 0);
  CHECK(std::isnan(run.SecondsPerEpoch()));
  CHECK_FALSE(run.test.has_value());
  CHECK(std::isnan(run.TestAccuracy()));
  CHECK_FALSE(run.sweep.has_value());
  CHECK_FALSE(run.target.has_value());
  CHECK_FALSE(run.early_stopping.has_value());
  CHECK_FALSE(run.config_name.has_value());
  CHECK_FALSE(run.seed.has_value());
  CHECK(std::isnan(run.total_seconds));
  CHECK(run.finished_at.empty());
  CHECK_FALSE(run.numerics_class.has_value());

  // An epoch with no numbers: NaN, its number from its position, no
  // validation; its missing seconds count 0 in the training time.
  json report = MinimalReport(1);
  report["epochs"] = json::array({json::object(), {{"seconds", 2.0}}});
  report["test"] = nullptr;  // a diverged run's
  const RunResults sparse = Parse(report);
  CHECK(sparse.epochs[1].epoch == 2);
  CHECK(std::isnan(sparse.epochs[0].loss));
  CHECK_FALSE(sparse.epochs[0].val_loss.has_value());
  CHECK(sparse.training_seconds == 2.0);
  CHECK_FALSE(sparse.test.has_value());
}

TEST_CASE("RunResults: a wrong-typed field is a one-line error naming file and field",
          "[report]") {
  const std::string file = "runs/x/report.json";
  const auto error_of = [&file](const char* pointer, const json& value) {
    json report = FullReport();
    report[json::json_pointer(pointer)] = value;
    try {
      Parse(report, file);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("/epochs/1/loss", "0.5") ==
        file + ": epochs.1.loss: expected a number, got \"0.5\"");
  CHECK(error_of("/epochs/0/epoch", 1.5) ==
        file + ": epochs.0.epoch: expected an integer, got 1.5");
  CHECK(error_of("/epochs/1", 3) == file + ": epochs.1: expected an object, got 3");
  CHECK(error_of("/test/accuracy", true) == file + ": test.accuracy: expected a number, got true");
  CHECK(error_of("/test", "none") == file + ": test: expected an object, got \"none\"");
  CHECK(error_of("/config/seed", -1) ==
        file + ": config.seed: expected a non-negative integer, got -1");
  CHECK(error_of("/config/name", 7) == file + ": config.name: expected a string, got 7");
  CHECK(error_of("/sweep/varied", json::array({1, 2})) ==
        file + ": sweep.varied: expected an object, got [1,2]");
  CHECK(error_of("/sweep/index", "4") ==
        file + ": sweep.index: expected a non-negative integer, got \"4\"");
  CHECK(error_of("/target/reached", "yes") ==
        file + ": target.reached: expected true or false, got \"yes\"");
  CHECK(error_of("/machine/git_dirty", 0) ==
        file + ": machine.git_dirty: expected true or false, got 0");
  CHECK(error_of("/early_stopping/best_epoch", "2") ==
        file + ": early_stopping.best_epoch: expected an integer, got \"2\"");
  CHECK(error_of("/finished_at", 5) == file + ": finished_at: expected a string, got 5");
  // Long values are cut, so that the message stays one short line.
  CHECK(error_of("/epochs/0/loss", std::string(100, 'x')) ==
        file + ": epochs.0.loss: expected a number, got \"" + std::string(39, 'x') + "...");
  CHECK(error_of("/status", 1) ==
        file + ": status: missing or not a string (not a mnistbench report?)");
}

TEST_CASE("config_id: the config_hash's keys without the seed", "[report]") {
  const json config = FullReport()["config"];
  json other = config;
  other["seed"] = 99;
  other["threads"] = 64;
  other["name"] = "renamed";
  CHECK(ConfigId(other) == ConfigId(config));
  json without_seed = config;
  without_seed.erase("seed");
  CHECK(ConfigId(config) == Sha256Hex(HashedPart(without_seed).dump()));
  other["model"][0]["units"] = 65;
  CHECK(ConfigId(other) != ConfigId(config));
  CHECK(Parse(FullReport()).config_id == ConfigId(config));
}

}  // namespace
}  // namespace mb
