// `runner compare`: pairing runs by config_hash across sides, the numbers in
// the table, bitwise loss comparison, fingerprint differences, unpaired and
// repeated runs, and the errors.
#include "sweep/compare.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "report/atomic_file.h"
#include "temp_dir.h"

namespace mb {
namespace {

using json = nlohmann::json;

// A completed run of config `hash` with one epoch per loss, each taking
// `epoch_seconds`, on a fixed machine with `threads` threads. Runs pair by
// their config without the seed, so the configs of different hashes differ
// (in a stand-in for the model).
json Report(const std::string& hash, double accuracy, const std::vector<double>& losses,
            double epoch_seconds, int threads = 1, const std::string& name = "tiny") {
  json epochs = json::array();
  for (size_t i = 0; i < losses.size(); ++i) {
    epochs.push_back({{"epoch", i + 1}, {"loss", losses[i]}, {"seconds", epoch_seconds}});
  }
  return {{"schema_version", 1},
          {"status", "completed"},
          {"config", {{"name", name}, {"seed", 1}, {"threads", threads}, {"model", hash}}},
          {"config_hash", hash},
          {"machine",
           {{"cpu_model", "Intel(R) Xeon(R) Processor"},
            {"simd_target", "AVX3"},
            {"compiler", "gcc 12.2.0"},
            {"compiler_flags", "buildtype=release optimization=3"},
            {"threads", threads},
            {"git_commit", "4c8a4d6a68897bed96a4688d91e5239fcc46ea55"},
            {"git_dirty", false},
            {"hostname", "vm"},
            {"highway_version", "1.0.3"},
            {"openmp_version", 201511},
            {"ftz_daz", {{"ftz", true}, {"daz", true}}}}},
          {"epochs", epochs},
          {"test", {{"loss", 0.25}, {"accuracy", accuracy}}},
          {"total_seconds", 1.0}};
}

LoadedReport Loaded(const std::string& path, const json& report) { return {path, report}; }

// The typed view the run-pair functions take.
RunResults Results(const json& report) { return ParseRunResults(Loaded("report.json", report)); }

// The lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    if (line.rfind(prefix, 0) == 0) lines.push_back(line);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

const std::string kHash1 = "2b80f3c3042a19b5bc60b1f7cac9d1be45ed2c5f5ac0ca5709c6fcfb18c32c18";
const std::string kHash2 = "ac0d7053aaaaaaaabbbbbbbbccccccccddddddddeeeeeeeeffffffff00000000";
const std::string kHash3 = "77777777aaaaaaaabbbbbbbbccccccccddddddddeeeeeeeeffffffff00000000";

TEST_CASE("Runs pair by config_hash; diff, ratio and formats", "[sweep]") {
  const std::vector<LoadedReport> a = {
      Loaded("a/tiny/report.json", Report(kHash1, 0.9321, {0.5, 0.25}, 0.2)),
      Loaded("a/other/report.json", Report(kHash2, 0.9, {0.5}, 1.0, 1, "other"))};
  const std::vector<LoadedReport> b = {
      Loaded("b/tiny/report.json", Report(kHash1, 0.93, {0.5, 0.25}, 0.5, 2)),
      Loaded("b/third/report.json", Report(kHash3, 0.8, {0.5}, 1.0, 1, "third"))};
  const std::string text = CompareReportSets({a, b}, {"machine-a", "machine-b"});
  CHECK_THAT(text, Catch::StartsWith("A: machine-a (2 runs)\nB: machine-b (2 runs)\n"));
  const std::vector<std::string> rows = LinesStartingWith(text, "| ");
  REQUIRE(rows.size() == 2);  // header and the one paired config
  CHECK(rows[0] ==
        "| run | config | runs A/B | test acc A | test acc B | diff | s/epoch A | s/epoch B |"
        " ratio B/A | losses bitwise identical | status |");
  CHECK(rows[1] ==
        "| tiny | 2b80f3c3 | 1/1 | 0.9321 | 0.9300 | -0.0021 | 0.200 | 0.500 | 2.50 | yes |"
        " completed |");
  CHECK_THAT(text, Catch::Contains("- B vs A, tiny (2b80f3c3): threads: 1 -> 2\n"));
  CHECK_THAT(text, Catch::Contains("1 pair compared."));
  CHECK_THAT(text, Catch::Contains("Runs with no partner on another side: A 1 run (other "
                                   "(ac0d7053)); B 1 run (third (77777777)).\n"));
  CHECK_THAT(text, !Catch::Contains("Merged repeats"));
}

TEST_CASE("Accuracy gains are signed, equal accuracies are +0, big epochs stay readable",
          "[sweep]") {
  const std::vector<LoadedReport> a = {Loaded("a", Report(kHash1, 0.9, {0.5}, 1234.4))};
  const std::vector<LoadedReport> b = {Loaded("b", Report(kHash1, 0.95, {0.5}, 12.345))};
  const std::vector<LoadedReport> same = {Loaded("c", Report(kHash1, 0.9, {0.5}, 0.0001234))};
  CHECK_THAT(CompareReportSets({a, b}, {"a", "b"}),
             Catch::Contains("| 0.9000 | 0.9500 | +0.0500 | 1234 | 12.3 | 0.01 |"));
  CHECK_THAT(CompareReportSets({a, same}, {"a", "c"}),
             Catch::Contains("| 0.9000 | 0.9000 | +0.0000 | 1234 | 0.000123 | 0.00 |"));
}

TEST_CASE("A loss difference is explained by the numerics classes", "[sweep]") {
  json fma = Report(kHash1, 0.9, {0.5, 0.25}, 1.0);
  fma["machine"]["numerics_class"] = "fma";
  json other = fma;
  other["epochs"][1]["loss"] = std::nextafter(0.25, 1.0);
  // The same class and commit: the promise is broken.
  CHECK(NumericsExplanation(Results(fma), Results(other)) ==
        "same numerics and commit: unexpected");
  CHECK(CompareLosses(Results(fma), Results(other)) ==
        "no (epoch 2, rel 2.2e-16; same numerics and commit: unexpected)");
  // Another class: no promise.
  other["machine"]["numerics_class"] = "no-fma";
  CHECK(CompareLosses(Results(fma), Results(other)) ==
        "no (epoch 2, rel 2.2e-16; numerics fma vs no-fma)");
  // The same class from another commit, or from a dirty tree: the code may differ.
  other["machine"]["numerics_class"] = "fma";
  other["machine"]["git_commit"] = "0000000000000000000000000000000000000000";
  CHECK(NumericsExplanation(Results(fma), Results(other)) == "same numerics, other build");
  other["machine"]["git_commit"] = fma["machine"]["git_commit"];
  other["machine"]["git_dirty"] = true;
  CHECK(NumericsExplanation(Results(fma), Results(other)) == "same numerics, other build");
  // A report from before the class was recorded: no explanation.
  other["machine"].erase("numerics_class");
  CHECK(CompareLosses(Results(fma), Results(other)) == "no (epoch 2, rel 2.2e-16)");
  // And the class is a fingerprint field.
  other["machine"]["numerics_class"] = "no-fma";
  const std::vector<std::string> fields = FingerprintDifferences(Results(fma), Results(other));
  CHECK(std::find(fields.begin(), fields.end(), "numerics_class: fma -> no-fma") != fields.end());
}

TEST_CASE("Losses: identical, one bit apart, different epoch counts", "[sweep]") {
  const json base = Report(kHash1, 0.9, {0.5, 0.25, 0.125}, 1.0);
  CHECK(CompareLosses(Results(base), Results(Report(kHash1, 0.9, {0.5, 0.25, 0.125}, 2.0, 2))) ==
        "yes");

  json one_bit = base;
  one_bit["epochs"][1]["loss"] = std::nextafter(0.25, 1.0);
  CHECK_THAT(CompareLosses(Results(base), Results(one_bit)),
             Catch::StartsWith("no (epoch 2, rel 2.2e-16)"));

  CHECK(CompareLosses(Results(base), Results(Report(kHash1, 0.9, {0.5, 0.25}, 1.0))) ==
        "n/a (3 vs 2 epochs)");
  const RunResults no_epochs = Results(Report(kHash1, 0.9, {}, 1.0));
  CHECK(CompareLosses(no_epochs, no_epochs) == "n/a (no epochs)");

  // A validation loss counts too, and a missing one differs from a present one.
  json with_val = base;
  with_val["epochs"][2]["val_loss"] = 0.3;
  json val_differs = with_val;
  val_differs["epochs"][2]["val_loss"] = 0.31;
  CHECK(CompareLosses(Results(with_val), Results(with_val)) == "yes");
  CHECK_THAT(CompareLosses(Results(with_val), Results(val_differs)),
             Catch::StartsWith("no (epoch 3 val_loss"));
  CHECK_THAT(CompareLosses(Results(base), Results(with_val)),
             Catch::StartsWith("no (epoch 3 val_loss"));

  // In the table, from the loss of one side's run.
  const std::string text =
      CompareReportSets({{Loaded("a", base)}, {Loaded("b", one_bit)}}, {"a", "b"});
  CHECK_THAT(text, Catch::Contains("| no (epoch 2, rel 2.2e-16) | completed |"));
}

TEST_CASE("Fingerprint differences name the fields that differ, nothing when identical",
          "[sweep]") {
  const json base = Report(kHash1, 0.9, {0.5}, 1.0, 1);
  CHECK(FingerprintDifferences(Results(base), Results(base)).empty());
  CHECK(FingerprintDifferences(Results(base), Results(Report(kHash1, 0.9, {0.5}, 1.0, 2))) ==
        std::vector<std::string>{"threads: 1 -> 2"});

  json other = base;
  other["machine"]["simd_target"] = "AVX2";
  other["machine"]["hostname"] = "big";
  other["machine"]["ftz_daz"]["daz"] = false;
  other["machine"].erase("highway_version");
  other["config"]["name"] = "renamed";
  CHECK(FingerprintDifferences(Results(base), Results(other)) ==
        std::vector<std::string>{"simd_target: AVX3 -> AVX2", "highway_version: 1.0.3 -> (missing)",
                                 "hostname: vm -> big",
                                 "ftz_daz: {\"daz\":true,\"ftz\":true} -> "
                                 "{\"daz\":false,\"ftz\":true}",
                                 "name: tiny -> renamed"});

  // Without machine.threads, the config's thread count stands in.
  json no_machine_threads = Report(kHash1, 0.9, {0.5}, 1.0, 4);
  no_machine_threads["machine"].erase("threads");
  CHECK(FingerprintDifferences(Results(base), Results(no_machine_threads)) ==
        std::vector<std::string>{"threads: 1 -> 4"});

  const std::string text = CompareReportSets({{Loaded("a", base)}, {Loaded("b", base)}},
                                             {"a", "b"});
  CHECK_THAT(text, Catch::Contains("- B vs A, tiny (2b80f3c3): no fingerprint field differs\n"));
}

TEST_CASE("Configs whose pairs differ alike share one fingerprint line", "[sweep]") {
  std::vector<LoadedReport> a, b;
  for (const std::string name : {"w1", "w2", "w3"}) {
    const std::string hash = name + kHash1.substr(2);
    a.push_back(Loaded("a/" + name, Report(hash, 0.9, {0.5}, 1.0, 1, name)));
    b.push_back(Loaded("b/" + name, Report(hash, 0.9, {0.5}, 1.0, 2, name)));
  }
  b[2].json["machine"]["compiler"] = "clang 14.0.6";
  const std::string text = CompareReportSets({a, b}, {"a", "b"});
  CHECK(LinesStartingWith(text, "- ") ==
        std::vector<std::string>{
            "- B vs A, w1 (w180f3c3), w2 (w280f3c3): threads: 1 -> 2",
            "- B vs A, w3 (w380f3c3): threads: 1 -> 2; compiler: gcc 12.2.0 -> clang 14.0.6"});
}

TEST_CASE("Repeated runs on one side merge as medians and are counted", "[sweep]") {
  std::vector<LoadedReport> a = {Loaded("a/3", Report(kHash1, 0.93, {0.5}, 3.0)),
                                 Loaded("a/1", Report(kHash1, 0.91, {0.5}, 1.0)),
                                 Loaded("a/2", Report(kHash1, 0.97, {0.5}, 2.0))};
  // The first run by path did not complete: it neither gives an accuracy nor
  // stands for the side in the loss and fingerprint comparisons.
  a.push_back(Loaded("a/0", Report(kHash1, 0.0, {0.75}, 2.0, 8)));
  a.back().json["status"] = "running";
  a.back().json["test"] = {{"loss", nullptr}, {"accuracy", nullptr}};
  const std::vector<LoadedReport> b = {Loaded("b", Report(kHash1, 0.95, {0.5}, 4.0, 2))};
  const std::string text = CompareReportSets({a, b}, {"a", "b"});
  const std::vector<std::string> rows = LinesStartingWith(text, "| tiny");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] ==
        "| tiny | 2b80f3c3 | 4/1 | 0.9300 | 0.9500 | +0.0200 | 2.00 | 4.00 | 2.00 | yes |"
        " A 1/4 running |");
  CHECK_THAT(text, Catch::Contains("- B vs A, tiny (2b80f3c3): threads: 1 -> 2\n"));
  CHECK_THAT(text, Catch::Contains("Merged repeats: 4 runs in 1 group"));
}

