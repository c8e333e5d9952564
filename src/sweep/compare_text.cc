// The text `runner compare` prints: CompareRuns' JSON as a Markdown table,
// the fingerprint differences, Welch's test of each pair and the notes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "sweep/compare.h"

namespace mb {
namespace {

using json = nlohmann::json;

std::string Plural(size_t count, const char* noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// Each number may be null (none): "-".
std::string Fixed(const json& value, int digits) {
  return value.is_number() ? Format(digits == 2 ? "%.2f" : "%.4f", value.get<double>()) : "-";
}

std::string SignedDiff(const json& value) {
  if (!value.is_number()) return "-";
  const std::string text = Format("%+.4f", value.get<double>());
  return text == "-0.0000" ? "+0.0000" : text;  // a rounding artefact, not a loss
}

// Three significant digits without switching to exponents below 1000 s.
std::string ThreeDigits(const json& value) {
  if (!value.is_number()) return "-";
  const double v = value.get<double>();
  if (std::fabs(v) >= 999.5) return Format("%.0f", v);
  std::string text = Format("%#.3g", v);
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string Count(const json& value) { return std::to_string(value.get<size_t>()); }

std::string ShortHash(const json& config) { return ShownConfigHash(config).substr(0, 8); }

std::string Name(const json& config) {
  return config["label"].get<std::string>() + " (" + ShortHash(config) + ")";
}

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

// Lines "<pair>, <configs>: <text>", configs whose pair says the same
// sharing one line, so that a sweep run on two machines gives one line, not
// one per point.
class SharedLines {
 public:
  void Add(const std::string& pair, const std::string& name, const std::string& text) {
    const auto same = std::find_if(lines_.begin(), lines_.end(), [&](const Line& line) {
      return line.pair == pair && line.text == text;
    });
    if (same == lines_.end()) {
      lines_.push_back({pair, text, {name}});
    } else {
      same->names.push_back(name);
    }
  }

  std::string Render(const std::string& bullet) const {
    std::string text;
    for (const Line& line : lines_) {
      text += bullet + line.pair + ", " + NameList(line.names, 5) + ": " + line.text + "\n";
    }
    return text;
  }

 private:
  struct Line {
    std::string pair, text;
    std::vector<std::string> names;
  };
  std::vector<Line> lines_;
};

// What Welch's test says of one pair, after its name.
std::string SeedTestText(const json& pair) {
  const json& test = pair["welch"];
  const std::string verdict = test["verdict"].get<std::string>() + ".";
  if (!test["possible"].get<bool>()) return verdict;
  const std::string base = pair["base"].get<std::string>();
  const std::string other = pair["other"].get<std::string>();
  std::string text = "mean " + base + " " + Fixed(test["mean"]["base"], 4) + " (" +
                     Plural(test["seeds"]["base"].get<size_t>(), "seed") + "), mean " + other +
                     " " + Fixed(test["mean"]["other"], 4) + " (" +
                     Plural(test["seeds"]["other"].get<size_t>(), "seed") + "), diff " +
                     SignedDiff(test["difference"]) + ", ";
  if (!test["no_variance"].get<bool>()) {
    text += "t = " + Format("%.3g", test["t"].get<double>()) +
            ", df = " + Format("%.3g", test["df"].get<double>());
  } else if (test["difference"].get<double>() == 0) {
    text += "no variance on either side and equal means";
  } else {
    text += "no variance on either side (each side's seeds gave one accuracy), so the "
            "difference counts as certain";
  }
  return text + ": " + verdict;
}

}  // namespace

std::string ComparisonText(const json& comparison) {
  const json& sides = comparison["sides"];
  const json& pairs = comparison["pairs"];
  std::string text;
  for (const json& side : sides) {
    text += side["label"].get<std::string>() + ": " + side["source"].get<std::string>() + " (" +
            Plural(side["runs"].get<size_t>(), "run") + ")\n";
  }
  text += "\n";

  // With two sides the columns name them; with more, each row names its pair.
  const bool two = sides.size() == 2;
  const std::string base = two ? "A" : "base", other = two ? "B" : "other";
  bool by_config_id = false;  // some config is shown by its config_id
  if (pairs.empty()) {
    text += "No config_hash appears on more than one side: nothing to compare.\n";
  } else {
    text += std::string("| run | config |") + (two ? "" : " pair |") + " runs " + base + "/" +
            other + " | test acc " + base + " | test acc " + other + " | diff | s/epoch " + base +
            " | s/epoch " + other + " | ratio " + other + "/" + base +
            " | losses bitwise identical | status |\n";
    text += std::string("|---|---|") + (two ? "" : "---|") +
            "---:|---:|---:|---:|---:|---:|---:|---|---|\n";
    SharedLines fingerprints, seed_tests;
    for (const json& pair : pairs) {
      const std::string a = pair["base"].get<std::string>(), b = pair["other"].get<std::string>();
      const json& accuracy = pair["test_accuracy"];
      const json& seconds = pair["seconds_per_epoch"];
      by_config_id = by_config_id || pair["config_hash"].is_null();
      text += "| " + Cell(pair["label"].get<std::string>()) + " | " + ShortHash(pair) + " | " +
              (two ? "" : b + " vs " + a + " | ") + Count(pair["runs"]["base"]) + "/" +
              Count(pair["runs"]["other"]) + " | " + Fixed(accuracy["base"], 4) + " | " +
              Fixed(accuracy["other"], 4) + " | " + SignedDiff(accuracy["difference"]) + " | " +
              ThreeDigits(seconds["base"]) + " | " + ThreeDigits(seconds["other"]) + " | " +
              Fixed(seconds["ratio"], 2) + " | " +
              pair["losses_bitwise_identical"].get<std::string>() + " | " +
              pair["status"].get<std::string>() + " |\n";

      std::string differences;
      for (const json& field : pair["fingerprint_differences"]) {
        differences += (differences.empty() ? "" : "; ") + field.get<std::string>();
      }
      if (differences.empty()) differences = "no fingerprint field differs";
      fingerprints.Add(b + " vs " + a, Name(pair), differences);
      seed_tests.Add(b + " vs " + a, Name(pair), SeedTestText(pair));
    }
    text += "\nFingerprint differences (machine, build, threads, data files, name):\n" +
            fingerprints.Render("- ");
    text += "\nTest accuracy over the seeds (Welch's t-test, two-sided, on one accuracy per "
            "seed: the median of its runs; diff is " +
            other + " - " + base + "):\n" + seed_tests.Render("");
  }

  text += "\n" + Plural(pairs.size(), "pair") + " compared. diff and ratio are " + other +
          " against " + base + "; rel is the relative difference of the first loss that differs. "
          "Losses are bitwise identical within a numerics class (machine.numerics_class: fma "
          "for AVX2 and AVX-512, no-fma for older targets) for one commit, at any thread "
          "count; \"numerics fma vs no-fma\" explains a difference, \"other build\" may "
          "(the code changed), \"unexpected\" is a bug to report. "
          "Runs with no partner on another side:";
  bool any_unpaired = false;
  for (const json& side : comparison["unpaired"]) {
    std::vector<std::string> names;
    for (const json& config : side["configs"]) {
      names.push_back(Name(config));
      by_config_id = by_config_id || config["config_hash"].is_null();
    }
    text += std::string(any_unpaired ? ";" : "") + " " + side["side"].get<std::string>() + " " +
            Plural(side["runs"].get<size_t>(), "run") + " (" + NameList(names, 3) + ")";
    any_unpaired = true;
  }
  text += any_unpaired ? ".\n" : " none.\n";
  const json& repeats = comparison["merged_repeats"];
  if (repeats["groups"].get<size_t>() > 0) {
    text += "Merged repeats: " + Plural(repeats["runs"].get<size_t>(), "run") + " in " +
            Plural(repeats["groups"].get<size_t>(), "group") +
            " (several runs of one config on one side; see the runs column). A group's test "
            "accuracy and s/epoch are the medians over its runs, its losses and fingerprint "
            "those of each seed's first completed run by path.\n";
  }
  if (by_config_id) {
    text += "A config whose runs span several seeds is shown by its config_id (its "
            "config_hash without the seed), and its losses are compared seed by seed.\n";
  }
  return text;
}

}  // namespace mb
