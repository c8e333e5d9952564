// The natural logarithm in double precision from additions, multiplications
// and one division only, so that it gives the same bits on every machine and
// compiler (with -ffp-contract=off, as the build sets): the C library's log
// differs between libm versions and, in glibc, between CPUs. Within 1 ulp of
// the true value (tests/portable_log_test.cc). For initialisers, not for hot
// loops.
#pragma once

#include <cmath>
#include <limits>

namespace mb {

inline double PortableLog(double x) {
  if (std::isnan(x) || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  // x = 2^e m, m in [sqrt(1/2), sqrt(2)) (frexp is exact).
  int e = 0;
  double m = std::frexp(x, &e);
  if (m < 0.70710678118654752440) {
    m *= 2;
    --e;
  }
  // log(m) = 2 atanh(s) = 2s + s R(s^2), s = (m - 1) / (m + 1), |s| < 0.172:
  // R(z) = sum_k 2 z^k / (2k + 1), whose 12th term is below 2^-60 of 2s.
  const double f = m - 1;
  const double s = f / (2 + f);
  const double z = s * s;
  double r = 0;
  for (int k = 12; k >= 1; --k) r = (r + 2.0 / (2 * k + 1)) * z;
  // log(x) = e ln2 + f - (f^2/2 - s (f^2/2 + R)), with ln2 split so that
  // e * ln2_high is exact and its rest joins the small terms, before the
  // one rounding that adds the large ones.
  const double half_square = 0.5 * f * f;
  const double ln2_high = 6.93147180369123816490e-01;  // ln 2 to 32 bits
  const double ln2_low = 1.90821492927058770002e-10;   // the rest
  return e * ln2_high - ((half_square - (s * (half_square + r) + e * ln2_low)) - f);
}

}  // namespace mb