TEST_CASE("A diverged run shows its status and no accuracy", "[sweep]") {
  json diverged = Report(kHash1, 0.0, {0.5, 1.0}, 1.0);
  diverged["status"] = "diverged";
  diverged["epochs"][1]["loss"] = nullptr;
  diverged["test"] = nullptr;
  const std::string text =
      CompareReportSets({{Loaded("a", Report(kHash1, 0.9, {0.5, 0.25}, 1.0))},
                         {Loaded("b", diverged)}},
                        {"a", "b"});
  CHECK_THAT(text, Catch::Contains("| 1/1 | 0.9000 | - | - | 1.00 | 1.00 | 1.00 |"
                                   " no (epoch 2) | B diverged |"));
}

TEST_CASE("Three sides: each config against the first side that has it", "[sweep]") {
  const std::vector<LoadedReport> a = {Loaded("a", Report(kHash1, 0.9, {0.5}, 1.0))};
  const std::vector<LoadedReport> b = {Loaded("b1", Report(kHash1, 0.9, {0.5}, 2.0, 2)),
                                       Loaded("b2", Report(kHash2, 0.8, {0.5}, 1.0, 1, "w"))};
  const std::vector<LoadedReport> c = {Loaded("c", Report(kHash2, 0.8, {0.5}, 3.0, 1, "w"))};
  const std::string text = CompareReportSets({a, b, c}, {"a", "b", "c"});
  const std::vector<std::string> rows = LinesStartingWith(text, "| ");
  REQUIRE(rows.size() == 3);
  CHECK_THAT(rows[0], Catch::StartsWith("| run | config | pair | runs base/other |"));
  CHECK_THAT(rows[1], Catch::StartsWith("| tiny | 2b80f3c3 | B vs A | 1/1 |"));
  CHECK_THAT(rows[2], Catch::StartsWith("| w | ac0d7053 | C vs B | 1/1 |"));
  CHECK_THAT(rows[2], Catch::Contains("| 3.00 |"));
  CHECK_THAT(text, Catch::Contains("- B vs A, tiny (2b80f3c3): threads: 1 -> 2\n"));
  CHECK_THAT(text, Catch::Contains("- C vs B, w (ac0d7053): no fingerprint field differs\n"));
  CHECK_THAT(text, Catch::Contains("Runs with no partner on another side: none.\n"));
}

