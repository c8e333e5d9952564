#include "common/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace mb {

namespace {

// The continued fraction of the regularized incomplete beta function I_x(a, b)
// (modified Lentz's method).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEpsilon = 1e-15;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0, d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1.0) < kEpsilon) break;
  }
  return h;
}

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  // The fraction converges quickly on the side of the mean.
  if (x < (a + 1.0) / (a + b + 2.0)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1.0 - front * BetaContinuedFraction(b, a, 1.0 - x) / b;
}

}  // namespace

double StudentTCdf(double t, double df) {
  const double tail = 0.5 * RegularizedIncompleteBeta(df / 2.0, 0.5, df / (df + t * t));
  return t >= 0 ? 1.0 - tail : tail;
}

double StudentT95(double df) {
  double low = 0.0, high = 1000.0;  // P(T <= 1000) > 0.975 from df 1 on
  for (int i = 0; i < 200 && high - low > 1e-12; ++i) {
    const double mid = 0.5 * (low + high);
    (StudentTCdf(mid, df) < 0.975 ? low : high) = mid;
  }
  return 0.5 * (low + high);
}

double Median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double Mean(const std::vector<double>& values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double SampleVariance(const std::vector<double>& values) {
  if (values.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const double mean = Mean(values);
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return squares / static_cast<double>(values.size() - 1);
}

std::pair<double, double> MeanInterval95(const std::vector<double>& values) {
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  if (values.size() < 2) return {kNan, kNan};
  const double n = static_cast<double>(values.size());
  const double mean = Mean(values);
  const double half = StudentT95(n - 1.0) * std::sqrt(SampleVariance(values) / n);
  return {mean - half, mean + half};
}

WelchTTestResult WelchTTest(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2) {
    throw std::invalid_argument("WelchTTest: needs at least 2 values in each sample, got " +
                                std::to_string(a.size()) + " and " + std::to_string(b.size()));
  }
  WelchTTestResult result;
  result.mean_a = Mean(a);
  result.mean_b = Mean(b);
  result.difference = result.mean_a - result.mean_b;
  const double n_a = static_cast<double>(a.size()), n_b = static_cast<double>(b.size());
  // Each mean's estimated variance.
  const double v_a = SampleVariance(a) / n_a, v_b = SampleVariance(b) / n_b;
  const double v = v_a + v_b;
  if (v == 0) {
    result.no_variance = true;
    result.df = std::numeric_limits<double>::quiet_NaN();
    const bool equal = result.difference == 0;
    result.t = equal ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(),
                                            result.difference);
    result.p = equal ? 1.0 : 0.0;
    return result;
  }
  result.t = result.difference / std::sqrt(v);
  result.df = v * v / (v_a * v_a / (n_a - 1.0) + v_b * v_b / (n_b - 1.0));
  // From the lower tail, which is computed directly: 1 - CDF(|t|) would lose
  // small p-values to cancellation.
  result.p = std::min(1.0, 2.0 * StudentTCdf(-std::fabs(result.t), result.df));
  return result;
}

}  // namespace mb
