// common/portable_log.h against the 64-bit-mantissa logl, and the normal
// generator built on it.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "common/portable_log.h"
#include "common/rng.h"

namespace {

double FromBits(uint64_t bits) {
  double x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

TEST_CASE("PortableLog is within 1 ulp of log over all doubles", "[common]") {
  // Bit patterns from the smallest subnormal to the largest double.
  const uint64_t last = 0x7fefffffffffffffull;
  const uint64_t step = last / 400000;
  double worst = 0, at = 0;
  for (uint64_t bits = 1; bits <= last; bits += step) {
    const double x = FromBits(bits);
    const long double expected = std::log(static_cast<long double>(x));
    const double rounded = static_cast<double>(expected);
    const double ulp = std::nextafter(std::fabs(rounded), HUGE_VAL) - std::fabs(rounded);
    const double error =
        static_cast<double>(std::fabs(static_cast<long double>(mb::PortableLog(x)) - expected)) /
        (rounded == 0 ? std::numeric_limits<double>::denorm_min() : ulp);
    if (error > worst) worst = error, at = x;
  }
  {
      INFO(worst << " ulp at " << at);
      CHECK(worst <= 1.0);
    }
  CHECK(mb::PortableLog(1.0) == 0.0);
  CHECK(mb::PortableLog(0.0) == -HUGE_VAL);
  CHECK(std::isnan(mb::PortableLog(-1.0)));
  CHECK(mb::PortableLog(HUGE_VAL) == HUGE_VAL);
}

TEST_CASE("Rng::Normal has mean 0 and variance 1", "[common]") {
  mb::Rng rng(7);
  double sum = 0, sum_squares = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Normal();
    sum += x;
    sum_squares += x * x;
  }
  const double mean = sum / n;
  CHECK(std::fabs(mean) < 0.01);
  CHECK(std::fabs(sum_squares / n - mean * mean - 1.0) < 0.02);
}

}  // namespace
