// Confidence intervals and a test of two means for the numbers reports
// state, so that "A beats B" can be checked against the noise of a finite
// test set and of the seeds.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace mb {

// z of a two-sided 95% normal interval.
inline constexpr double kZ95 = 1.959963984540054;

// Wilson's 95% score interval for a proportion of `successes` out of
// `trials` (Wilson 1927): unlike p +- z sqrt(p(1-p)/n) it stays inside
// [0, 1] and does not collapse at p = 1. [0, 1] for no trials.
inline std::pair<double, double> WilsonInterval95(uint64_t successes, uint64_t trials) {
  if (trials == 0) return {0.0, 1.0};
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z2 = kZ95 * kZ95;
  const double denominator = 1.0 + z2 / n;
  const double center = (p + z2 / (2.0 * n)) / denominator;
  const double half = kZ95 / denominator * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n));
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

// The two-sided 95% quantile of Student's t with `df` degrees of freedom
// (t such that P(|T| <= t) = 0.95), for an interval of a mean over a few
// seeds: 12.706 for df 1, 2.776 for df 4, 1.96 as df grows. Found by
// bisection on the t distribution's CDF.
double StudentT95(double df);

// P(T <= t) for Student's t with `df` > 0 degrees of freedom, any real
// number (Welch's test gives fractional ones), through the regularized
// incomplete beta function (Numerical Recipes' continued fraction): accurate
// to ~1e-12, far below what a p-value needs. A negative t's tail is computed
// directly, so that small probabilities keep their relative accuracy.
double StudentTCdf(double t, double df);

// The arithmetic mean; NaN for no values.
double Mean(const std::vector<double>& values);

// The middle value, the mean of the two middle ones for an even count; NaN
// for no values.
double Median(std::vector<double> values);

// The sample variance, sum((v - mean)^2) / (n - 1); NaN for fewer than two
// values.
double SampleVariance(const std::vector<double>& values);

// The 95% interval of the mean of `values` (mean +- t * s / sqrt(n)); NaN
// for fewer than two values.
std::pair<double, double> MeanInterval95(const std::vector<double>& values);

// Welch's t-test (Welch 1947) of whether the means of two samples differ,
// without assuming equal variances, as scipy.stats.ttest_ind(a, b,
// equal_var=False) computes it. With m, s^2 and n each sample's mean,
// sample variance and size, and v = s^2 / n:
//
//   t  = (m_a - m_b) / sqrt(v_a + v_b)
//   df = (v_a + v_b)^2 / (v_a^2 / (n_a - 1) + v_b^2 / (n_b - 1))
//        (Welch-Satterthwaite; real-valued, between min(n) - 1 and n_a + n_b - 2)
//   p  = 2 P(T_df <= -|t|)   (two-sided)
//
// When neither sample varies (v_a + v_b = 0) t and df are 0/0: then p is 1
// for equal means (t 0) and 0 for different ones (t +-infinity, the
// difference being certain as far as the samples tell), df is NaN and
// `no_variance` is set, for the caller to say so.
struct WelchTTestResult {
  double mean_a = 0, mean_b = 0;
  double difference = 0;  // mean_a - mean_b
  double t = 0;
  double df = 0;
  double p = 1;
  bool no_variance = false;
};

// Throws std::invalid_argument when either sample has fewer than 2 values
// (no variance can be estimated from one).
WelchTTestResult WelchTTest(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace mb
