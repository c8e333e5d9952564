#include "sweep/sweep_runner.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "common/error.h"
#include "common/line_printer.h"
#include "config/config.h"
#include "kernels/target.h"
#include "report/atomic_file.h"
#include "report/atomic_temporaries.h"
#include "report/report_reader.h"
#include "report/safetensors.h"
#include "sweep/point_claim.h"
#include "sweep/points_left.h"
#include "sweep/summary.h"
#include "train/experiment.h"
#include "train/interrupt.h"
#include "train/lost_stdout.h"
#include "train/run_checkpoint.h"

namespace mb {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr size_t kIdPrefix = 12;  // hex digits of point_id in a directory name

std::string DescribeVaried(const SweepPoint& point) {
  std::string text;
  for (const auto& [key, value] : point.varied) {
    text += (text.empty() ? "" : ", ") + key + "=" +
            (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return text.empty() ? "the base config" : text;
}

json VariedJson(const SweepPoint& point) {
  json varied = json::object();
  for (const auto& [key, value] : point.varied) varied[key] = value;
  return varied;
}

std::string PointDirName(const ResolvedPoint& point) {
  char index[16];
  std::snprintf(index, sizeof index, "%03zu", point.point.index);
  return std::string(index) + "-" + point.id.substr(0, kIdPrefix);
}

// What the sweep directory holds for one point.
struct PointState {
  bool complete = false;
  std::vector<fs::path> stale;  // directories to remove before running it again
};

// Reads every run directory of the sweep once. A directory belongs to a
// point through its report's point_id or, when it has no report yet (killed
// between creating it and writing the first report), through its name.
std::map<std::string, PointState> ScanSweepDir(const fs::path& sweep_dir,
                                               const std::vector<ResolvedPoint>& points) {
  std::map<std::string, std::string> id_by_prefix;
  for (const ResolvedPoint& p : points) id_by_prefix[p.id.substr(0, kIdPrefix)] = p.id;
  std::map<std::string, PointState> states;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(sweep_dir, error)) {
    if (!entry.is_directory()) continue;
    const fs::path report_path = entry.path() / "report.json";
    std::string id;
    bool complete = false;
    if (fs::exists(report_path)) {
      LoadedReport report;
      try {
        report = ReadReport(report_path.string());
      } catch (const InputError&) {
        // Another shard may have just removed its own cut-off run.
        if (!fs::exists(report_path)) continue;
        throw;
      }
      const json& sweep = SweepOf(report.json);
      if (sweep.contains("point_id") && sweep["point_id"].is_string()) {
        id = sweep["point_id"].get<std::string>();
      }
      complete = IsFinishedReport(report.json);
    } else {
      const std::string name = entry.path().filename().string();
      const size_t dash = name.rfind('-');
      if (dash != std::string::npos) {
        const auto found = id_by_prefix.find(name.substr(dash + 1));
        if (found != id_by_prefix.end()) id = found->second;
      }
    }
    if (id.empty()) continue;  // not one of ours: leave it alone
    PointState& state = states[id];
    if (complete) {
      state.complete = true;
    } else {
      state.stale.push_back(entry.path());
    }
  }
  if (error) {
    throw OutputError(sweep_dir.string() + ": cannot list the sweep directory (" +
                      error.message() + ")");
  }
  return states;
}

// Whether the cut-off run in `run_dir` can continue from its checkpoint
// (train/run_checkpoint.h) rather than start again: it has one, of point
// `id`'s config. A checkpoint that cannot be read is a reason to start
// again, not to stop the sweep.
bool HasCheckpointOf(const fs::path& run_dir, const std::string& id) {
  const fs::path checkpoint = run_dir / kCheckpointFile;
  if (!fs::exists(checkpoint) || !fs::exists(run_dir / "report.json")) return false;
  try {
    const SafetensorsFile file(checkpoint.string());
    const auto hash = file.metadata().find("config_hash");
    return hash != file.metadata().end() && hash->second == id;
  } catch (const InputError&) {
    return false;
  }
}

// Whether `report_path` is a finished report of point `id`.
bool IsCompletePoint(const fs::path& report_path, const std::string& id) {
  if (!fs::exists(report_path)) return false;
  const LoadedReport report = ReadReport(report_path.string());
  const json& sweep = SweepOf(report.json);
  return IsFinishedReport(report.json) && sweep.contains("point_id") && sweep["point_id"] == id;
}

json SweepDescription(const SweepSpec& spec, const std::vector<ResolvedPoint>& points) {
  json list = json::array();
  for (const ResolvedPoint& p : points) {
    list.push_back({{"index", p.point.index},
                    {"point_id", p.id},
                    {"config_hash", p.config.hash},
                    {"dir", PointDirName(p)},
                    {"varied", VariedJson(p.point)}});
  }
  return {{"name", spec.name},
          {"spec_path", spec.path},
          {"spec", spec.document},
          {"metric", MetricName(spec.metric)},
          {"accuracy_threshold",
           spec.accuracy_threshold ? json(*spec.accuracy_threshold) : json(nullptr)},
          {"points", list}};
}

// The 1-based numbers of the points `shard` owns that are not complete.
std::vector<size_t> PointsLeft(const std::vector<ResolvedPoint>& points, const Shard& shard,
                               std::map<std::string, PointState>& states) {
  std::vector<size_t> left;
  for (const ResolvedPoint& p : points) {
    if (shard.Owns(p.point.index) && !states[p.id].complete) left.push_back(p.point.index + 1);
  }
  return left;
}

}  // namespace

std::vector<ResolvedPoint> ResolvePoints(const SweepSpec& spec, const SweepOptions& options) {
  std::vector<ResolvedPoint> resolved;
  std::map<std::string, size_t> seen;  // point_id -> index
  for (const SweepPoint& point : ExpandSweep(spec)) {
    std::vector<std::string> overrides = {OverrideText("name", spec.name)};
    for (const auto& [key, value] : spec.set) overrides.push_back(OverrideText(key, value));
    overrides.insert(overrides.end(), options.overrides.begin(), options.overrides.end());
    for (const auto& [key, value] : point.varied) overrides.push_back(OverrideText(key, value));
    const std::string where =
        spec.path + ": point " + std::to_string(point.index) + " (" + DescribeVaried(point) + "): ";
    const auto load = [&]() {
      try {
        return LoadConfig(spec.base, overrides);
      } catch (const InputError& e) {
        throw InputError(where + e.what());
      }
    };
    ResolvedPoint r{point, load(), {}};
    if (const std::string problem = KernelTargetProblem(r.config.kernel_target);
        !problem.empty()) {
      throw InputError(where + r.config.source + ": kernels.target: " + problem);
    }
    // A point is its numbers: the keys config_hash leaves out (threads,
    // kernels, predict, ...) cannot change them, so runs that differ only
    // in those are the same point.
    r.id = r.config.hash;
    const auto [it, fresh] = seen.emplace(r.id, point.index);
    if (!fresh) {
      throw InputError(spec.path + ": points " + std::to_string(it->second) + " and " +
                       std::to_string(point.index) +
                       " are the same point: their configs differ at most in keys that cannot "
                       "change the numbers (does a --set override an axis?)");
    }
    resolved.push_back(std::move(r));
  }
  return resolved;
}

int RunSweep(const SweepSpec& spec, const SweepOptions& options) {
  const std::vector<ResolvedPoint> points = ResolvePoints(spec, options);
  const fs::path sweep_dir = fs::path(options.out_dir) / spec.name;
  // Under a launcher, every line of this process and its runs says which
  // rank printed it: the ranks may share one stream.
  const std::string prefix =
      options.launcher_rank.empty() ? "" : "[" + options.launcher_rank + "] ";
  SetInterruptLinePrefix(prefix);
  // From here the sweep writes files: an interrupt waits for a safe moment.
  StopCleanlyOnInterrupt("stopping before the next point");
  std::error_code error;
  fs::create_directories(sweep_dir, error);
  if (error) {
    throw OutputError(sweep_dir.string() + ": cannot create the sweep directory (" +
                      error.message() + ")");
  }
  WriteFileAtomic((sweep_dir / "sweep.json").string(),
                  SweepDescription(spec, points).dump(2) + "\n");

  LinePrinter out(stdout, prefix);
  const Shard shard = options.shard.value_or(Shard{});
  size_t owned = 0;
  for (const ResolvedPoint& p : points) owned += shard.Owns(p.point.index) ? 1 : 0;
  out.Printf("Sweep %s: %zu points", spec.name.c_str(), points.size());
  if (options.shard) {
    out.Printf(", shard %zu/%zu tries %zu of them", shard.index, shard.count, owned);
  }
  out.Printf(", into %s\n", sweep_dir.string().c_str());
  // Points that are complete are skipped and never written again, so what a
  // killed run left half-written (in their directories, or a sweep.json or
  // summary of the sweep itself) is removed here.
  const std::vector<std::string> removed = RemoveStaleTemporariesOfRuns(sweep_dir.string());
  if (!removed.empty()) {
    out.Printf("Sweep %s: removed %zu temporary files left by killed runs\n", spec.name.c_str(),
               removed.size());
  }

  std::map<std::string, PointState> states = ScanSweepDir(sweep_dir, points);
  const auto interrupted_line = [&](const std::string& while_doing) {
    return InterruptedSweepLine(spec.path, while_doing, PointsLeft(points, shard, states), owned,
                                shard.count > 1);
  };
  size_t ran = 0, skipped = 0, diverged = 0, elsewhere = 0;
  bool interrupted = false;
  for (const ResolvedPoint& p : points) {
    if (!shard.Owns(p.point.index)) continue;
    const std::string number =
        std::to_string(p.point.index + 1) + "/" + std::to_string(points.size());
    const std::string label = "point " + number + " (" + DescribeVaried(p.point) + ")";
    PointState& state = states[p.id];
    if (state.complete) {
      out.Printf("Sweep %s: %s is complete, skipped\n", spec.name.c_str(), label.c_str());
      ++skipped;
      continue;
    }
    // Between points nothing is at stake. An interrupt that came before
    // must not start the next point.
    if (ExitAtOnceOnInterrupt(interrupted_line(""))) {
      interrupted = true;
      break;
    }
    const fs::path run_dir = sweep_dir / PointDirName(p);
    ClaimHolder holder;
    const std::unique_ptr<PointClaim> claim =
        PointClaim::TryClaim(run_dir.string() + ".claim", &holder);
    if (!claim) {
      out.Printf("Sweep %s: %s is running on %s, skipped\n", spec.name.c_str(), label.c_str(),
                 holder.Describe().c_str());
      ++elsewhere;
      continue;
    }
    // Another process may have completed it between the scan and the claim.
    if (IsCompletePoint(run_dir / "report.json", p.id)) {
      out.Printf("Sweep %s: %s is complete, skipped\n", spec.name.c_str(), label.c_str());
      ++skipped;
      state.complete = true;
      continue;
    }
    if (const std::optional<ClaimHolder>& gone = claim->taken_over()) {
      out.Printf("Sweep %s: %s was claimed by %s, which is gone: taking it over\n",
                 spec.name.c_str(), label.c_str(), gone->Describe().c_str());
    }
    // Under the claim, whatever this point left is a cut-off run: what the
    // scan found, and its directory if a process that died since made it.
    std::vector<fs::path> cut_off = state.stale;
    if (fs::exists(run_dir) &&
        std::find(cut_off.begin(), cut_off.end(), run_dir) == cut_off.end()) {
      cut_off.push_back(run_dir);
    }
    const bool resume = HasCheckpointOf(run_dir, p.id);
    for (const fs::path& stale : cut_off) {
      if (!fs::exists(stale) || (resume && stale == run_dir)) continue;
      out.Printf("Sweep %s: %s was cut off: removing %s and running it again\n",
                 spec.name.c_str(), label.c_str(), stale.string().c_str());
      fs::remove_all(stale, error);
      if (error) {
        throw OutputError(stale.string() + ": cannot remove an incomplete run (" +
                          error.message() + ")");
      }
    }
    if (resume) {
      out.Printf("Sweep %s: %s was cut off: resuming it from its checkpoint\n",
                 spec.name.c_str(), label.c_str());
    } else {
      out.Printf("Sweep %s: %s\n", spec.name.c_str(), label.c_str());
    }
    StdoutLost(prefix);  // says so on stderr as soon as it happens
    RunOptions run;
    run.out_dir = sweep_dir.string();
    run.run_dir_name = PointDirName(p);
    run.sweep = {{"name", spec.name},
                 {"spec", spec.path},
                 {"index", p.point.index},
                 {"point_id", p.id},
                 {"varied", VariedJson(p.point)}};
    run.line_prefix = prefix;
    if (resume) run.resume_dir = run_dir.string();
    run.interrupted_while_loading =
        interrupted_line(" while loading point " + number + "'s data, nothing written for it");
    const RunResult result = RunExperiment(p.config, run);
    ++ran;
    if (result.exit_code == kExitDiverged) ++diverged;
    state.complete = result.finished;
    if (result.exit_code == kExitInterrupted) {
      interrupted = true;
      break;
    }
  }
  if (interrupted && !PointsLeft(points, shard, states).empty()) {
    LinePrinter(stderr, prefix).Printf("%s\n", interrupted_line("").c_str());
    return kExitInterrupted;
  }

  // Every point this process could take is complete (the last may have been
  // interrupted once its training had finished): the summary is worth the
  // moment it takes.
  StopCleanlyOnInterrupt("every point is complete: stopping once the summary is written");
  if (ran == 0 && skipped + elsewhere == owned) {
    out.Printf("Sweep %s: nothing left to claim (%zu points complete, %zu running in another "
               "process)\n\n",
               spec.name.c_str(), skipped, elsewhere);
  } else {
    out.Printf("Sweep %s: %zu points run (%zu diverged), %zu already complete", spec.name.c_str(),
               ran, diverged, skipped);
    if (elsewhere > 0) out.Printf(", %zu running in another process", elsewhere);
    out.Printf("\n\n");
  }
  // Another shard may not have written anything yet, nor this one.
  const std::vector<LoadedReport> reports = FindReports({sweep_dir.string()});
  if (reports.empty()) {
    PrintClosingLine("Sweep " + spec.name + ": no reports yet, so no summary", prefix);
  } else {
    WriteSummary(sweep_dir.string(), reports, out);
    if (StdoutLost(prefix)) {
      LinePrinter(stderr, prefix)
          .Printf("Sweep %s: summary in %s/summary.csv and summary.json\n", spec.name.c_str(),
                  sweep_dir.string().c_str());
    }
  }
  const std::string ended =
      spec.path + ": interrupted after the sweep's last point; its points are complete" +
      (reports.empty() ? "" : " and its summary is written");
  if (ExitAtOnceOnInterrupt(ended) || interrupted) {
    LinePrinter(stderr, prefix).Printf("%s\n", ended.c_str());
    return kExitInterrupted;
  }
  return kExitOk;
}

}  // namespace mb