TEST_CASE("Sweep points are named by their varied values", "[sweep]") {
  json point = Report(kHash1, 0.9, {0.5}, 1.0, 1, "lr");
  point["sweep"] = {{"name", "lr"}, {"varied", {{"optimizer.learning_rate", 0.01}, {"seed", 2}}}};
  const std::string text = CompareReportSets({{Loaded("a", point)}, {Loaded("b", point)}},
                                             {"a", "b"});
  CHECK_THAT(text, Catch::Contains("| lr optimizer.learning_rate=0.01 seed=2 | 2b80f3c3 |"));
  point["sweep"]["varied"] = {{"label", "a|b"}};
  CHECK_THAT(CompareReportSets({{Loaded("a", point)}, {Loaded("b", point)}}, {"a", "b"}),
             Catch::Contains("| lr label=a\\|b | 2b80f3c3 |"));
}

TEST_CASE("Nothing in common is said, not an error", "[sweep]") {
  const std::string text = CompareReportSets({{Loaded("a", Report(kHash1, 0.9, {0.5}, 1.0))},
                                              {Loaded("b", Report(kHash2, 0.9, {0.5}, 1.0))}},
                                             {"a", "b"});
  CHECK_THAT(text, Catch::Contains("No config_hash appears on more than one side"));
  CHECK_THAT(text, Catch::Contains("A 1 run (tiny (2b80f3c3)); B 1 run (tiny (ac0d7053))"));
}

