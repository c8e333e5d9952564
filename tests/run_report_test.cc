#include "common/statistics.h"
#include "report/run_report.h"

#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>

#include "common/error.h"
#include "file_size_limit.h"
#include "report/machine_info.h"
#include "temp_dir.h"

#ifdef __SSE__
#include <xmmintrin.h>
#endif

namespace fs = std::filesystem;
using mb::ReadFile;
using mb::TempDir;

namespace {

std::vector<mb::EpochRecord> TwoEpochs() {
  mb::EpochRecord first;
  first.epoch = 1;
  first.steps = 469;
  first.loss = 0.5;
  first.accuracy = 0.875;
  first.seconds = 1.25;
  first.samples_per_second = 48000;
  first.learning_rate = 0.001;
  mb::EpochRecord second;
  second.epoch = 2;
  second.loss = 0.1;
  second.accuracy = 0.96875;
  second.val_loss = 0.2;
  second.val_accuracy = 0.9375;
  second.seconds = 2.0 / 3.0;
  second.samples_per_second = 90000;
  second.learning_rate = 0.0005;
  return {first, second};
}

mb::RunReport CompletedReport() {
  mb::RunReport report;
  report.status = "completed";
  report.config = {{"name", "baseline"}};
  report.config_hash = "1a2b3c4d5e6f";
  report.dataset = {{"train", 60000}};
  report.epochs = TwoEpochs();
  report.test_loss = 0.25;
  report.test_accuracy = 0.9;
  mb::Prediction prediction;
  prediction.index = 7;
  prediction.label = 3;
  prediction.predicted = 5;
  prediction.probability = 0.7f;
  prediction.probabilities = {0.1f, 0.2f, 0.7f};
  report.predictions = {prediction};
  report.total_seconds = 3.5;
  report.started_at = "2026-11-28T15:16:06Z";
  report.finished_at = "2026-11-28T15:16:10Z";
  report.peak_rss_bytes = 123456789;
  report.memory = {{"estimated_bytes", 100000000}};
  return report;
}

}  // namespace

TEST_CASE("ToJson of a running report has every key, unknowns null", "[report]") {
  mb::RunReport report;
  report.started_at = "2026-11-28T15:16:06Z";
  const nlohmann::json json = report.ToJson();
  for (const char* key : {"status", "config", "config_hash", "machine", "dataset", "training",
                          "epochs", "test", "predictions", "timing", "total_seconds",
                          "started_at", "finished_at", "peak_rss_bytes", "memory",
                          "schema_version"}) {
    INFO(key);
    CHECK(json.contains(key));
  }
  CHECK(json.size() == 16);  // diverged_epoch only once it is set
  CHECK(json["timing"] == nlohmann::json({{"load_seconds", 0.0},
                                          {"setup_seconds", 0.0},
                                          {"training_seconds", 0.0},
                                          {"test_seconds", 0.0}}));
  CHECK(json["status"] == "running");
  CHECK(json["schema_version"] == 1);
  CHECK(json["test"].is_null());
  CHECK(json["finished_at"].is_null());
  CHECK(json["peak_rss_bytes"].is_null());
  CHECK(json["memory"].is_null());
  CHECK(json["epochs"] == nlohmann::json::array());
  CHECK(json["predictions"] == nlohmann::json::array());
}

// What a checkpoint holds of the report is read back exactly: a resumed run
// goes on from the same numbers, its timing included.
TEST_CASE("RunReportFromJson reads back what ToJson wrote before the test", "[report]") {
  mb::RunReport report;
  report.config = {{"name", "baseline"}};
  report.config_hash = "1a2b3c4d5e6f";
  report.epochs = TwoEpochs();
  report.timing = {0.375, 0.125, 2.0 / 3.0, 0.0};
  report.total_seconds = 3.5;
  report.started_at = "2026-11-28T15:16:06Z";
  report.memory = {{"estimated_bytes", 100000000}};
  const nlohmann::json json = report.ToJson();
  const mb::RunReport again = mb::RunReportFromJson(json, "checkpoint.safetensors");
  CHECK(again.timing.load_seconds == 0.375);
  CHECK(again.timing.training_seconds == 2.0 / 3.0);
  CHECK(again.ToJson() == json);
  nlohmann::json damaged = json;
  damaged["timing"].erase("training_seconds");
  CHECK_THROWS_WITH(mb::RunReportFromJson(damaged, "checkpoint.safetensors"),
                    Catch::StartsWith("checkpoint.safetensors: the report it holds is damaged"));
}

