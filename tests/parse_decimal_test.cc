#include "common/parse_decimal.h"

#include <catch2/catch.hpp>

namespace mb {
namespace {

TEST_CASE("ParseDecimal takes digits only, up to a length", "[config]") {
  CHECK(ParseDecimal("0", 4) == size_t{0});
  CHECK(ParseDecimal("0042", 4) == size_t{42});
  CHECK(ParseDecimal("1024", 4) == size_t{1024});
  CHECK(ParseDecimal("999999", 6) == size_t{999999});
  CHECK_FALSE(ParseDecimal("10240", 4));
  CHECK_FALSE(ParseDecimal("", 4));
  CHECK_FALSE(ParseDecimal("-1", 4));
  CHECK_FALSE(ParseDecimal("+1", 4));
  CHECK_FALSE(ParseDecimal(" 1", 4));
  CHECK_FALSE(ParseDecimal("1e3", 4));
  CHECK_FALSE(ParseDecimal("12a", 4));
  // More digits than a size_t is guaranteed to hold without overflow.
  CHECK_FALSE(ParseDecimal("1234567890", 10));
}

}  // namespace
}  // namespace mb
