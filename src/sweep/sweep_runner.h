// Running a sweep: every point this shard owns, one run directory each under
// <out>/<sweep name>/, resumable and with nothing lost.
//
// A point is identified by its point_id, its config_hash: the keys that
// cannot change its numbers (threads, kernels, predict, ...; see HashedPart
// in config/config.h) are not part of it, so a point run again with another
// thread count is the same point. Its run directory is
// <index:03>-<point_id[0:12]>. When the sweep
// runs again, a point whose report is complete (completed or diverged) is
// skipped; a point cut off half-way (killed, power loss, interrupted: its
// directory has no report or a report still "running"/"interrupted")
// continues from its last epoch's checkpoint (train/run_checkpoint.h), with
// the same results as if it had never stopped; one cut off before its
// first checkpoint is removed and run again from scratch. Reports and
// checkpoints are written atomically, so a
// SIGKILL at any moment never leaves a half-written one, and the temporary
// files such a kill leaves are removed when the sweep runs again.
//
// A process runs a point only under its claim (sweep/point_claim.h): any
// number of processes started on one sweep directory, from any hosts that
// share it, run each point once, and a point claimed by a live process is
// skipped, never taken for cut off. Without --shard every process takes
// every point it can claim, so processes started on one sweep by any
// launcher share its points dynamically; a --shard K/N tries only its own.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "sweep/shard.h"
#include "sweep/sweep_spec.h"

namespace mb {

struct SweepOptions {
  std::string out_dir = "results";
  // --set overrides (and --threads as threads=N) for every point, applied
  // after the spec's "set" and before the point's axes.
  std::vector<std::string> overrides;
  std::optional<Shard> shard;  // --shard K/N; nothing: every point it can claim
  // The launcher's rank (sweep/shard.h), "" for none: under a launcher every
  // line the sweep and its runs print starts with "[RANK] ".
  std::string launcher_rank;
};

struct ResolvedPoint {
  SweepPoint point;
  Config config;   // the base config with the spec's set, the overrides and the point's axes
  std::string id;  // point_id
};

// Every point's config, resolved and validated as a run would: an
// InputError naming the spec, the point and the key for a point that would
// fail, and for two points that are one (they differ only in keys that
// cannot change the numbers).
std::vector<ResolvedPoint> ResolvePoints(const SweepSpec& spec, const SweepOptions& options);

// Resolves every point first (a bad point is an InputError before anything
// runs), writes sweep.json, runs the owned points that are not complete,
// then writes the summary of the spec's points in the sweep directory (all
// shards' reports so far; runs of points that are no longer in the spec are
// left out and counted). A diverged point is a result: the sweep goes on.
// An interrupt (train/interrupt.h) starts no further point: the current one
// stops as a single run would, and stderr's last line lists the points
// left (the summary is written only when none are). Returns kExitOk, or
// kExitInterrupted after an interrupt. Throws InputError and OutputError.
int RunSweep(const SweepSpec& spec, const SweepOptions& options);

}  // namespace mb