TEST_CASE("Comparing needs two sides, each with reports", "[sweep]") {
  const std::vector<LoadedReport> one = {Loaded("a", Report(kHash1, 0.9, {0.5}, 1.0))};
  CHECK_THROWS_WITH(CompareReportSets({one}, {"a"}),
                    "compare: needs at least 2 sets of reports to compare, got 1");
  CHECK_THROWS_WITH(CompareReportSets({one, {}}, {"a", "empty-dir"}),
                    "empty-dir: no report.json files");

  TempDir dir;
  CHECK_THROWS_WITH(RunCompareCommand({dir.path().string()}, stdout),
                    "compare: needs at least 2 report files or directories, got 1");
  std::filesystem::create_directories(dir.File("empty"));
  WriteFileAtomic(dir.File("report.json"), Report(kHash1, 0.9, {0.5}, 1.0).dump());
  CHECK_THROWS_WITH(RunCompareCommand({dir.File("report.json"), dir.File("empty")}, stdout),
                    dir.File("empty") + ": no report.json files");
  CHECK_THROWS_WITH(RunCompareCommand({dir.File("report.json"), dir.File("missing")}, stdout),
                    dir.File("missing") + ": no such file or directory");
  WriteFileAtomic(dir.File("bad.json"), "{");
  CHECK_THROWS_AS(RunCompareCommand({dir.File("report.json"), dir.File("bad.json")}, stdout),
                  InputError);
}

