// Confidence intervals for the numbers a report states, so that "A beats B"
// can be checked against the noise of a finite test set.
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

// P(T <= t) for Student's t with `df` degrees of freedom, through the
// regularized incomplete beta function (Numerical Recipes' continued
// fraction): accurate to ~1e-12, far below what a p-value needs.
double StudentTCdf(double t, double df);

// The 95% interval of the mean of `values` (mean +- t * s / sqrt(n)); NaN
// for fewer than two values.
std::pair<double, double> MeanInterval95(const std::vector<double>& values);

}  // namespace mb
