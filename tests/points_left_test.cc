// The line an interrupted sweep ends with: the points left, as ranges.
#include <catch2/catch.hpp>

#include "sweep/points_left.h"

namespace mb {
namespace {

TEST_CASE("Point numbers are listed as ranges, and only the first few", "[sweep]") {
  CHECK(NumberRanges({7}) == "7");
  CHECK(NumberRanges({2, 3, 4, 7, 9, 10}) == "2-4, 7, 9-10");
  CHECK(NumberRanges({1, 3, 5, 7, 9, 11, 13, 15}) == "1, 3, 5, 7, 9, 11, 13, 15");
  CHECK(NumberRanges({1, 3, 5, 7, 9, 11, 13, 15, 17, 18}) == "1, 3, 5, 7, 9, 11, 13, 15, ...");
}

TEST_CASE("An interrupted sweep names the points left and how to resume", "[sweep]") {
  CHECK(InterruptedSweepLine("s.json", "", {2, 3, 4}, 4, false) ==
        "s.json: sweep interrupted; 3 of 4 points left (2-4): run the same command again to "
        "resume");
  CHECK(InterruptedSweepLine("s.json", " while loading point 3/8's data", {3, 5, 7}, 4, true) ==
        "s.json: sweep interrupted while loading point 3/8's data; 3 of 4 points of this shard "
        "left (3, 5, 7): run the same command again to resume");
}

}  // namespace
}  // namespace mb