TEST_CASE("RunCompareCommand reads run directories and prints the comparison", "[sweep]") {
  TempDir dir;
  for (const int threads : {1, 2}) {
    const std::string run =
        dir.File("t" + std::to_string(threads) + "/tiny-20261129T040613-2b80f3c3");
    std::filesystem::create_directories(run);
    WriteFileAtomic(run + "/report.json", Report(kHash1, 0.9321, {0.5}, 0.2, threads).dump(2));
  }
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  CHECK(RunCompareCommand({dir.File("t1"), dir.File("t2")}, out) == kExitOk);
  std::rewind(out);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, out)) > 0;) text.append(buffer, n);
  std::fclose(out);
  CHECK_THAT(text, Catch::StartsWith("A: " + dir.File("t1") + " (1 run)\n"));
  CHECK_THAT(text, Catch::Contains("| tiny | 2b80f3c3 | 1/1 | 0.9321 | 0.9321 | +0.0000 |"));
  CHECK_THAT(text, Catch::Contains("- B vs A, tiny (2b80f3c3): threads: 1 -> 2\n"));
}

// Seed `seed`'s run of the config `config` (a Report hash): each seed has its
// own config_hash, as the runner's runs do, and the same config_id.
LoadedReport SeedRun(const std::string& side, const std::string& config, uint64_t seed,
                     double accuracy, const std::vector<double>& losses = {0.5}) {
  json report = Report(config, accuracy, losses, 1.0);
  report["config"]["seed"] = seed;
  report["config_hash"] = std::to_string(seed) + config.substr(1);
  return Loaded(side + "/" + std::to_string(seed) + "/report.json", report);
}

std::vector<LoadedReport> Seeds(const std::string& side, const std::vector<double>& accuracies) {
  std::vector<LoadedReport> runs;
  for (size_t i = 0; i < accuracies.size(); ++i) {
    runs.push_back(SeedRun(side, kHash1, i + 1, accuracies[i]));
  }
  return runs;
}

std::vector<RunResults> Parsed(const std::vector<LoadedReport>& reports) {
  return ParseRunResults(reports);
}

// The config_id of Report(kHash1, ...)'s config, which the table shows for
// a config run with several seeds.
std::string ConfigIdOfHash1() { return ConfigId(Report(kHash1, 0.9, {0.5}, 1.0)["config"]); }

