// Splitting a sweep over machines: shard K of N runs the points whose index
// mod N is K. Given with --shard K/N, or taken from the environment of a
// Slurm job array or an MPI launcher, so that `sbatch --array=0-7` and
// `mpirun -np 8` split the work with no extra flags.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace mb {

struct Shard {
  size_t index = 0;  // K, 0-based
  size_t count = 1;  // N
  std::string source;  // where it came from: "--shard", "SLURM_ARRAY_TASK_ID", ...

  bool Owns(size_t point_index) const { return point_index % count == index; }
};

// "K/N" with 0 <= K < N <= 100000; throws InputError naming --shard.
Shard ParseShard(const std::string& text);

// The shard from the environment, read through `getenv` (std::getenv in the
// runner, a map in tests), in this order:
//   Slurm job array: SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN (0 when
//     unset) of SLURM_ARRAY_TASK_COUNT;
//   Open MPI: OMPI_COMM_WORLD_RANK of OMPI_COMM_WORLD_SIZE;
//   MPICH, Intel MPI and Slurm's srun (PMI): PMI_RANK of PMI_SIZE.
// Nothing when none is set or the count is 1. Throws InputError naming the
// variable when a value is not a number or the index is out of range.
std::optional<Shard> ShardFromEnvironment(
    const std::function<const char*(const char*)>& getenv);

}  // namespace mb
