// Shards from --shard and from the environment of Slurm arrays and MPI.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "common/error.h"
#include "sweep/shard.h"

namespace mb {
namespace {

std::optional<Shard> FromEnvironment(const std::map<std::string, std::string>& variables) {
  return ShardFromEnvironment([&variables](const char* name) -> const char* {
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
      for (size_t k = 0; k < count; ++k) owners += Shard{k, count, ""}.Owns(i) ? 1 : 0;
      CHECK(owners == 1);
    }
  }
}

TEST_CASE("Slurm arrays, Open MPI and PMI set the shard", "[sweep]") {
  CHECK_FALSE(FromEnvironment({}));
  std::optional<Shard> shard =
      FromEnvironment({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"}});
  REQUIRE(shard);
  CHECK((shard->index == 2 && shard->count == 4 && shard->source == "SLURM_ARRAY_TASK_ID"));
  // sbatch --array=10-13: ids 10..13 are shards 0..3.
  shard = FromEnvironment({{"SLURM_ARRAY_TASK_ID", "11"},
                           {"SLURM_ARRAY_TASK_COUNT", "4"},
                           {"SLURM_ARRAY_TASK_MIN", "10"}});
  REQUIRE(shard);
  CHECK(shard->index == 1);
  shard = FromEnvironment({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}});
  REQUIRE(shard);
  CHECK((shard->index == 1 && shard->count == 2 && shard->source == "OMPI_COMM_WORLD_RANK"));
  shard = FromEnvironment({{"PMI_RANK", "0"}, {"PMI_SIZE", "3"}});
  REQUIRE(shard);
  CHECK((shard->index == 0 && shard->count == 3));
  // A job of one task is no split.
  CHECK_FALSE(FromEnvironment({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "1"}}));
  // An index without its count is not a launcher's.
  CHECK_FALSE(FromEnvironment({{"PMI_RANK", "1"}}));
}

TEST_CASE("A bad shard environment is an error naming the variable", "[sweep]") {
  CHECK(ErrorOf([] { FromEnvironment({{"PMI_RANK", "x"}, {"PMI_SIZE", "2"}}); }) ==
        "environment variable PMI_RANK: expected a number up to 100000, got 'x'");
  CHECK(ErrorOf([] { FromEnvironment({{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "2"}}); }) ==
        "environment variable OMPI_COMM_WORLD_RANK=2 is outside the 2 tasks of OMPI_COMM_WORLD_SIZE");
}

}  // namespace
}  // namespace mb
