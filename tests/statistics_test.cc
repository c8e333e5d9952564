// Student's t distribution at real-valued degrees of freedom and Welch's
// t-test, against scipy (1.10.1) and closed forms. The reference values were
// computed with scipy.stats.t.cdf and scipy.stats.ttest_ind(a, b,
// equal_var=False); the df with the Welch-Satterthwaite formula in
// statistics.h from numpy's var(ddof=1).
#include "common/statistics.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace mb {
namespace {

TEST_CASE("StudentTCdf takes real degrees of freedom", "[statistics]") {
  // Closed forms: df 1 is Cauchy's 1/2 + atan(t)/pi; df 2 is
  // 1/2 + t / (2 sqrt(2 + t^2)).
  for (const double t : {-3.0, -0.5, 0.0, 0.7, 12.0}) {
    CHECK(StudentTCdf(t, 1) == Approx(0.5 + std::atan(t) / M_PI).epsilon(1e-12));
    CHECK(StudentTCdf(t, 2) == Approx(0.5 + t / (2 * std::sqrt(2 + t * t))).epsilon(1e-12));
  }
  // scipy.stats.t.cdf(t, df):
  CHECK(StudentTCdf(1.5, 3.7) == Approx(0.8932009153989934).epsilon(1e-11));
  CHECK(StudentTCdf(-2.0, 0.5) == Approx(0.22275744509156561).epsilon(1e-11));
  CHECK(StudentTCdf(0.3, 2.5) == Approx(0.6063288142524015).epsilon(1e-11));
  CHECK(StudentTCdf(4.0, 7.25) == Approx(0.9975850684597098).epsilon(1e-11));
}

TEST_CASE("Mean and SampleVariance", "[statistics]") {
  CHECK(Mean({1.0, 2.0, 6.0}) == 3.0);
  CHECK(SampleVariance({1.0, 2.0, 6.0}) == 7.0);  // (4 + 1 + 9) / 2
  CHECK(std::isnan(Mean({})));
  CHECK(std::isnan(SampleVariance({5.0})));
}

TEST_CASE("Median: the middle value, or the mean of the two middle ones", "[statistics]") {
  CHECK(Median({3.0, 1.0, 2.0}) == 2.0);
  CHECK(Median({4.0, 1.0, 3.0, 2.0}) == 2.5);
  CHECK(Median({7.0}) == 7.0);
  CHECK(std::isnan(Median({})));
}

struct WelchCase {
  std::vector<double> a, b;
  double mean_a, mean_b, t, df, p;
};

TEST_CASE("WelchTTest matches scipy's ttest_ind(equal_var=False)", "[statistics]") {
  const WelchCase cases[] = {
      // Five seeds against four: a fractional df.
      {{0.9794, 0.9801, 0.9788, 0.9810, 0.9795},
       {0.9780, 0.9779, 0.9792, 0.9785},
       0.97976, 0.9784, 2.8548925165138384, 6.956077882567027, 0.02468151028336163},
      // By hand: means 2.5 and 6, v = 1.6667 / 4 and 10 / 5, t = -3.5 /
      // sqrt(2.41667), df = 2.41667^2 / (0.41667^2 / 3 + 2^2 / 4).
      {{1, 2, 3, 4}, {2, 4, 6, 8, 10}, 2.5, 6.0, -2.2514363231593695, 5.520787746170677,
       0.06913359319239236},
      // One constant sample: df is the other's n - 1.
      {{1, 1, 1}, {1, 2, 3}, 1.0, 2.0, -1.7320508075688774, 2.0, 0.22540333075851657},
      // Far apart: a small p keeps its relative accuracy.
      {{0.90, 0.91, 0.92}, {0.50, 0.51}, 0.91, 0.505, 53.02694732734611, 2.8823529411764706,
       2.120943367503517e-05},
  };
  for (const WelchCase& c : cases) {
    const WelchTTestResult r = WelchTTest(c.a, c.b);
    CHECK(r.mean_a == Approx(c.mean_a).epsilon(1e-12));
    CHECK(r.mean_b == Approx(c.mean_b).epsilon(1e-12));
    CHECK(r.difference == Approx(c.mean_a - c.mean_b).epsilon(1e-12));
    CHECK(r.t == Approx(c.t).epsilon(1e-9));
    CHECK(r.df == Approx(c.df).epsilon(1e-9));
    CHECK(r.p == Approx(c.p).epsilon(1e-9));
    CHECK_FALSE(r.no_variance);
    // Swapping the samples flips t and keeps p.
    const WelchTTestResult swapped = WelchTTest(c.b, c.a);
    CHECK(swapped.t == Approx(-c.t).epsilon(1e-9));
    CHECK(swapped.p == Approx(c.p).epsilon(1e-9));
  }
}

TEST_CASE("WelchTTest of equal samples gives p = 1", "[statistics]") {
  const WelchTTestResult r = WelchTTest({0.97, 0.98, 0.99}, {0.97, 0.98, 0.99});
  CHECK(r.t == 0.0);
  CHECK(r.df == Approx(4.0));  // equal variances and sizes: 2n - 2
  CHECK(r.p == 1.0);
}

TEST_CASE("WelchTTest without variance on either side: p is 1 or 0", "[statistics]") {
  const WelchTTestResult same = WelchTTest({0.9, 0.9}, {0.9, 0.9, 0.9});
  CHECK(same.no_variance);
  CHECK(same.t == 0.0);
  CHECK(std::isnan(same.df));
  CHECK(same.p == 1.0);

  const WelchTTestResult lower = WelchTTest({0.9, 0.9}, {0.95, 0.95});
  CHECK(lower.no_variance);
  CHECK(lower.t == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(lower.df));
  CHECK(lower.p == 0.0);
  CHECK(lower.difference == Approx(-0.05));
  CHECK(WelchTTest({0.95, 0.95}, {0.9, 0.9}).t == std::numeric_limits<double>::infinity());
}

TEST_CASE("WelchTTest needs two values on each side", "[statistics]") {
  CHECK_THROWS_AS(WelchTTest({0.9}, {0.9, 0.91}), std::invalid_argument);
  CHECK_THROWS_AS(WelchTTest({0.9, 0.91}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace mb
