// The line an interrupted sweep ends with: which of its points are left, and
// how to finish them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mb {

// Ascending point numbers as ranges: {2, 3, 4, 7, 9, 10} -> "2-4, 7, 9-10".
// After kMaxRanges ranges the rest is "...", so that a line stays a line.
inline constexpr size_t kMaxRanges = 8;
std::string NumberRanges(const std::vector<size_t>& numbers);

// "<spec_path>: sweep interrupted<while>; 3 of 4 points left (2-4): run the
// same command again to resume", where `left` are the 1-based numbers of
// the points this process owns that are not complete (at least one), of
// `owned` in all ("points of this shard" when `sharded`). `while_doing` is
// "" or starts with a space: " while loading point 2/4's data, ...".
std::string InterruptedSweepLine(const std::string& spec_path, const std::string& while_doing,
                                 const std::vector<size_t>& left, size_t owned, bool sharded);

}  // namespace mb