TEST_CASE("The seeds of one config are one row, with Welch's t-test of their accuracies",
          "[sweep]") {
  const std::vector<LoadedReport> a = Seeds("a", {0.90, 0.91, 0.92});
  const std::vector<LoadedReport> b = Seeds("b", {0.95, 0.96, 0.94});
  const std::string id = ConfigIdOfHash1().substr(0, 8);
  const std::string text = CompareReportSets({a, b}, {"a", "b"});
  const std::vector<std::string> rows = LinesStartingWith(text, "| tiny");
  REQUIRE(rows.size() == 1);
  // Medians in the table; the seeds' losses compared seed by seed.
  CHECK(rows[0] == "| tiny | " + id +
                       " | 3/3 | 0.9100 | 0.9500 | +0.0400 | 1.00 | 1.00 | 1.00 | yes (3 seeds) |"
                       " completed |");
  // scipy.stats.ttest_ind([.95, .96, .94], [.90, .91, .92], equal_var=False):
  // t = 4.898979485566328, p = 0.00804989310083788; df = 4 (equal variances
  // and sizes: 2n - 2).
  CHECK_THAT(text, Catch::Contains(
                       "\nTest accuracy over the seeds (Welch's t-test, two-sided, on one accuracy "
                       "per seed: the median of its runs; diff is B - A):\n"
                       "B vs A, tiny (" + id + "): mean A 0.9100 (3 seeds), mean B 0.9500 (3 "
                       "seeds), diff +0.0400, t = 4.9, df = 4: B's test accuracy is higher than "
                       "A's (p = 0.008).\n"));
  CHECK_THAT(text, Catch::Contains("A config whose runs span several seeds is shown by its "
                                   "config_id (its config_hash without the seed)"));

  const json comparison = CompareRuns({Parsed(a), Parsed(b)}, {"a", "b"});
  REQUIRE(comparison["pairs"].size() == 1);
  const json& pair = comparison["pairs"][0];
  CHECK(pair["config_hash"].is_null());
  CHECK(pair["config_id"] == ConfigIdOfHash1());
  const json& welch = pair["welch"];
  CHECK(welch["possible"] == true);
  CHECK(welch["seeds"] == json({{"base", 3}, {"other", 3}}));
  CHECK(welch["mean"]["base"].get<double>() == Approx(0.91));
  CHECK(welch["mean"]["other"].get<double>() == Approx(0.95));
  CHECK(welch["difference"].get<double>() == Approx(0.04));
  CHECK(welch["t"].get<double>() == Approx(4.898979485566328).epsilon(1e-9));
  CHECK(welch["df"].get<double>() == Approx(4.0).epsilon(1e-9));
  CHECK(welch["p"].get<double>() == Approx(0.00804989310083788).epsilon(1e-9));
  CHECK(welch["significant"] == true);
  CHECK(welch["verdict"] == "B's test accuracy is higher than A's (p = 0.008)");

  // The other way round, A is the higher side.
  CHECK(CompareRuns({Parsed(b), Parsed(a)}, {"b", "a"})["pairs"][0]["welch"]["verdict"] ==
        "A's test accuracy is higher than B's (p = 0.008)");
}

TEST_CASE("Welch's test: no significant difference, and too few seeds to test", "[sweep]") {
  // scipy: t = 0.31622776601684494, p = 0.7700256383911716; df =
  // (v_a + v_b)^2 / (v_a^2 / 2 + v_b^2 / 2) = 3.4482758620689653 with
  // v_a = 0.0001 / 3 and v_b = 0.00023333 / 3.
  const json close = CompareRuns({Parsed(Seeds("a", {0.90, 0.92, 0.91})),
                                  Parsed(Seeds("b", {0.91, 0.90, 0.93}))},
                                 {"a", "b"});
  const json& welch = close["pairs"][0]["welch"];
  CHECK(welch["df"].get<double>() == Approx(3.4482758620689653).epsilon(1e-9));
  CHECK(welch["p"].get<double>() == Approx(0.7700256383911716).epsilon(1e-9));
  CHECK(welch["significant"] == false);
  CHECK(welch["verdict"] == "no significant difference at the 5% level (p = 0.77)");
  CHECK_THAT(ComparisonText(close),
             Catch::Contains(", diff +0.0033, t = 0.316, df = 3.45: no significant difference at "
                             "the 5% level (p = 0.77).\n"));

  // One seed on A: no variance to test against; the line says why.
  const std::vector<LoadedReport> one = Seeds("a", {0.90});
  const std::vector<LoadedReport> three = Seeds("b", {0.95, 0.96, 0.94});
  const json untestable = CompareRuns({Parsed(one), Parsed(three)}, {"a", "b"});
  const json& none = untestable["pairs"][0]["welch"];
  CHECK(none["possible"] == false);
  CHECK(none["seeds"] == json({{"base", 1}, {"other", 3}}));
  CHECK(none["t"].is_null());
  CHECK(none["p"].is_null());
  const std::string why = "no test possible: A has 1 seed with a test accuracy, B 3; Welch's "
                          "t-test needs 2 or more on each side";
  CHECK(none["verdict"] == why);
  CHECK_THAT(ComparisonText(untestable),
             Catch::Contains("\nB vs A, tiny (" + ConfigIdOfHash1().substr(0, 8) + "): " + why +
                             ".\n"));
  // Only seed 1 ran on both sides, so only its losses are compared.
  CHECK(untestable["pairs"][0]["losses_bitwise_identical"] == "yes");

  // A diverged seed has no accuracy: it does not count.
  std::vector<LoadedReport> diverged = Seeds("c", {0.90, 0.0});
  diverged[1].json["status"] = "diverged";
  diverged[1].json["test"] = nullptr;
  CHECK(CompareRuns({Parsed(diverged), Parsed(three)}, {"c", "b"})["pairs"][0]["welch"]["seeds"] ==
        json({{"base", 1}, {"other", 3}}));
}

