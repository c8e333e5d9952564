// Splitting a sweep between processes. Processes started on one sweep
// directory by any launcher (a Slurm job array of any ids, steps or %
// limit; srun with or without PMI; mpirun; a user starting it twice) share
// its points dynamically through the points' claims (sweep/point_claim.h),
// so no launcher's task count or numbering needs to be right: the
// launcher's rank only labels a process's output. --shard K/N asks for a
// static split instead: shard K tries only the points whose index mod N is
// K.
#pragma once

#include <functional>
#include <string>

namespace mb {

struct Shard {
  size_t index = 0;  // K, 0-based
  size_t count = 1;  // N

  bool Owns(size_t point_index) const { return point_index % count == index; }
};

// "K/N" with 0 <= K < N <= 100000; throws InputError naming --shard.
Shard ParseShard(const std::string& text);

// Which task of its launcher this process is, read through `getenv`
// (std::getenv in the runner, a map in tests): "SLURM_ARRAY_TASK_ID=3",
// "OMPI_COMM_WORLD_RANK=1", "PMI_RANK=0" or "SLURM_PROCID=1" (plain srun),
// the first of those set; empty when none is. Any value is taken as it is.
std::string LauncherRank(const std::function<const char*(const char*)>& getenv);

}  // namespace mb
