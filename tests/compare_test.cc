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
// `epoch_seconds`, on a fixed machine with `threads` threads.
json Report(const std::string& hash, double accuracy, const std::vector<double>& losses,
            double epoch_seconds, int threads = 1, const std::string& name = "tiny") {
  json epochs = json::array();
  for (size_t i = 0; i < losses.size(); ++i) {
    epochs.push_back({{"epoch", i + 1}, {"loss", losses[i]}, {"seconds", epoch_seconds}});
  }
  return {{"schema_version", 1},
          {"status", "completed"},
          {"config", {{"name", name}, {"seed", 1}, {"threads", threads}}},
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
  CHECK(NumericsExplanation(fma, other) == "same numerics and commit: unexpected");
  CHECK(CompareLosses(fma, other) ==
        "no (epoch 2, rel 2.2e-16; same numerics and commit: unexpected)");
  // Another class: no promise.
  other["machine"]["numerics_class"] = "no-fma";
  CHECK(CompareLosses(fma, other) == "no (epoch 2, rel 2.2e-16; numerics fma vs no-fma)");
  // The same class from another commit, or from a dirty tree: the code may differ.
  other["machine"]["numerics_class"] = "fma";
  other["machine"]["git_commit"] = "0000000000000000000000000000000000000000";
  CHECK(NumericsExplanation(fma, other) == "same numerics, other build");
  other["machine"]["git_commit"] = fma["machine"]["git_commit"];
  other["machine"]["git_dirty"] = true;
  CHECK(NumericsExplanation(fma, other) == "same numerics, other build");
  // A report from before the class was recorded: no explanation.
  other["machine"].erase("numerics_class");
  CHECK(CompareLosses(fma, other) == "no (epoch 2, rel 2.2e-16)");
  // And the class is a fingerprint field.
  other["machine"]["numerics_class"] = "no-fma";
  const std::vector<std::string> fields = FingerprintDifferences(fma, other);
  CHECK(std::find(fields.begin(), fields.end(), "numerics_class: fma -> no-fma") != fields.end());
}

TEST_CASE("Losses: identical, one bit apart, different epoch counts", "[sweep]") {
  const json base = Report(kHash1, 0.9, {0.5, 0.25, 0.125}, 1.0);
  CHECK(CompareLosses(base, Report(kHash1, 0.9, {0.5, 0.25, 0.125}, 2.0, 2)) == "yes");

  json one_bit = base;
  one_bit["epochs"][1]["loss"] = std::nextafter(0.25, 1.0);
  CHECK_THAT(CompareLosses(base, one_bit), Catch::StartsWith("no (epoch 2, rel 2.2e-16)"));

  CHECK(CompareLosses(base, Report(kHash1, 0.9, {0.5, 0.25}, 1.0)) == "n/a (3 vs 2 epochs)");
  CHECK(CompareLosses(Report(kHash1, 0.9, {}, 1.0), Report(kHash1, 0.9, {}, 1.0)) ==
        "n/a (no epochs)");

  // A validation loss counts too, and a missing one differs from a present one.
  json with_val = base;
  with_val["epochs"][2]["val_loss"] = 0.3;
  json val_differs = with_val;
  val_differs["epochs"][2]["val_loss"] = 0.31;
  CHECK(CompareLosses(with_val, with_val) == "yes");
  CHECK_THAT(CompareLosses(with_val, val_differs), Catch::StartsWith("no (epoch 3 val_loss"));
  CHECK_THAT(CompareLosses(base, with_val), Catch::StartsWith("no (epoch 3 val_loss"));

  // In the table, from the loss of one side's run.
  const std::string text =
      CompareReportSets({{Loaded("a", base)}, {Loaded("b", one_bit)}}, {"a", "b"});
  CHECK_THAT(text, Catch::Contains("| no (epoch 2, rel 2.2e-16) | completed |"));
}

TEST_CASE("Fingerprint differences name the fields that differ, nothing when identical",
          "[sweep]") {
  const json base = Report(kHash1, 0.9, {0.5}, 1.0, 1);
  CHECK(FingerprintDifferences(base, base).empty());
  CHECK(FingerprintDifferences(base, Report(kHash1, 0.9, {0.5}, 1.0, 2)) ==
        std::vector<std::string>{"threads: 1 -> 2"});

  json other = base;
  other["machine"]["simd_target"] = "AVX2";
  other["machine"]["hostname"] = "big";
  other["machine"]["ftz_daz"]["daz"] = false;
  other["machine"].erase("highway_version");
  other["config"]["name"] = "renamed";
  CHECK(FingerprintDifferences(base, other) ==
        std::vector<std::string>{"simd_target: AVX3 -> AVX2", "highway_version: 1.0.3 -> (missing)",
                                 "hostname: vm -> big",
                                 "ftz_daz: {\"daz\":true,\"ftz\":true} -> "
                                 "{\"daz\":false,\"ftz\":true}",
                                 "name: tiny -> renamed"});

  // Without machine.threads, the config's thread count stands in.
  json no_machine_threads = Report(kHash1, 0.9, {0.5}, 1.0, 4);
  no_machine_threads["machine"].erase("threads");
  CHECK(FingerprintDifferences(base, no_machine_threads) ==
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

}  // namespace
}  // namespace mb
