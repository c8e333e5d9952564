// Static shards from --shard, and the launcher rank that labels a process.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "common/error.h"
#include "sweep/shard.h"

namespace mb {
namespace {

std::string RankOf(const std::map<std::string, std::string>& variables) {
  return LauncherRank([&variables](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  });
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_CASE("--shard K/N owns the indices K mod N", "[sweep]") {
  const Shard shard = ParseShard("1/3");
  CHECK(shard.index == 1);
  CHECK(shard.count == 3);
  CHECK_FALSE(shard.Owns(0));
  CHECK(shard.Owns(1));
  CHECK(shard.Owns(4));
  CHECK(ParseShard("0/1").Owns(7));
  for (const char* bad : {"3/3", "1", "a/2", "1/0", "-1/2", "1/2/3", "", "1/1000001"}) {
    CHECK(ErrorOf([bad] { ParseShard(bad); }) ==
          "--shard: expected K/N with 0 <= K < N <= 100000, got '" + std::string(bad) + "'");
  }
}

TEST_CASE("Every index belongs to exactly one shard", "[sweep]") {
  for (size_t count = 1; count <= 5; ++count) {
    for (size_t i = 0; i < 20; ++i) {
      int owners = 0;
      for (size_t k = 0; k < count; ++k) owners += Shard{k, count}.Owns(i) ? 1 : 0;
      CHECK(owners == 1);
    }
  }
}

// No launcher's numbering is checked: the rank only labels the output, and
// the points are shared through their claims, so an array of any ids works
// (sbatch --array=1,3 gave task 3 of "2 tasks" an error before).
TEST_CASE("The launcher's rank is a label, whatever its value", "[sweep]") {
  CHECK(RankOf({}) == "");
  CHECK(RankOf({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "2"}}) ==
        "SLURM_ARRAY_TASK_ID=3");
  CHECK(RankOf({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}}) ==
        "OMPI_COMM_WORLD_RANK=1");
  CHECK(RankOf({{"PMI_RANK", "x"}}) == "PMI_RANK=x");
  // Plain srun (MpiDefault=none) sets no PMI variables, only its own.
  CHECK(RankOf({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}}) == "SLURM_PROCID=1");
  // An array task started through srun is named by its array id.
  CHECK(RankOf({{"SLURM_PROCID", "0"}, {"SLURM_ARRAY_TASK_ID", "7"}}) == "SLURM_ARRAY_TASK_ID=7");
}

}  // namespace
}  // namespace mb
