// The summary of a sweep: grouping over seeds, statistics, MLPerf-style
// means, sorting by the metric, and the files it writes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>

#include "common/error.h"
#include "report/atomic_file.h"
#include "sweep/summary.h"
#include "temp_dir.h"

namespace mb {
namespace {

using json = nlohmann::json;

// A sweep point's report: `units` and `seed` vary; two epochs.
LoadedReport Point(int units, int seed, double accuracy, double epoch_seconds,
                   const std::string& status = "completed") {
  json config = {{"name", "w"}, {"seed", seed}, {"model", {{{"units", units}}}}};
  json report = {{"schema_version", 1},
                 {"status", status},
                 {"config", config},
                 {"config_hash", "h" + std::to_string(units) + "-" + std::to_string(seed)},
                 {"epochs",
                  {{{"epoch", 1}, {"loss", 0.5}, {"seconds", epoch_seconds}},
                   {{"epoch", 2}, {"loss", 0.25}, {"seconds", epoch_seconds}}}},
                 {"test", {{"loss", 0.1}, {"accuracy", accuracy}}},
                 {"finished_at", "2026-11-29T00:00:00Z"},
                 {"sweep",
                  {{"name", "w"},
                   {"index", units / 100 * 10 + seed},
                   {"point_id", "id" + std::to_string(units) + "-" + std::to_string(seed)},
                   {"varied", {{"model.0.units", units}, {"seed", seed}}}}}};
  return {"r/" + std::to_string(units) + "-" + std::to_string(seed) + "/report.json", report};
}

TEST_CASE("OlympicMean drops the fastest and the slowest of three or more", "[sweep]") {
  CHECK(OlympicMean({1.0, 2.0, 9.0}) == 2.0);
  CHECK(OlympicMean({4.0, 1.0, 2.0, 3.0, 100.0}) == 3.0);
  CHECK(OlympicMean({1.0, 3.0}) == 2.0);
  CHECK(std::isnan(OlympicMean({})));
}

TEST_CASE("Runs differing only in the seed form one row with mean and std", "[sweep]") {
  const std::vector<LoadedReport> reports = {
      Point(100, 1, 0.90, 1.0), Point(100, 2, 0.92, 2.0), Point(100, 3, 0.94, 6.0),
      Point(200, 1, 0.97, 2.5), Point(200, 2, 0.99, 2.5)};
  const json summary = Summarize(reports, SweepMetric::kTestAccuracy);
  REQUIRE(summary["rows"].size() == 2);
  CHECK(summary["runs"] == 5);
  CHECK(summary["varied_keys"] == json({"model.0.units"}));
  // Sorted by test accuracy, best first.
  const json& best = summary["rows"][0];
  CHECK(best["varied"] == json({{"model.0.units", 200}}));
  CHECK(best["test_accuracy"]["mean"].get<double>() == Approx(0.98));
  CHECK(best["test_accuracy"]["std"].get<double>() == Approx(std::sqrt(0.0002)));
  // Two seeds: mean +- t(0.975, 1) * s / sqrt(2), t = 12.7062.
  CHECK(best["test_accuracy"]["ci95"][0].get<double>() == Approx(0.98 - 12.7062 * 0.01).epsilon(1e-4));
  CHECK(best["test_accuracy"]["ci95"][1].get<double>() == Approx(0.98 + 12.7062 * 0.01).epsilon(1e-4));
  const json& other = summary["rows"][1];
  CHECK(other["runs"] == 3);
  CHECK(other["seeds"] == json({1, 2, 3}));
  CHECK(other["seeds"][0].is_number_integer());
  CHECK(other["test_accuracy"]["mean"].get<double>() == Approx(0.92));
  CHECK(other["test_accuracy"]["std"].get<double>() == Approx(0.02));
  CHECK(other["final_loss"]["mean"].get<double>() == 0.25);
  CHECK(other["seconds_per_epoch"]["mean"].get<double>() == Approx(3.0));
  // Training seconds 2, 4, 12: MLPerf drops 2 and 12.
  CHECK(other["mlperf_seconds"].get<double>() == Approx(4.0));
  CHECK(other["mlperf_of"] == "train_seconds");

  // Sorted by seconds per epoch, fastest first.
  const json by_time = Summarize(reports, SweepMetric::kSecondsPerEpoch);
  CHECK(by_time["rows"][0]["varied"]["model.0.units"] == 200);
  CHECK(by_time["metric"] == "seconds_per_epoch");
}

TEST_CASE("Diverged runs are counted, incomplete ones left out, repeats once", "[sweep]") {
  LoadedReport diverged = Point(100, 2, 0.0, 1.0, "diverged");
  diverged.json["test"] = nullptr;
  LoadedReport repeat = Point(100, 1, 0.95, 1.0);
  repeat.path = "r/again/report.json";
  repeat.json["finished_at"] = "2026-11-29T01:00:00Z";
  const std::vector<LoadedReport> reports = {Point(100, 1, 0.90, 1.0), diverged,
                                             Point(100, 3, 0.5, 1.0, "running"), repeat};
  const json summary = Summarize(reports, SweepMetric::kTestAccuracy);
  REQUIRE(summary["rows"].size() == 1);
  CHECK(summary["incomplete"] == 1);
  const json& row = summary["rows"][0];
  CHECK(row["runs"] == 2);
  CHECK(row["diverged"] == 1);
  // The point that ran twice counts once, with its later report.
  CHECK(row["test_accuracy"]["values"] == json({0.95}));
  CHECK_THAT(SummaryMarkdown(summary), Catch::Contains("| 100 | 2 (1 diverged) | 0.9500 |"));
  CHECK_THAT(SummaryMarkdown(summary), Catch::Contains("1 incomplete runs"));
}

TEST_CASE("Copies of one report count once, with a note", "[sweep]") {
  std::vector<LoadedReport> reports;
  for (int copy = 0; copy < 10000; ++copy) {
    LoadedReport report = Point(100, 1, 0.9, 1.0);
    report.path = "copy-" + std::to_string(copy) + "/report.json";
    reports.push_back(report);
  }
  reports.push_back(Point(200, 1, 0.8, 1.0));
  const json summary = Summarize(reports, SweepMetric::kTestAccuracy);
  CHECK(summary["runs"] == 2);
  CHECK(summary["duplicate_reports"] == 9999);
  CHECK(summary["duplicated_runs"] == 1);
  const std::string note = "9999 duplicate reports of 1 runs merged (each run counts once, with "
                           "its newest complete report).";
  CHECK(summary["notes"] == json({note}));
  CHECK_THAT(SummaryMarkdown(summary), Catch::Contains(note));
  CHECK_THAT(SummaryMarkdown(summary), Catch::Contains("2 configs from 2 complete runs"));
}

TEST_CASE("Of a run's reports the newest complete one counts", "[sweep]") {
  LoadedReport older = Point(100, 1, 0.90, 1.0);
  LoadedReport newer = Point(100, 1, 0.95, 1.0);
  newer.path = "z/report.json";
  newer.json["finished_at"] = "2026-11-30T00:00:00Z";
  LoadedReport running = Point(100, 1, 0.5, 1.0, "running");
  running.path = "a/report.json";
  running.json["finished_at"] = nullptr;
  for (const auto& order : {std::vector<LoadedReport>{older, newer, running},
                            std::vector<LoadedReport>{running, newer, older}}) {
    const json summary = Summarize(order, SweepMetric::kTestAccuracy);
    CHECK(summary["rows"][0]["test_accuracy"]["values"] == json({0.95}));
    CHECK(summary["rows"][0]["reports"] == json({"z/report.json"}));
    CHECK(summary["incomplete"] == 0);
    CHECK(summary["duplicate_reports"] == 2);
  }
}

// What "the same config" means is RunResults::config_id, as compare has it:
// keys that cannot change a number (threads, name) do not tell runs apart,
// so reports that differ only in those are one run, counted once.
TEST_CASE("Runs outside a sweep are one run when they differ only in keys that change no number",
          "[sweep]") {
  const auto plain = [](const std::string& path, int seed, int threads, const std::string& name) {
    LoadedReport report = Point(100, seed, 0.9 + seed / 100.0, 1.0);
    report.path = path;
    report.json.erase("sweep");
    report.json["config"]["threads"] = threads;
    report.json["config"]["name"] = name;
    return report;
  };
  const json summary =
      Summarize({plain("a/report.json", 1, 1, "w"), plain("b/report.json", 1, 1, "w"),
                 plain("c/report.json", 1, 2, "renamed"), plain("d/report.json", 2, 2, "w")},
                SweepMetric::kTestAccuracy);
  REQUIRE(summary["rows"].size() == 1);
  CHECK(summary["runs"] == 2);
  CHECK(summary["duplicate_reports"] == 2);
  const json& row = summary["rows"][0];
  CHECK(row["seeds"] == json({1, 2}));
  CHECK(row["test_accuracy"]["values"] == json({0.91, 0.92}));
  CHECK(row["config_id"] == ConfigId(plain("x", 3, 8, "x").json["config"]));

  // Another model is another config.
  LoadedReport wider = plain("e/report.json", 1, 1, "w");
  wider.json["config"]["model"][0]["units"] = 200;
  CHECK(Summarize({plain("a/report.json", 1, 1, "w"), wider}, SweepMetric::kTestAccuracy)["rows"]
            .size() == 2);
}

TEST_CASE("Runs not in the current spec are left out, with a note", "[sweep]") {
  LoadedReport not_a_point = Point(300, 1, 0.99, 1.0);
  not_a_point.json.erase("sweep");
  const std::vector<LoadedReport> reports = {Point(100, 1, 0.9, 1.0), Point(100, 2, 0.9, 1.0),
                                             Point(200, 1, 0.8, 1.0), not_a_point};
  const std::set<std::string> spec = {"id100-1", "id100-2"};
  const json summary = Summarize(reports, SweepMetric::kTestAccuracy, spec);
  CHECK(summary["rows"].size() == 1);
  CHECK(summary["runs"] == 2);
  CHECK(summary["not_in_spec"] == 2);
  CHECK_THAT(SummaryMarkdown(summary),
             Catch::Contains("1 configs from 2 complete runs") &&
                 Catch::Contains("2 runs not in the current spec left out (runner summarize "
                                 "--all keeps them)."));
  const json all = Summarize(reports, SweepMetric::kTestAccuracy);
  CHECK(all["rows"].size() == 3);
  CHECK(all["not_in_spec"] == 0);
  CHECK(all["notes"].empty());
}

TEST_CASE("Seeds and other integers stay integers, to the last bit", "[sweep]") {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  std::vector<LoadedReport> reports = {Point(100, 1, 0.9, 1.0), Point(100, 2, 0.9, 1.0)};
  reports[0].json["config"]["seed"] = max;
  reports[1].json["config"]["seed"] = max - 1;
  reports[0].json["sweep"]["varied"]["target_every_steps"] = max - 2;
  reports[1].json["sweep"]["varied"]["target_every_steps"] = max - 2;
  // As summary.json holds it: written and read back.
  const json summary = json::parse(Summarize(reports, SweepMetric::kTestAccuracy).dump());
  REQUIRE(summary["rows"].size() == 1);
  const json& seeds = summary["rows"][0]["seeds"];
  CHECK(seeds[0].get<uint64_t>() == max);
  CHECK(seeds[1].get<uint64_t>() == max - 1);
  CHECK(summary["rows"][0].dump().find("[18446744073709551615,18446744073709551614]") !=
        std::string::npos);
  CHECK(summary["runs"].is_number_integer());
  const std::string csv = SummaryCsv(summary);
  CHECK_THAT(csv, Catch::Contains("\n100,18446744073709551613,2,0,"));
}

// A shard that ends early summarizes while another still runs a point: that
// point is running, not cut off.
TEST_CASE("Points claimed by live processes are listed as running, not incomplete", "[sweep]") {
  const LoadedReport running = Point(100, 2, 0.5, 1.0, "running");
  const LoadedReport cut_off = Point(100, 3, 0.5, 1.0, "running");
  const std::vector<LoadedReport> reports = {Point(100, 1, 0.90, 1.0), running, cut_off};
  // The point with a report ("r/100-2") and one not started yet ("r/100-4").
  const std::vector<LiveClaim> claims = {{"r/100-2", {"node7", 4242, 1.0}},
                                         {"r/100-4", {"node8", 17, 2.0}}};
  const json summary = Summarize(reports, SweepMetric::kTestAccuracy, std::nullopt, claims);
  CHECK(summary["runs"] == 1);
  CHECK(summary["incomplete"] == 1);
  REQUIRE(summary["running"].size() == 2);
  CHECK(summary["running"][0] == json({{"run_dir", "r/100-2"}, {"host", "node7"}, {"pid", 4242}}));
  const std::string text = SummaryMarkdown(summary);
  CHECK_THAT(text, Catch::Contains(" 1 incomplete runs (interrupted or cut off) are left out. 2 "
                                   "still running are left out: 100-2 running on node7 (pid "
                                   "4242), 100-4 running on node8 (pid 17).\n"));
  CHECK_THAT(SummaryMarkdown(Summarize({running}, SweepMetric::kTestAccuracy, std::nullopt, {claims[0]})),
             Catch::EndsWith("slowest run. 1 still running is left out: 100-2 running on node7 "
                             "(pid 4242).\n"));
}

TEST_CASE("Time to target is averaged over the runs that reached it", "[sweep]") {
  std::vector<LoadedReport> reports = {Point(100, 1, 0.9, 1.0), Point(100, 2, 0.9, 1.0),
                                       Point(100, 3, 0.9, 1.0), Point(200, 1, 0.9, 1.0)};
  const double seconds[] = {3.0, 1.0, 2.0};
  for (int i = 0; i < 3; ++i) {
    reports[i].json["target"] = {{"accuracy", 0.9}, {"reached", true}, {"seconds", seconds[i]}};
  }
  reports[3].json["target"] = {{"accuracy", 0.9}, {"reached", false}, {"seconds", nullptr}};
  const json summary = Summarize(reports, SweepMetric::kTimeToTarget);
  REQUIRE(summary["rows"].size() == 2);
  const json& reached = summary["rows"][0];
  CHECK(reached["time_to_target"]["mean"].get<double>() == Approx(2.0));
  CHECK(reached["time_to_target"]["reached"] == 3);
  CHECK(reached["mlperf_seconds"].get<double>() == Approx(2.0));
  CHECK(reached["mlperf_of"] == "time_to_target");
  // Never reached: no time, sorted last.
  CHECK(summary["rows"][1]["time_to_target"]["mean"].is_null());
  CHECK_THAT(SummaryMarkdown(summary), Catch::Contains("- (0/1 reached)"));
}

TEST_CASE("The CSV has one row per config and quotes text with commas", "[sweep]") {
  std::vector<LoadedReport> reports = {Point(100, 1, 0.9, 1.0)};
  reports[0].json["sweep"]["varied"]["optimizer"] = {{"name", "sgd"}, {"momentum", 0.9}};
  const std::string csv = SummaryCsv(Summarize(reports, SweepMetric::kTestAccuracy));
  CHECK(csv ==
        "model.0.units,optimizer,runs,diverged,test_accuracy_mean,test_accuracy_std,"
        "test_accuracy_ci95_low,test_accuracy_ci95_high,"
        "final_loss_mean,seconds_per_epoch_mean,time_to_target_mean,targets_reached,"
        "mlperf_seconds,train_seconds_median,train_seconds_min,train_seconds_max,"
        "accuracy_at_least_threshold,config_hash\n"
        "100,\"{\"\"momentum\"\":0.9,\"\"name\"\":\"\"sgd\"\"}\",1,0,0.9,0,,,0.25,1,,0,2,2,2,2,,"
        "h100-1\n");
}

// What a speedrun's seeds are judged by: the share at 0.99 and the spread
// of the training time.
TEST_CASE("The share of runs at the accuracy threshold and the median training time",
          "[sweep]") {
  std::vector<LoadedReport> reports = {Point(100, 1, 0.991, 0.5), Point(100, 2, 0.99, 0.25),
                                       Point(100, 3, 0.989, 2.0), Point(100, 4, 0.5, 1.0)};
  reports[3].json["status"] = "diverged";
  reports[3].json.erase("test");
  // The span from the first step to the final weights, where a report has it.
  reports[1].json["timing"] = {{"training_seconds", 0.75}};
  const json summary = Summarize(reports, SweepMetric::kTestAccuracy, std::nullopt, {}, 0.99);
  REQUIRE(summary["rows"].size() == 1);
  const json& row = summary["rows"][0];
  CHECK(row["accuracy_threshold"] == json({{"threshold", 0.99}, {"at_least", 2}, {"of", 4}}));
  // Training seconds of the three that did not diverge: 1.0 (two epochs of
  // 0.5), 0.75 and 4.0.
  CHECK(row["train_seconds"]["median"] == 1.0);
  CHECK(row["train_seconds"]["min"] == 0.75);
  CHECK(row["train_seconds"]["max"] == 4.0);
  const std::string text = SummaryMarkdown(summary);
  CHECK_THAT(text, Catch::Contains("| test accuracy (mean ± std, 95% interval of the mean) | ≥ 0.99 |"));
  CHECK_THAT(text, Catch::Contains(" | 2/4 (50%) | "));
  CHECK_THAT(text, Catch::Contains(" | 1.00 (0.75-4.00) |\n"));
  CHECK_THAT(SummaryCsv(summary), Catch::EndsWith(",1,0.75,4,2,h100-1\n"));
  // Without a threshold, no column.
  CHECK_FALSE(Summarize(reports, SweepMetric::kTestAccuracy)["rows"][0].contains(
      "accuracy_threshold"));
  CHECK_THAT(SummaryMarkdown(Summarize(reports, SweepMetric::kTestAccuracy)),
             !Catch::Contains("≥"));
}

TEST_CASE("WriteSummary writes summary.csv and summary.json, sorted by sweep.json's metric",
          "[sweep]") {
  TempDir dir;
  const std::vector<LoadedReport> reports = {Point(100, 1, 0.99, 5.0), Point(200, 1, 0.90, 1.0)};
  for (const LoadedReport& report : reports) {
    const std::string run = dir.path().string() + "/" + std::to_string(report.json["config"]["model"][0]["units"].get<int>());
    std::filesystem::create_directories(run);
    WriteFileAtomic(run + "/report.json", report.json.dump());
  }
  WriteFileAtomic(dir.path().string() + "/sweep.json",
                  json({{"metric", "seconds_per_epoch"}, {"accuracy_threshold", 0.95}}).dump());
  std::FILE* sink = std::tmpfile();
  WriteSummary(dir.path().string(), sink);
  std::fclose(sink);
  const json summary = json::parse(ReadFile(dir.path().string() + "/summary.json"));
  CHECK(summary["metric"] == "seconds_per_epoch");
  CHECK(summary["rows"][0]["varied"]["model.0.units"] == 200);
  CHECK(summary["accuracy_threshold"] == 0.95);
  CHECK(summary["rows"][1]["accuracy_threshold"]["at_least"] == 1);
  CHECK_THAT(ReadFile(dir.path().string() + "/summary.csv"), Catch::StartsWith("model.0.units,runs,"));
}

TEST_CASE("WriteSummary keeps the points of sweep.json unless told to keep all", "[sweep]") {
  TempDir dir;
  const std::vector<LoadedReport> reports = {Point(100, 1, 0.99, 5.0), Point(200, 1, 0.90, 1.0)};
  for (const LoadedReport& report : reports) {
    const std::string run = dir.File(report.json["sweep"]["point_id"].get<std::string>());
    std::filesystem::create_directories(run);
    WriteFileAtomic(run + "/report.json", report.json.dump());
  }
  // The spec now has one of the two points.
  WriteFileAtomic(dir.File("sweep.json"),
                  json({{"metric", "test_accuracy"}, {"points", {{{"point_id", "id200-1"}}}}})
                      .dump());
  std::FILE* sink = std::tmpfile();
  WriteSummary(dir.path().string(), sink);
  json summary = json::parse(ReadFile(dir.File("summary.json")));
  CHECK(summary["rows"].size() == 1);
  CHECK(summary["rows"][0]["varied"]["model.0.units"] == 200);
  CHECK(summary["not_in_spec"] == 1);
  CHECK(summary["notes"] ==
        json({"1 runs not in the current spec left out (runner summarize --all keeps them)."}));

  WriteSummary(dir.path().string(), sink, SummaryScope::kAllRuns);
  summary = json::parse(ReadFile(dir.File("summary.json")));
  CHECK(summary["rows"].size() == 2);
  CHECK(summary["not_in_spec"] == 0);

  WriteFileAtomic(dir.File("sweep.json"), json({{"points", {{{"index", 0}}}}}).dump());
  CHECK_THROWS_MATCHES(WriteSummary(dir.path().string(), sink), InputError,
                       Catch::Message(dir.File("sweep.json") +
                                      ": points.0.point_id: missing or not a string"));
  std::fclose(sink);
}

TEST_CASE("runner summarize names the file and field of a wrong-typed value", "[sweep]") {
  TempDir dir;
  LoadedReport bad = Point(100, 1, 0.9, 1.0);
  bad.json["epochs"][1]["seconds"] = "1.0";
  std::filesystem::create_directories(dir.File("run"));
  WriteFileAtomic(dir.File("run/report.json"), bad.json.dump());
  std::FILE* sink = std::tmpfile();
  CHECK_THROWS_MATCHES(WriteSummary(dir.path().string(), sink), InputError,
                       Catch::Message(dir.File("run/report.json") +
                                      ": epochs.1.seconds: expected a number, got \"1.0\""));
  std::fclose(sink);
  CHECK_FALSE(std::filesystem::exists(dir.File("summary.json")));
}

TEST_CASE("Summarizing a directory without reports is an error naming it", "[sweep]") {
  TempDir dir;
  try {
    WriteSummary(dir.path().string(), stdout);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == dir.path().string() + ": no report.json files in this directory");
  }
}

}  // namespace
}  // namespace mb