TEST_CASE("Single runs pair as before, and say why no test is possible", "[sweep]") {
  const std::vector<LoadedReport> a = {Loaded("a", Report(kHash1, 0.9, {0.5}, 1.0)),
                                       Loaded("a2", Report(kHash2, 0.9, {0.5}, 1.0, 1, "w"))};
  const std::vector<LoadedReport> b = {Loaded("b", Report(kHash1, 0.9, {0.5}, 2.0, 2)),
                                       Loaded("b2", Report(kHash2, 0.9, {0.5}, 1.0, 1, "w"))};
  const std::string text = CompareReportSets({a, b}, {"a", "b"});
  // The two configs' reasons are the same: one line.
  CHECK_THAT(text, Catch::Contains("\nB vs A, tiny (2b80f3c3), w (ac0d7053): no test possible: A "
                                   "has 1 seed with a test accuracy, B 1; Welch's t-test needs 2 "
                                   "or more on each side.\n"));
  CHECK_THAT(text, !Catch::Contains("config_id"));
}

TEST_CASE("Welch's test without variance on either side", "[sweep]") {
  const json equal = CompareRuns({Parsed(Seeds("a", {0.9, 0.9})), Parsed(Seeds("b", {0.9, 0.9}))},
                                 {"a", "b"});
  const json& same = equal["pairs"][0]["welch"];
  CHECK(same["no_variance"] == true);
  CHECK(same["t"] == 0.0);
  CHECK(same["df"].is_null());
  CHECK(same["p"] == 1.0);
  CHECK(same["verdict"] == "no significant difference at the 5% level (p = 1)");
  CHECK_THAT(ComparisonText(equal),
             Catch::Contains("diff +0.0000, no variance on either side and equal means: no "
                             "significant difference at the 5% level (p = 1).\n"));

  const json apart = CompareRuns({Parsed(Seeds("a", {0.9, 0.9})), Parsed(Seeds("b", {0.95, 0.95}))},
                                 {"a", "b"});
  const json& certain = apart["pairs"][0]["welch"];
  CHECK(certain["no_variance"] == true);
  CHECK(certain["t"].is_null());  // +infinity
  CHECK(certain["p"] == 0.0);
  CHECK(certain["verdict"] == "B's test accuracy is higher than A's (p = 0)");
  CHECK_THAT(ComparisonText(apart),
             Catch::Contains("diff +0.0500, no variance on either side (each side's seeds gave "
                             "one accuracy), so the difference counts as certain: B's test "
                             "accuracy is higher than A's (p = 0).\n"));
}

TEST_CASE("Repeats of one seed are one observation for Welch's test", "[sweep]") {
  std::vector<LoadedReport> a = Seeds("a", {0.90, 0.92});
  LoadedReport again = SeedRun("a-again", kHash1, 1, 0.90);
  again.json["config"]["threads"] = 2;
  a.push_back(again);
  const json comparison =
      CompareRuns({Parsed(a), Parsed(Seeds("b", {0.93, 0.95}))}, {"a", "b"});
  const json& pair = comparison["pairs"][0];
  CHECK(pair["runs"] == json({{"base", 3}, {"other", 2}}));
  const json& welch = pair["welch"];
  CHECK(welch["seeds"] == json({{"base", 2}, {"other", 2}}));
  // scipy.stats.ttest_ind([.93, .95], [.90, .92], equal_var=False):
  // t = 2.1213203435596406, p = 0.1679497056621565 (df 2).
  CHECK(welch["t"].get<double>() == Approx(2.1213203435596406).epsilon(1e-9));
  CHECK(welch["p"].get<double>() == Approx(0.1679497056621565).epsilon(1e-9));
}