TEST_CASE("ToJson of a completed report", "[report]") {
  mb::RunReport report = CompletedReport();
  report.diverged_epoch = 2;
  const nlohmann::json json = report.ToJson();

  CHECK(json["test"] == nlohmann::json({{"loss", 0.25}, {"accuracy", 0.9}}));
  CHECK(json["diverged_epoch"] == 2);
  CHECK(json["finished_at"] == "2026-11-28T15:16:10Z");
  CHECK(json["peak_rss_bytes"] == 123456789);
  CHECK(json["memory"]["estimated_bytes"] == 100000000);
  CHECK(json["config_hash"] == "1a2b3c4d5e6f");

  const nlohmann::json& first = json["epochs"][0];
  CHECK(first == nlohmann::json({{"epoch", 1},
                                 {"steps", 469},
                                 {"loss", 0.5},
                                 {"accuracy", 0.875},
                                 {"seconds", 1.25},
                                 {"samples_per_second", 48000.0},
                                 {"learning_rate", 0.001}}));
  CHECK_FALSE(first.contains("val_loss"));
  CHECK_FALSE(first.contains("val_accuracy"));
  CHECK(json["epochs"][1]["val_loss"] == 0.2);
  CHECK(json["epochs"][1]["val_accuracy"] == 0.9375);
  // Doubles survive the text round trip exactly.
  CHECK(nlohmann::json::parse(json.dump())["epochs"][1]["seconds"].get<double>() == 2.0 / 3.0);

  const nlohmann::json& prediction = json["predictions"][0];
  CHECK(prediction["index"] == 7);
  CHECK(prediction["label"] == 3);
  CHECK(prediction["predicted"] == 5);
  // Floats print in their shortest form and read back as the same float.
  CHECK(prediction.dump() ==
        R"({"index":7,"label":3,"predicted":5,"probabilities":[0.1,0.2,0.7],"probability":0.7})");
  CHECK(prediction["probabilities"][2].get<float>() == 0.7f);
}

TEST_CASE("ToJson leaves out target and sweep unless set", "[report]") {
  const nlohmann::json json = CompletedReport().ToJson();
  CHECK_FALSE(json.contains("target"));
  CHECK_FALSE(json.contains("sweep"));
}

TEST_CASE("ToJson writes the time to accuracy and the sweep point", "[report]") {
  mb::RunReport report = CompletedReport();
  mb::TargetRecord target;
  target.accuracy = 0.97;
  target.set = "validation";
  target.every_steps = 100;
  report.target = target;
  report.sweep = {{"name", "width"}, {"index", 3}, {"varied", {{"model.0.units", 256}}}};
  nlohmann::json json = report.ToJson();
  CHECK(json["target"] == nlohmann::json({{"accuracy", 0.97},
                                          {"set", "validation"},
                                          {"every_steps", 100},
                                          {"reached", false},
                                          {"seconds", nullptr},
                                          {"epoch", nullptr},
                                          {"step", nullptr},
                                          {"reached_accuracy", nullptr}}));
  CHECK(json["sweep"]["varied"]["model.0.units"] == 256);

  report.target->reached = true;
  report.target->seconds = 1.5;
  report.target->epoch = 2;
  report.target->step = 700;
  report.target->reached_accuracy = 0.9712;
  json = report.ToJson();
  CHECK(json["target"]["reached"] == true);
  CHECK(json["target"]["seconds"] == 1.5);
  CHECK(json["target"]["epoch"] == 2);
  CHECK(json["target"]["step"] == 700);
  CHECK(json["target"]["reached_accuracy"] == 0.9712);
}

