#include "sweep/shard.h"

#include <optional>

#include "common/error.h"
#include "common/parse_decimal.h"

namespace mb {
namespace {

constexpr size_t kMaxShards = 100000;

}  // namespace

Shard ParseShard(const std::string& text) {
  const size_t slash = text.find('/');
  const std::optional<size_t> index =
      slash == std::string::npos ? std::nullopt : ParseDecimal(text.substr(0, slash), 6);
  const std::optional<size_t> count =
      slash == std::string::npos ? std::nullopt : ParseDecimal(text.substr(slash + 1), 6);
  if (!index || !count || *count == 0 || *count > kMaxShards || *index >= *count) {
    throw InputError("--shard: expected K/N with 0 <= K < N <= " + std::to_string(kMaxShards) +
                     ", got '" + text + "'");
  }
  return Shard{*index, *count};
}

std::string LauncherRank(const std::function<const char*(const char*)>& getenv) {
  // A job array's task first: its tasks may also run under srun.
  for (const char* name :
       {"SLURM_ARRAY_TASK_ID", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const char* value = getenv(name)) return std::string(name) + "=" + value;
  }
  return "";
}

}  // namespace mb