TEST_CASE("Seeds' losses are compared seed by seed; a seed-only difference still pairs",
          "[sweep]") {
  const std::vector<LoadedReport> a = Seeds("a", {0.9, 0.9, 0.9});
  std::vector<LoadedReport> b = Seeds("b", {0.9, 0.9, 0.9});
  b[1].json["epochs"][0]["loss"] = std::nextafter(0.5, 1.0);
  const json comparison = CompareRuns({Parsed(a), Parsed(b)}, {"a", "b"});
  CHECK(comparison["pairs"][0]["losses_bitwise_identical"] == "no (seed 2, epoch 1, rel 2.2e-16)");

  // Different seeds on each side: one config, nothing to compare bit for bit.
  const json apart =
      CompareRuns({Parsed({SeedRun("a", kHash1, 1, 0.9), SeedRun("a", kHash1, 2, 0.9)}),
                   Parsed({SeedRun("b", kHash1, 3, 0.9)})},
                  {"a", "b"});
  REQUIRE(apart["pairs"].size() == 1);
  CHECK(apart["pairs"][0]["losses_bitwise_identical"] == "n/a (no seed in common)");
  CHECK(apart["unpaired"].empty());
}

TEST_CASE("A sweep's rows are named by the varied values all their seeds share", "[sweep]") {
  std::vector<LoadedReport> a;
  for (const uint64_t seed : {1, 2}) {
    LoadedReport run = SeedRun("a", kHash1, seed, 0.9);
    run.json["config"]["name"] = "lr";
    run.json["sweep"] = {{"name", "lr"},
                         {"varied", {{"optimizer.learning_rate", 0.01}, {"seed", seed}}}};
    a.push_back(run);
  }
  const std::string text = CompareReportSets({a, a}, {"a", "b"});
  CHECK_THAT(text, Catch::Contains("| lr optimizer.learning_rate=0.01 | " +
                                   ConfigIdOfHash1().substr(0, 8) + " | 2/2 |"));
}

TEST_CASE("The comparison's JSON holds the table's numbers", "[sweep]") {
  const std::vector<LoadedReport> a = {
      Loaded("a/tiny", Report(kHash1, 0.9321, {0.5, 0.25}, 0.2)),
      Loaded("a/other", Report(kHash2, 0.9, {0.5}, 1.0, 1, "other"))};
  const std::vector<LoadedReport> b = {
      Loaded("b/tiny", Report(kHash1, 0.93, {0.5, 0.25}, 0.5, 2))};
  const json comparison = CompareRuns({Parsed(a), Parsed(b)}, {"machine-a", "machine-b"});
  CHECK(comparison["sides"] ==
        json::parse(R"([{"label": "A", "source": "machine-a", "runs": 2},
                        {"label": "B", "source": "machine-b", "runs": 1}])"));
  REQUIRE(comparison["pairs"].size() == 1);
  const json& pair = comparison["pairs"][0];
  CHECK(pair["label"] == "tiny");
  CHECK(pair["config_hash"] == kHash1);
  CHECK(pair["base"] == "A");
  CHECK(pair["other"] == "B");
  CHECK(pair["test_accuracy"]["base"] == 0.9321);
  CHECK(pair["test_accuracy"]["difference"].get<double>() == Approx(-0.0021));
  CHECK(pair["seconds_per_epoch"]["ratio"].get<double>() == Approx(2.5));
  CHECK(pair["losses_bitwise_identical"] == "yes");
  CHECK(pair["status"] == "completed");
  CHECK(pair["fingerprint_differences"] == json({"threads: 1 -> 2"}));
  CHECK(comparison["unpaired"] ==
        json::parse(R"([{"side": "A", "runs": 1, "configs": [{"label": "other", "config_hash": ")" +
                    kHash2 + R"(", "config_id": ")" +
                    ConfigId(Report(kHash2, 0.9, {0.5}, 1.0)["config"]) + R"("}]}])"));
  CHECK(comparison["merged_repeats"] == json({{"groups", 0}, {"runs", 0}}));
}

TEST_CASE("runner compare names the file and field of a wrong-typed value", "[sweep]") {
  TempDir dir;
  json bad = Report(kHash1, 0.9, {0.5}, 1.0);
  bad["test"]["accuracy"] = "0.9";
  std::filesystem::create_directories(dir.File("a"));
  std::filesystem::create_directories(dir.File("b"));
  WriteFileAtomic(dir.File("a/report.json"), Report(kHash1, 0.9, {0.5}, 1.0).dump());
  WriteFileAtomic(dir.File("b/report.json"), bad.dump());
  CHECK_THROWS_MATCHES(RunCompareCommand({dir.File("a"), dir.File("b")}, stdout), InputError,
                       Catch::Message(dir.File("b/report.json") +
                                      ": test.accuracy: expected a number, got \"0.9\""));
}

}  // namespace
}  // namespace mb