TEST_CASE("The test section has the counts, Wilson's interval and the confusion matrix",
          "[report]") {
  mb::RunReport report;
  report.test_loss = 0.5;
  report.test_accuracy = 0.75;
  report.test_correct = 3;
  report.test_samples = 4;
  report.classes = 2;
  report.test_confusion = {1, 1,   // label 0: once right, once taken for 1
                           0, 2};  // label 1: right twice
  const nlohmann::json test = report.ToJson()["test"];
  CHECK(test["samples"] == 4);
  CHECK(test["correct"] == 3);
  CHECK(test["confusion_matrix"] == nlohmann::json({{1, 1}, {0, 2}}));
  CHECK(test["per_class_accuracy"] == nlohmann::json({0.5, 1.0}));
  // Wilson, z = 1.96: (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
  CHECK(test["accuracy_ci95"][0].get<double>() == Approx(0.30064).epsilon(1e-4));
  CHECK(test["accuracy_ci95"][1].get<double>() == Approx(0.95441).epsilon(1e-4));
}

TEST_CASE("Wilson's interval at the edges", "[report]") {
  // 0 of 10: [0, z^2 / (n + z^2)]; 10 of 10 mirrors it.
  const auto [low0, high0] = mb::WilsonInterval95(0, 10);
  CHECK(low0 == 0.0);
  CHECK(high0 == Approx(3.841458820694124 / 13.841458820694124).epsilon(1e-12));
  const auto [low10, high10] = mb::WilsonInterval95(10, 10);
  CHECK(low10 == Approx(1.0 - high0).epsilon(1e-12));
  CHECK(high10 == Approx(1.0).epsilon(1e-15));
  CHECK(mb::WilsonInterval95(0, 0) == std::pair<double, double>{0.0, 1.0});
  // The baseline's scale: 9796 of 10000 is 97.96% within about +-0.28 points.
  const auto [low, high] = mb::WilsonInterval95(9796, 10000);
  CHECK(low == Approx(0.976640).epsilon(1e-5));
  CHECK(high == Approx(0.982192).epsilon(1e-5));
}

TEST_CASE("Student's t: quantiles and CDF against the tables", "[report]") {
  // Two-sided 95% quantiles from the standard tables.
  CHECK(mb::StudentT95(1) == Approx(12.7062).epsilon(1e-5));
  CHECK(mb::StudentT95(4) == Approx(2.7764).epsilon(1e-4));
  CHECK(mb::StudentT95(9) == Approx(2.2622).epsilon(1e-4));
  CHECK(mb::StudentT95(1e6) == Approx(1.95996).epsilon(1e-4));
  CHECK(mb::StudentTCdf(0.0, 3) == Approx(0.5).epsilon(1e-12));
  // df 1 is the Cauchy distribution: 1/2 + atan(t) / pi.
  CHECK(mb::StudentTCdf(1.5, 1) == Approx(0.5 + std::atan(1.5) / M_PI).epsilon(1e-10));
  CHECK(mb::StudentTCdf(-2.0, 1) == Approx(0.5 + std::atan(-2.0) / M_PI).epsilon(1e-10));
  // Mean of 1, 2, 3: 2 +- 4.3027 * 1 / sqrt(3).
  const auto [low, high] = mb::MeanInterval95({1.0, 2.0, 3.0});
  CHECK(low == Approx(2.0 - 4.30265 / std::sqrt(3.0)).epsilon(1e-5));
  CHECK(high == Approx(2.0 + 4.30265 / std::sqrt(3.0)).epsilon(1e-5));
  CHECK(std::isnan(mb::MeanInterval95({1.0}).first));
}

TEST_CASE("ToJson writes a non-finite loss as null", "[report]") {
  mb::RunReport report;
  mb::EpochRecord epoch;
  epoch.loss = std::nan("");
  report.epochs = {epoch};
  CHECK(nlohmann::json::parse(report.ToJson().dump())["epochs"][0]["loss"].is_null());
}

