#include "sweep/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>

#include "common/error.h"
#include "common/statistics.h"

namespace mb {
namespace {

using json = nlohmann::json;
using Seed = std::optional<uint64_t>;

// Welch's test calls a difference significant below this p: the 5% level.
constexpr double kSignificanceLevel = 0.05;

// The side's label: A, B, ..., Z, then S27, S28, ...
std::string SideLetter(size_t side) {
  return side < 26 ? std::string(1, static_cast<char>('A' + side)) : "S" + std::to_string(side + 1);
}

std::string Plural(size_t count, const char* noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

json NumberOrNull(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

std::string SeedText(const Seed& seed) { return seed ? std::to_string(*seed) : "none"; }

// p with as few digits as show on which side of the significance level it
// is: 0.003, 0.41, 0.0499 (not 0.05).
std::string PValueText(double p) {
  char text[32];
  for (int digits = 2; digits <= 6; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, p);
    if ((std::strtod(text, nullptr) < kSignificanceLevel) == (p < kSignificanceLevel)) break;
  }
  return text;
}

// One side's runs of one config.
struct Group {
  std::vector<const RunResults*> runs;  // sorted by path
  // Per seed, the run that stands for it in the loss and fingerprint
  // comparisons: its first completed run by path, else its first by path.
  std::map<Seed, const RunResults*> seeds;
  // Per seed with a test accuracy, the median over its runs: the sample
  // Welch's test compares (repeats of one seed are one observation).
  std::vector<double> seed_accuracies;
  double accuracy = NAN;           // median over runs with a test accuracy
  double seconds_per_epoch = NAN;  // median over runs with epochs

  const RunResults& First() const { return *seeds.begin()->second; }
};

Group MakeGroup(std::vector<const RunResults*> runs) {
  Group group;
  std::sort(runs.begin(), runs.end(),
            [](const RunResults* a, const RunResults* b) { return a->path < b->path; });
  std::vector<double> accuracy, per_epoch;
  std::map<Seed, std::vector<double>> by_seed;
  for (const RunResults* run : runs) {
    const auto [it, added] = group.seeds.emplace(run->seed, run);
    if (!added && it->second->status != "completed" && run->status == "completed") {
      it->second = run;
    }
    if (std::isfinite(run->TestAccuracy())) {
      accuracy.push_back(run->TestAccuracy());
      by_seed[run->seed].push_back(run->TestAccuracy());
    }
    if (std::isfinite(run->SecondsPerEpoch())) per_epoch.push_back(run->SecondsPerEpoch());
  }
  for (const auto& [seed, values] : by_seed) group.seed_accuracies.push_back(Median(values));
  group.accuracy = Median(accuracy);
  group.seconds_per_epoch = Median(per_epoch);
  group.runs = std::move(runs);
  return group;
}

std::string Text(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// The config's name (of the first seed's run of `runs.front()`'s group),
// plus the sweep's varied values that every sweep point among `runs`
// shares, which tell apart the configs of one sweep that all share its
// name: the seed only when all the runs have the same.
std::string Label(const Group& first, const std::vector<const Group*>& groups) {
  std::string label = first.First().config_name.value_or("(missing)");
  std::optional<json> shared;
  for (const Group* group : groups) {
    for (const RunResults* run : group->runs) {
      if (!run->sweep || !run->sweep->varied) continue;
      const json& varied = *run->sweep->varied;
      if (!shared) {
        shared = varied;
        continue;
      }
      for (auto it = shared->begin(); it != shared->end();) {
        const auto found = varied.find(it.key());
        it = found != varied.end() && *found == it.value() ? std::next(it) : shared->erase(it);
      }
    }
  }
  if (shared) {
    for (const auto& item : shared->items()) label += " " + item.key() + "=" + Text(item.value());
  }
  return label;
}

// The config_hash that all the groups' runs share, or null when they span
// several (several seeds).
json SharedConfigHash(const std::vector<const Group*>& groups) {
  std::set<std::string> hashes;
  for (const Group* group : groups) {
    for (const RunResults* run : group->runs) hashes.insert(run->config_hash);
  }
  return hashes.size() == 1 ? json(*hashes.begin()) : json(nullptr);
}

// "B diverged" for a single run, "B 2/3 running" for repeats; "" if all completed.
std::string StatusNote(const Group& group, const std::string& letter) {
  std::map<std::string, size_t> counts;
  for (const RunResults* run : group.runs) {
    if (run->status != "completed") ++counts[run->status];
  }
  std::string note;
  for (const auto& [status, count] : counts) {
    if (!note.empty()) note += ", ";
    note += letter + " ";
    if (group.runs.size() > 1) {
      note += std::to_string(count) + "/" + std::to_string(group.runs.size()) + " ";
    }
    note += status;
  }
  return note;
}

std::vector<Seed> SeedsInCommon(const Group& a, const Group& b) {
  std::vector<Seed> common;
  for (const auto& [seed, run] : a.seeds) {
    if (b.seeds.count(seed)) common.push_back(seed);
  }
  return common;
}

// Whether the losses of each seed both groups ran are bitwise identical:
// as CompareLosses for one seed, "yes (N seeds)" for several, else the
// first seed that differs.
std::string SeedLosses(const Group& a, const Group& b) {
  const std::vector<Seed> common = SeedsInCommon(a, b);
  if (common.empty()) return "n/a (no seed in common)";
  if (common.size() == 1) return CompareLosses(*a.seeds.at(common[0]), *b.seeds.at(common[0]));
  for (const Seed& seed : common) {
    const LossComparison losses = CompareEpochLosses(*a.seeds.at(seed), *b.seeds.at(seed));
    if (losses.verdict != LossComparison::Verdict::kIdentical) {
      return LossText(losses, "seed " + SeedText(seed) + ", ");
    }
  }
  return "yes (" + std::to_string(common.size()) + " seeds)";
}

// Welch's t-test of the seeds' test accuracies, other against base.
json SeedTest(const Group& base, const Group& other, const std::string& a, const std::string& b) {
  const size_t n_base = base.seed_accuracies.size(), n_other = other.seed_accuracies.size();
  json test = {{"seeds", {{"base", n_base}, {"other", n_other}}},
               {"possible", false},
               {"mean", {{"base", nullptr}, {"other", nullptr}}},
               {"difference", nullptr},
               {"t", nullptr},
               {"df", nullptr},
               {"p", nullptr},
               {"no_variance", false},
               {"significant", false}};
  if (n_base < 2 || n_other < 2) {
    test["verdict"] = "no test possible: " + a + " has " + Plural(n_base, "seed") +
                      " with a test accuracy, " + b + " " + std::to_string(n_other) +
                      "; Welch's t-test needs 2 or more on each side";
    return test;
  }
  const WelchTTestResult welch = WelchTTest(other.seed_accuracies, base.seed_accuracies);
  const bool significant = welch.p < kSignificanceLevel;
  test["possible"] = true;
  test["mean"] = {{"base", welch.mean_b}, {"other", welch.mean_a}};
  test["difference"] = welch.difference;
  test["t"] = NumberOrNull(welch.t);
  test["df"] = NumberOrNull(welch.df);
  test["p"] = welch.p;
  test["no_variance"] = welch.no_variance;
  test["significant"] = significant;
  const std::string p = "(p = " + PValueText(welch.p) + ")";
  const bool other_higher = welch.difference > 0;
  test["verdict"] = significant ? (other_higher ? b : a) + "'s test accuracy is higher than " +
                                      (other_higher ? a : b) + "'s " + p
                                : "no significant difference at the 5% level " + p;
  return test;
}

struct Row {
  std::string label;
  json config;  // {"config_id", "config_hash"}
  size_t base = 0, other = 0;  // side indices
  const Group* a = nullptr;
  const Group* b = nullptr;
};

}  // namespace

std::string ShownConfigHash(const json& config) {
  return (config["config_hash"].is_string() ? config["config_hash"] : config["config_id"])
      .get<std::string>();
}

json CompareRuns(const std::vector<std::vector<RunResults>>& sides,
                 const std::vector<std::string>& side_names) {
  if (sides.size() != side_names.size()) {
    throw std::invalid_argument("CompareRuns: one name per side needed");
  }
  if (sides.size() < 2) {
    throw InputError("compare: needs at least 2 sets of reports to compare, got " +
                     std::to_string(sides.size()));
  }
  // groups[side][config_id]
  std::vector<std::map<std::string, Group>> groups(sides.size());
  for (size_t side = 0; side < sides.size(); ++side) {
    if (sides[side].empty()) throw InputError(side_names[side] + ": no report.json files");
    std::map<std::string, std::vector<const RunResults*>> by_config;
    for (const RunResults& run : sides[side]) by_config[run.config_id].push_back(&run);
    for (auto& [id, runs] : by_config) groups[side].emplace(id, MakeGroup(std::move(runs)));
  }

  // Each config against the first side that has it; unpaired runs counted.
  std::vector<Row> rows;
  json unpaired = json::array();
  for (size_t side = 0; side < sides.size(); ++side) {
    json configs = json::array();
    size_t runs = 0;
    for (const auto& [id, group] : groups[side]) {
      bool seen_before = false, partnered = false;
      for (size_t other = 0; other < sides.size(); ++other) {
        if (other != side && groups[other].count(id)) {
          partnered = true;
          seen_before |= other < side;
        }
      }
      if (!partnered) {
        configs.push_back({{"label", Label(group, {&group})},
                           {"config_id", id},
                           {"config_hash", SharedConfigHash({&group})}});
        runs += group.runs.size();
      }
      if (seen_before) continue;
      for (size_t other = side + 1; other < sides.size(); ++other) {
        const auto found = groups[other].find(id);
        if (found == groups[other].end()) continue;
        const std::vector<const Group*> pair = {&group, &found->second};
        rows.push_back({Label(group, pair),
                        {{"config_id", id}, {"config_hash", SharedConfigHash(pair)}},
                        side,
                        other,
                        &group,
                        &found->second});
      }
    }
    if (configs.empty()) continue;
    std::stable_sort(configs.begin(), configs.end(), [](const json& x, const json& y) {
      return ShownConfigHash(x) < ShownConfigHash(y);
    });
    unpaired.push_back({{"side", SideLetter(side)}, {"runs", runs}, {"configs", configs}});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return std::make_tuple(x.label, ShownConfigHash(x.config), x.base, x.other) <
           std::make_tuple(y.label, ShownConfigHash(y.config), y.base, y.other);
  });
  // Repeats in the table; a group on several rows counts once.
  std::set<const Group*> in_rows;
  for (const Row& row : rows) in_rows.insert({row.a, row.b});
  size_t repeated_groups = 0, merged_runs = 0;
  for (const Group* group : in_rows) {
    if (group->runs.size() < 2) continue;
    ++repeated_groups;
    merged_runs += group->runs.size();
  }

  json side_list = json::array();
  for (size_t side = 0; side < sides.size(); ++side) {
    side_list.push_back(
        {{"label", SideLetter(side)}, {"source", side_names[side]}, {"runs", sides[side].size()}});
  }
  json pairs = json::array();
  for (const Row& row : rows) {
    const std::string a = SideLetter(row.base), b = SideLetter(row.other);
    std::string status = StatusNote(*row.a, a);
    const std::string other_status = StatusNote(*row.b, b);
    status += (!status.empty() && !other_status.empty() ? ", " : "") + other_status;
    const double ratio = row.a->seconds_per_epoch > 0
                             ? row.b->seconds_per_epoch / row.a->seconds_per_epoch
                             : NAN;
    // The fingerprint of the first seed both ran, else of each one's first.
    const std::vector<Seed> common = SeedsInCommon(*row.a, *row.b);
    const RunResults& base_run = common.empty() ? row.a->First() : *row.a->seeds.at(common[0]);
    const RunResults& other_run = common.empty() ? row.b->First() : *row.b->seeds.at(common[0]);
    pairs.push_back(
        {{"label", row.label},
         {"config_id", row.config["config_id"]},
         {"config_hash", row.config["config_hash"]},
         {"base", a},
         {"other", b},
         {"runs", {{"base", row.a->runs.size()}, {"other", row.b->runs.size()}}},
         {"test_accuracy",
          {{"base", NumberOrNull(row.a->accuracy)},
           {"other", NumberOrNull(row.b->accuracy)},
           {"difference", NumberOrNull(row.b->accuracy - row.a->accuracy)}}},
         {"seconds_per_epoch",
          {{"base", NumberOrNull(row.a->seconds_per_epoch)},
           {"other", NumberOrNull(row.b->seconds_per_epoch)},
           {"ratio", NumberOrNull(ratio)}}},
         {"losses_bitwise_identical", SeedLosses(*row.a, *row.b)},
         {"status", status.empty() ? "completed" : status},
         {"fingerprint_differences", FingerprintDifferences(base_run, other_run)},
         {"welch", SeedTest(*row.a, *row.b, a, b)}});
  }
  return {{"sides", side_list},
          {"pairs", pairs},
          {"unpaired", unpaired},
          {"merged_repeats", {{"groups", repeated_groups}, {"runs", merged_runs}}}};
}

std::string CompareReportSets(const std::vector<std::vector<LoadedReport>>& sides,
                              const std::vector<std::string>& side_names) {
  std::vector<std::vector<RunResults>> runs;
  runs.reserve(sides.size());
  for (const std::vector<LoadedReport>& side : sides) runs.push_back(ParseRunResults(side));
  return ComparisonText(CompareRuns(runs, side_names));
}

int RunCompareCommand(const std::vector<std::string>& sources, std::FILE* out) {
  if (sources.size() < 2) {
    throw InputError("compare: needs at least 2 report files or directories, got " +
                     std::to_string(sources.size()));
  }
  std::vector<std::vector<LoadedReport>> sides;
  sides.reserve(sources.size());
  for (const std::string& source : sources) {
    sides.push_back(FindReports({source}));
    if (sides.back().empty()) throw InputError(source + ": no report.json files");
  }
  std::fputs(CompareReportSets(sides, sources).c_str(), out);
  return kExitOk;
}

}  // namespace mb
