#include "sweep/shard.h"

#include "common/error.h"
#include "common/parse_decimal.h"

namespace mb {
namespace {

constexpr size_t kMaxShards = 100000;

// A decimal number of up to 6 digits (indices may exceed kMaxShards before
// a launcher's first index is subtracted), or nothing.
std::optional<size_t> ParseCount(const std::string& text) { return ParseDecimal(text, 6); }

}  // namespace

Shard ParseShard(const std::string& text) {
  const size_t slash = text.find('/');
  const std::optional<size_t> index =
      slash == std::string::npos ? std::nullopt : ParseCount(text.substr(0, slash));
  const std::optional<size_t> count =
      slash == std::string::npos ? std::nullopt : ParseCount(text.substr(slash + 1));
  if (!index || !count || *count == 0 || *count > kMaxShards || *index >= *count) {
    throw InputError("--shard: expected K/N with 0 <= K < N <= " + std::to_string(kMaxShards) +
                     ", got '" + text + "'");
  }
  return Shard{*index, *count, "--shard"};
}

std::optional<Shard> ShardFromEnvironment(
    const std::function<const char*(const char*)>& getenv) {
  struct Launcher {
    const char* index;
    const char* count;
    const char* first;  // subtracted from the index (Slurm arrays may start anywhere)
  };
  static constexpr Launcher kLaunchers[] = {
      {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN"},
      {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", nullptr},
      {"PMI_RANK", "PMI_SIZE", nullptr},
  };
  for (const Launcher& launcher : kLaunchers) {
    const char* index_text = getenv(launcher.index);
    const char* count_text = getenv(launcher.count);
    if (!index_text || !count_text) continue;
    const auto number = [](const char* name, const char* text) {
      const std::optional<size_t> value = ParseCount(text);
      if (!value) {
        throw InputError(std::string("environment variable ") + name +
                         ": expected a number up to " + std::to_string(kMaxShards) + ", got '" +
                         text + "'");
      }
      return *value;
    };
    size_t index = number(launcher.index, index_text);
    const size_t count = number(launcher.count, count_text);
    const char* first_text = launcher.first ? getenv(launcher.first) : nullptr;
    const size_t first = first_text ? number(launcher.first, first_text) : 0;
    if (index < first || index - first >= count || count == 0) {
      throw InputError(std::string("environment variable ") + launcher.index + "=" + index_text +
                       " is outside the " + std::to_string(count) + " tasks of " +
                       launcher.count + (first_text ? " from " + std::string(first_text) : ""));
    }
    index -= first;
    if (count == 1) return std::nullopt;
    return Shard{index, count, launcher.index};
  }
  return std::nullopt;
}

}  // namespace mb