TEST_CASE("EpochsCsv writes one row per epoch, empty absent values", "[report]") {
  CHECK(mb::EpochsCsv(TwoEpochs()) ==
        "epoch,loss,accuracy,val_loss,val_accuracy,seconds,samples_per_second,learning_rate\n"
        "1,0.5,0.875,,,1.25,48000,0.001\n"
        "2,0.1,0.96875,0.2,0.9375,0.6666666666666666,90000,5e-04\n");
  CHECK(mb::EpochsCsv({}) ==
        "epoch,loss,accuracy,val_loss,val_accuracy,seconds,samples_per_second,learning_rate\n");
}

TEST_CASE("RunDirectoryName is name, compact UTC time and short hash", "[report]") {
  CHECK(mb::RunDirectoryName("baseline", "1a2b3c4d5e6f7a8b", "2026-11-28T15:16:06Z") ==
        "baseline-20261128T151606-1a2b3c4d");
  CHECK_THROWS_AS(mb::RunDirectoryName("baseline", "1a2b3c4d", "2026-11-28 15:16:06"),
                  std::invalid_argument);
}

TEST_CASE("UtcTimestamp is ISO 8601 UTC to the second", "[report]") {
  const std::string now = mb::UtcTimestamp();
  CHECK(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)")));
  CHECK_THAT(mb::RunDirectoryName("x", "0123456789", now), Catch::Matchers::StartsWith("x-"));
}

TEST_CASE("WriteRunFiles writes report.json and epochs.csv", "[report]") {
  TempDir dir;
  const mb::RunReport report = CompletedReport();
  mb::WriteRunFiles(dir.path().string(), report);

  const std::string json_text = ReadFile(dir.path() / "report.json");
  CHECK(json_text == report.ToJson().dump(2) + "\n");
  CHECK(json_text.find("\n  \"config\": {\n    \"name\": \"baseline\"\n  },") != std::string::npos);
  CHECK(ReadFile(dir.path() / "epochs.csv") == mb::EpochsCsv(report.epochs));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 2);
}

TEST_CASE("WriteRunFiles replaces invalid UTF-8 instead of failing", "[report]") {
  TempDir dir;
  mb::RunReport report;
  report.machine = {{"hostname", "bad\xff"}};
  mb::WriteRunFiles(dir.path().string(), report);
  const nlohmann::json read = nlohmann::json::parse(ReadFile(dir.path() / "report.json"));
  CHECK(read["machine"]["hostname"] == "bad\xef\xbf\xbd");  // U+FFFD
}

TEST_CASE("StartRunDirectory creates a directory of its own with the first files", "[report]") {
  TempDir dir;
  const std::string out = dir.File("results/nested");
  const mb::RunReport report = CompletedReport();
  const std::string first = mb::StartRunDirectory(out, "run", report);
  const std::string second = mb::StartRunDirectory(out, "run", report);
  CHECK(first == out + "/run");
  CHECK(second == out + "/run-2");
  for (const std::string& run_dir : {first, second}) {
    CHECK(ReadFile(fs::path(run_dir) / "report.json") == report.ToJson().dump(2) + "\n");
    CHECK(ReadFile(fs::path(run_dir) / "epochs.csv") == mb::EpochsCsv(report.epochs));
  }
}

