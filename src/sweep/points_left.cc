#include "sweep/points_left.h"

namespace mb {

std::string NumberRanges(const std::vector<size_t>& numbers) {
  std::string text;
  size_t ranges = 0;
  for (size_t i = 0; i < numbers.size();) {
    size_t last = i;
    while (last + 1 < numbers.size() && numbers[last + 1] == numbers[last] + 1) ++last;
    if (ranges == kMaxRanges) return text + ", ...";
    text += (text.empty() ? "" : ", ") + std::to_string(numbers[i]);
    if (last > i) text += "-" + std::to_string(numbers[last]);
    ++ranges;
    i = last + 1;
  }
  return text;
}

std::string InterruptedSweepLine(const std::string& spec_path, const std::string& while_doing,
                                 const std::vector<size_t>& left, size_t owned, bool sharded) {
  return spec_path + ": sweep interrupted" + while_doing + "; " + std::to_string(left.size()) +
         " of " + std::to_string(owned) +
         (sharded ? " points of this shard" : " points") + " left (" + NumberRanges(left) +
         "): run the same command again to resume";
}

}  // namespace mb
