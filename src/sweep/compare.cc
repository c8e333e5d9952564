#include "sweep/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "common/error.h"

namespace mb {
namespace {

using json = nlohmann::json;

// The value at a dotted path of object keys ("machine.threads"), or nullptr
// when a step is missing: reports from other builds may lack any field but
// the few that ReadReport checks.
const json* Find(const json& root, const std::string& dotted) {
  const json* node = &root;
  size_t start = 0;
  while (start <= dotted.size()) {
    const size_t dot = std::min(dotted.find('.', start), dotted.size());
    if (!node->is_object()) return nullptr;
    const auto it = node->find(dotted.substr(start, dot - start));
    if (it == node->end()) return nullptr;
    node = &*it;
    start = dot + 1;
  }
  return node;
}

double NumberAt(const json& root, const std::string& dotted) {
  const json* value = Find(root, dotted);
  return value && value->is_number() ? value->get<double>() : NAN;
}

std::string Text(const json* value) {
  if (!value) return "(missing)";
  return value->is_string() ? value->get<std::string>() : value->dump();
}

// The side's label in the table: A, B, ..., Z, then S27, S28, ...
std::string SideLetter(size_t side) {
  return side < 26 ? std::string(1, static_cast<char>('A' + side)) : "S" + std::to_string(side + 1);
}

std::string Plural(size_t count, const char* noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string Fixed(double value, int digits) {
  return std::isfinite(value) ? Format(digits == 2 ? "%.2f" : "%.4f", value) : "-";
}

std::string SignedDiff(double value) {
  if (!std::isfinite(value)) return "-";
  const std::string text = Format("%+.4f", value);
  return text == "-0.0000" ? "+0.0000" : text;  // a rounding artefact, not a loss
}

// Three significant digits without switching to exponents below 1000 s.
std::string ThreeDigits(double value) {
  if (!std::isfinite(value)) return "-";
  if (std::fabs(value) >= 999.5) return Format("%.0f", value);
  std::string text = Format("%#.3g", value);
  if (text.back() == '.') text.pop_back();
  return text;
}

double Median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// Mean training seconds per epoch, or NaN without timed epochs.
double SecondsPerEpoch(const json& report) {
  const json* epochs = Find(report, "epochs");
  if (!epochs || !epochs->is_array() || epochs->empty()) return NAN;
  double seconds = 0;
  for (const json& epoch : *epochs) seconds += NumberAt(epoch, "seconds");
  return seconds / static_cast<double>(epochs->size());
}

// The config's name, plus a sweep point's varied values, which tell apart
// the runs of one sweep that all share its name.
std::string RunLabel(const json& report) {
  std::string label = Text(Find(report, "config.name"));
  const json* varied = Find(report, "sweep.varied");
  if (varied && varied->is_object()) {
    for (const auto& item : varied->items()) label += " " + item.key() + "=" + Text(&item.value());
  }
  return label;
}

bool SameBits(const json* a, const json* b) {
  if (!a || !b) return !a && !b;
  if (!a->is_number() || !b->is_number()) return *a == *b;
  const double x = a->get<double>(), y = b->get<double>();
  uint64_t x_bits, y_bits;
  std::memcpy(&x_bits, &x, sizeof x);
  std::memcpy(&y_bits, &y, sizeof y);
  return x_bits == y_bits;
}

// A fingerprint field: where it is in a report, and where to look when an
// older report lacks it.
struct Field {
  const char* label;
  const char* path;
  const char* fallback;
};

// In the order a reader checks them: hardware, build, run settings, data.
constexpr Field kFingerprint[] = {
    {"cpu_model", "machine.cpu_model", nullptr},
    {"logical_cores", "machine.logical_cores", nullptr},
    {"simd_target", "machine.simd_target", "training.kernel_target"},
    {"numerics_class", "machine.numerics_class", nullptr},
    {"simd_targets_supported", "machine.simd_targets_supported", nullptr},
    {"simd_targets_compiled", "machine.simd_targets_compiled", nullptr},
    {"threads", "machine.threads", "config.threads"},
    {"compiler", "machine.compiler", nullptr},
    {"compiler_flags", "machine.compiler_flags", nullptr},
    {"highway_version", "machine.highway_version", nullptr},
    {"openmp_runtime", "machine.openmp_runtime", nullptr},
    {"openmp_version", "machine.openmp_version", nullptr},
    {"mnistbench_version", "machine.mnistbench_version", nullptr},
    {"git_commit", "machine.git_commit", nullptr},
    {"git_dirty", "machine.git_dirty", nullptr},
    {"hostname", "machine.hostname", nullptr},
    {"os", "machine.os", nullptr},
    {"ftz_daz", "machine.ftz_daz", nullptr},
    {"first_layer_kernel", "training.first_layer_kernel", nullptr},
    {"openmp_wait", "training.openmp_wait", nullptr},
    // config_hash covers the data paths but not the files' contents.
    {"train_images.sha256", "dataset.train_images.sha256", nullptr},
    {"train_labels.sha256", "dataset.train_labels.sha256", nullptr},
    {"test_images.sha256", "dataset.test_images.sha256", nullptr},
    {"test_labels.sha256", "dataset.test_labels.sha256", nullptr},
    {"name", "config.name", nullptr},
};

const json* FieldValue(const json& report, const Field& field) {
  const json* value = Find(report, field.path);
  return value || !field.fallback ? value : Find(report, field.fallback);
}

// One side's runs of one config.
struct Group {
  std::vector<const LoadedReport*> runs;  // sorted by path
  const LoadedReport* representative = nullptr;
  double accuracy = NAN;           // median over runs with a test accuracy
  double seconds_per_epoch = NAN;  // median over runs with epochs
};

Group MakeGroup(std::vector<const LoadedReport*> runs) {
  Group group;
  std::sort(runs.begin(), runs.end(),
            [](const LoadedReport* a, const LoadedReport* b) { return a->path < b->path; });
  const auto completed = std::find_if(runs.begin(), runs.end(), [](const LoadedReport* r) {
    return Text(Find(r->json, "status")) == "completed";
  });
  group.representative = completed != runs.end() ? *completed : runs.front();
  std::vector<double> accuracy, per_epoch;
  for (const LoadedReport* run : runs) {
    const double acc = NumberAt(run->json, "test.accuracy");
    if (std::isfinite(acc)) accuracy.push_back(acc);
    const double seconds = SecondsPerEpoch(run->json);
    if (std::isfinite(seconds)) per_epoch.push_back(seconds);
  }
  group.accuracy = Median(accuracy);
  group.seconds_per_epoch = Median(per_epoch);
  group.runs = std::move(runs);
  return group;
}

// "B diverged" for a single run, "B 2/3 running" for repeats; "" if all completed.
std::string StatusNote(const Group& group, const std::string& letter) {
  std::map<std::string, size_t> counts;
  for (const LoadedReport* run : group.runs) {
    const std::string status = Text(Find(run->json, "status"));
    if (status != "completed") ++counts[status];
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

struct Row {
  std::string label;
  std::string hash;
  size_t base = 0, other = 0;  // side indices
  const Group* a = nullptr;
  const Group* b = nullptr;
};

std::string ShortHash(const std::string& hash) { return hash.substr(0, 8); }

// A sweep's varied values may be any JSON, so a '|' must not end the cell.
std::string Cell(const std::string& text) {
  std::string cell;
  for (const char c : text) cell += c == '|' ? std::string("\\|") : std::string(1, c);
  return cell;
}

// "name (hash8), name (hash8), ..." with at most `limit` entries named.
std::string NameList(const std::vector<std::string>& names, size_t limit) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < limit; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > limit) text += " and " + std::to_string(names.size() - limit) + " more";
  return text;
}

}  // namespace

std::string NumericsExplanation(const json& base, const json& other) {
  const json* a = Find(base, "machine.numerics_class");
  const json* b = Find(other, "machine.numerics_class");
  if (!a || !b || !a->is_string() || !b->is_string()) return "";
  if (*a != *b) return "numerics " + a->get<std::string>() + " vs " + b->get<std::string>();
  const json* commit_a = Find(base, "machine.git_commit");
  const json* commit_b = Find(other, "machine.git_commit");
  const bool same_build = commit_a && commit_b && *commit_a == *commit_b &&
                          commit_a->is_string() && *commit_a != "unknown" &&
                          Text(Find(base, "machine.git_dirty")) == "false" &&
                          Text(Find(other, "machine.git_dirty")) == "false";
  return same_build ? "same numerics and commit: unexpected" : "same numerics, other build";
}

std::string CompareLosses(const json& base, const json& other) {
  const json* a = Find(base, "epochs");
  const json* b = Find(other, "epochs");
  if (!a || !b || !a->is_array() || !b->is_array()) return "n/a (no epochs)";
  if (a->size() != b->size()) {
    return "n/a (" + std::to_string(a->size()) + " vs " + std::to_string(b->size()) + " epochs)";
  }
  if (a->empty()) return "n/a (no epochs)";
  for (size_t i = 0; i < a->size(); ++i) {
    const json& x = (*a)[i];
    const json& y = (*b)[i];
    for (const char* key : {"loss", "val_loss"}) {
      if (SameBits(Find(x, key), Find(y, key))) continue;
      const json* number = Find(x, "epoch");
      const std::string epoch = number && number->is_number_integer() ? number->dump()
                                                                      : std::to_string(i + 1);
      const double p = NumberAt(x, key), q = NumberAt(y, key);
      const double rel = std::fabs(q - p) / std::max(std::fabs(p), std::fabs(q));
      const std::string why = NumericsExplanation(base, other);
      return "no (epoch " + epoch + (std::string(key) == "loss" ? "" : " val_loss") +
             (std::isfinite(rel) ? ", rel " + Format("%.1e", rel) : "") +
             (why.empty() ? "" : "; " + why) + ")";
    }
  }
  return "yes";
}

std::vector<std::string> FingerprintDifferences(const json& base, const json& other) {
  std::vector<std::string> differences;
  for (const Field& field : kFingerprint) {
    const json* a = FieldValue(base, field);
    const json* b = FieldValue(other, field);
    if ((!a && !b) || (a && b && *a == *b)) continue;
    differences.push_back(std::string(field.label) + ": " + Text(a) + " -> " + Text(b));
  }
  return differences;
}

std::string CompareReportSets(const std::vector<std::vector<LoadedReport>>& sides,
                              const std::vector<std::string>& side_names) {
  if (sides.size() != side_names.size()) {
    throw std::invalid_argument("CompareReportSets: one name per side needed");
  }
  if (sides.size() < 2) {
    throw InputError("compare: needs at least 2 sets of reports to compare, got " +
                     std::to_string(sides.size()));
  }
  // groups[side][config_hash]
  std::vector<std::map<std::string, Group>> groups(sides.size());
  for (size_t side = 0; side < sides.size(); ++side) {
    if (sides[side].empty()) throw InputError(side_names[side] + ": no report.json files");
    std::map<std::string, std::vector<const LoadedReport*>> by_hash;
    for (const LoadedReport& report : sides[side]) {
      by_hash[Text(Find(report.json, "config_hash"))].push_back(&report);
    }
    for (auto& [hash, runs] : by_hash) groups[side].emplace(hash, MakeGroup(std::move(runs)));
  }

  // Each config against the first side that has it; unpaired runs counted.
  std::vector<Row> rows;
  std::vector<std::vector<std::string>> unpaired(sides.size());
  std::vector<size_t> unpaired_runs(sides.size(), 0);
  for (size_t side = 0; side < sides.size(); ++side) {
    for (const auto& [hash, group] : groups[side]) {
      bool seen_before = false, partnered = false;
      for (size_t other = 0; other < sides.size(); ++other) {
        if (other != side && groups[other].count(hash)) {
          partnered = true;
          seen_before |= other < side;
        }
      }
      const std::string label = RunLabel(group.representative->json);
      if (!partnered) {
        unpaired[side].push_back(label + " (" + ShortHash(hash) + ")");
        unpaired_runs[side] += group.runs.size();
      }
      if (seen_before) continue;
      for (size_t other = side + 1; other < sides.size(); ++other) {
        const auto found = groups[other].find(hash);
        if (found != groups[other].end()) {
          rows.push_back({label, hash, side, other, &group, &found->second});
        }
      }
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return std::tie(x.label, x.hash, x.base, x.other) < std::tie(y.label, y.hash, y.base, y.other);
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

  std::string text;
  for (size_t side = 0; side < sides.size(); ++side) {
    text += SideLetter(side) + ": " + side_names[side] + " (" +
            Plural(sides[side].size(), "run") + ")\n";
  }
  text += "\n";

  // With two sides the columns name them; with more, each row names its pair.
  const bool two = sides.size() == 2;
  const std::string base = two ? "A" : "base", other = two ? "B" : "other";
  if (rows.empty()) {
    text += "No config_hash appears on more than one side: nothing to compare.\n";
  } else {
    text += std::string("| run | config |") + (two ? "" : " pair |") + " runs " + base + "/" +
            other + " | test acc " + base + " | test acc " + other + " | diff | s/epoch " + base +
            " | s/epoch " + other + " | ratio " + other + "/" + base +
            " | losses bitwise identical | status |\n";
    text += std::string("|---|---|") + (two ? "" : "---|") +
            "---:|---:|---:|---:|---:|---:|---:|---|---|\n";
    for (const Row& row : rows) {
      const std::string a = SideLetter(row.base), b = SideLetter(row.other);
      std::string status = StatusNote(*row.a, a);
      const std::string other_status = StatusNote(*row.b, b);
      status += (!status.empty() && !other_status.empty() ? ", " : "") + other_status;
      const double ratio = row.a->seconds_per_epoch > 0
                               ? row.b->seconds_per_epoch / row.a->seconds_per_epoch
                               : NAN;
      text += "| " + Cell(row.label) + " | " + ShortHash(row.hash) + " | " +
              (two ? "" : b + " vs " + a + " | ") + std::to_string(row.a->runs.size()) + "/" +
              std::to_string(row.b->runs.size()) + " | " + Fixed(row.a->accuracy, 4) + " | " +
              Fixed(row.b->accuracy, 4) + " | " + SignedDiff(row.b->accuracy - row.a->accuracy) +
              " | " + ThreeDigits(row.a->seconds_per_epoch) + " | " +
              ThreeDigits(row.b->seconds_per_epoch) + " | " + Fixed(ratio, 2) + " | " +
              CompareLosses(row.a->representative->json, row.b->representative->json) + " | " +
              (status.empty() ? "completed" : status) + " |\n";
    }

    // Configs whose pair differs in the same fields share one line, so that a
    // sweep run on two machines gives one line, not one per point.
    struct Explanation {
      std::string pair, differences;
      std::vector<std::string> names;
    };
    std::vector<Explanation> explanations;
    for (const Row& row : rows) {
      const std::vector<std::string> fields =
          FingerprintDifferences(row.a->representative->json, row.b->representative->json);
      std::string differences = fields.empty() ? "no fingerprint field differs" : "";
      for (size_t i = 0; i < fields.size(); ++i) differences += (i ? "; " : "") + fields[i];
      const std::string pair = SideLetter(row.other) + " vs " + SideLetter(row.base);
      const std::string name = row.label + " (" + ShortHash(row.hash) + ")";
      const auto same = std::find_if(explanations.begin(), explanations.end(),
                                     [&](const Explanation& e) {
                                       return e.pair == pair && e.differences == differences;
                                     });
      if (same == explanations.end()) {
        explanations.push_back({pair, differences, {name}});
      } else {
        same->names.push_back(name);
      }
    }
    text += "\nFingerprint differences (machine, build, threads, data files, name):\n";
    for (const Explanation& e : explanations) {
      text += "- " + e.pair + ", " + NameList(e.names, 5) + ": " + e.differences + "\n";
    }
  }

  text += "\n" + Plural(rows.size(), "pair") + " compared. diff and ratio are " + other +
          " against " + base + "; rel is the relative difference of the first loss that differs. "
          "Losses are bitwise identical within a numerics class (machine.numerics_class: fma "
          "for AVX2 and AVX-512, no-fma for older targets) for one commit, at any thread "
          "count; \"numerics fma vs no-fma\" explains a difference, \"other build\" may "
          "(the code changed), \"unexpected\" is a bug to report. "
          "Runs with no partner on another side:";
  bool any_unpaired = false;
  for (size_t side = 0; side < sides.size(); ++side) {
    if (unpaired[side].empty()) continue;
    text += std::string(any_unpaired ? ";" : "") + " " + SideLetter(side) + " " +
            Plural(unpaired_runs[side], "run") + " (" + NameList(unpaired[side], 3) + ")";
    any_unpaired = true;
  }
  text += any_unpaired ? ".\n" : " none.\n";
  if (repeated_groups > 0) {
    text += "Merged repeats: " + Plural(merged_runs, "run") + " in " +
            Plural(repeated_groups, "group") +
            " (several runs of one config on one side; see the runs column). A group's test "
            "accuracy and s/epoch are the medians over its runs, its losses and fingerprint "
            "those of its first completed run by path.\n";
  }
  return text;
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