TEST_CASE("StartRunDirectory removes the run directory if its first files fail", "[report]") {
  TempDir dir;
  const mb::RunReport report = CompletedReport();
  // Room for epochs.csv, which is written first, but not for report.json.
  REQUIRE(mb::EpochsCsv(report.epochs).size() < 512);
  REQUIRE(report.ToJson().dump(2).size() > 512);
  {
    mb::FileSizeLimit limit(512);
    CHECK_THROWS_MATCHES(
        mb::StartRunDirectory(dir.path().string(), "run", report), mb::OutputError,
        Catch::Message(dir.File("run/report.json") + ": cannot write (File too large)"));
  }
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("StartRunDirectory under a regular file throws OutputError", "[report]") {
  TempDir dir;
  const std::string file = dir.Write("plain", "kept");
  CHECK_THROWS_MATCHES(
      mb::StartRunDirectory(file + "/sub", "run", mb::RunReport()), mb::OutputError,
      Catch::Message(file + "/sub: cannot create output directory (Not a directory)"));
  CHECK(ReadFile(file) == "kept");
}

TEST_CASE("CollectMachineInfo reports the machine and the build", "[report]") {
  const nlohmann::json info = mb::CollectMachineInfo(3);
  for (const char* key : {"cpu_model", "logical_cores", "simd_target", "simd_targets_compiled",
                          "simd_targets_supported", "numerics_class", "compiler", "compiler_flags", "highway_version",
                          "openmp_version", "threads", "hostname", "git_commit", "git_dirty",
                          "mnistbench_version", "os", "ftz_daz", "total_memory_bytes"}) {
    INFO(key);
    CHECK(info.contains(key));
  }
#if defined(__GNUC__) && !defined(__clang__)
  CHECK(info["openmp_runtime"] == "libgomp");
#endif
  CHECK(info["threads"] == 3);
  CHECK(info["openmp_version"].get<int>() >= 201107);  // OpenMP 3.1 or newer
  CHECK(info["logical_cores"].get<unsigned>() >= 1);
  CHECK(info["total_memory_bytes"].get<int64_t>() > 0);
  CHECK_FALSE(info["cpu_model"].get<std::string>().empty());
  CHECK_FALSE(info["hostname"].get<std::string>().empty());

  const std::string target = info["simd_target"];
  CHECK_FALSE(target.empty());
  CHECK(target != "Unknown");
  const nlohmann::json& compiled = info["simd_targets_compiled"];
  CHECK(std::find(compiled.begin(), compiled.end(), target) != compiled.end());
  const nlohmann::json& supported = info["simd_targets_supported"];
  CHECK(std::find(supported.begin(), supported.end(), target) != supported.end());
  CHECK((info["numerics_class"] == "fma" || info["numerics_class"] == "no-fma"));
}

#ifdef __SSE__
TEST_CASE("CollectMachineInfo reads the calling thread's FTZ and DAZ bits", "[report]") {
  const unsigned saved = _mm_getcsr();
  _mm_setcsr((saved | (1u << 15)) & ~(1u << 6));  // FTZ on, DAZ off
  const nlohmann::json ftz_only = mb::CollectMachineInfo(1)["ftz_daz"];
  _mm_setcsr((saved & ~(1u << 15)) | (1u << 6));  // FTZ off, DAZ on
  const nlohmann::json daz_only = mb::CollectMachineInfo(1)["ftz_daz"];
  _mm_setcsr(saved);
  CHECK(ftz_only == nlohmann::json({{"ftz", true}, {"daz", false}}));
  CHECK(daz_only == nlohmann::json({{"ftz", false}, {"daz", true}}));
}
#endif

TEST_CASE("ParseGitDescribe splits the commit and the dirty flag", "[report]") {
  const std::string hash = "0123456789abcdef0123456789abcdef01234567";
  mb::GitState clean = mb::ParseGitDescribe(hash);
  CHECK(clean.commit == hash);
  CHECK(clean.dirty == false);

  mb::GitState dirty = mb::ParseGitDescribe(hash + "-dirty");
  CHECK(dirty.commit == hash);
  CHECK(dirty.dirty == true);

  for (const std::string unknown : {"unknown", "", "-dirty", "0123abc", "v1.0-3-g0123abc"}) {
    INFO(unknown);
    mb::GitState state = mb::ParseGitDescribe(unknown);
    CHECK(state.commit == "unknown");
    CHECK_FALSE(state.dirty.has_value());
  }
}

TEST_CASE("PeakRssBytes reads the process's high-water mark", "[report]") {
  const std::optional<long> peak = mb::PeakRssBytes();
  REQUIRE(peak.has_value());
  CHECK(*peak > 0);
  CHECK(*peak % 1024 == 0);
}

TEST_CASE("ResidentBytes reads the process's resident set now", "[report]") {
  const std::optional<long> peak_before = mb::PeakRssBytes();
  const std::optional<long> resident = mb::ResidentBytes();
  REQUIRE(resident.has_value());
  CHECK(*resident > 0);
  CHECK(*resident % 1024 == 0);
  CHECK(*resident <= *mb::PeakRssBytes());
  CHECK(peak_before.has_value());
}
