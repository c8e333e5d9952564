// kernels/math-inl.h: the accuracy of each function against double precision
// over its whole range, and the promise the kernels rely on: every target of
// a numerics class computes the same bits.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tests/math_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/masked_segment-inl.h"
#include "kernels/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {

enum MathFunction { kExp, kExpm1, kLog, kLog1p, kErf, kTanh, kSigmoid, kFunctions };

// out[i] = f(in[i]), a vector at a time, the last one masked.
void Apply(int function, const float* in, float* out, size_t n) {
  ForEachSegment(n, [&](auto d, size_t i, bool partial, auto mask) {
    const auto x = LoadSegment(d, in + i, partial, mask);
    hn::Vec<decltype(d)> y;
    switch (function) {
      case kExp: y = Exp(d, x); break;
      case kExpm1: y = Expm1(d, x); break;
      case kLog: y = Log(d, x); break;
      case kLog1p: y = Log1p(d, x); break;
      case kErf: y = Erf(d, x); break;
      case kTanh: y = Tanh(d, x); break;
      default: y = Sigmoid(d, x); break;
    }
    StoreSegment(d, y, out + i, partial, mask);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <omp.h>

#include "hwy/targets.h"
#include "kernel_test_support.h"
#include "kernels/target.h"
#include "kernels/vector_math.h"

namespace mb {
namespace {

HWY_EXPORT(Apply);

using HWY_NAMESPACE::kExp;
using HWY_NAMESPACE::kExpm1;
using HWY_NAMESPACE::kFunctions;
using HWY_NAMESPACE::kLog;
using HWY_NAMESPACE::kLog1p;
using HWY_NAMESPACE::kErf;
using HWY_NAMESPACE::kSigmoid;
using HWY_NAMESPACE::kTanh;

uint32_t Bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

float FromBits(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

// About `count` floats evenly spaced in bit pattern between lo and hi (same
// sign), so every binade of the range is sampled alike, plus both ends.
std::vector<float> Sample(float lo, float hi, size_t count) {
  std::vector<float> values;
  uint32_t a = Bits(lo), b = Bits(hi);
  if (a > b) std::swap(a, b);
  const uint32_t step = std::max<uint32_t>(1, (b - a) / static_cast<uint32_t>(count));
  for (uint32_t bits = a; bits < b; bits += step) values.push_back(FromBits(bits));
  values.push_back(FromBits(b));
  return values;
}

std::vector<float> Apply(int function, const std::vector<float>& in) {
  std::vector<float> out(in.size());
  HWY_DYNAMIC_DISPATCH(Apply)(function, in.data(), out.data(), in.size());
  return out;
}

// |actual - expected| in units of the float spacing at `expected`.
double UlpError(float actual, double expected) {
  if (std::isinf(expected)) return actual == expected ? 0.0 : HUGE_VAL;
  const float rounded = static_cast<float>(expected);
  const double ulp = std::nextafter(std::fabs(rounded), HUGE_VALF) - std::fabs(rounded);
  return std::fabs(static_cast<double>(actual) - expected) / ulp;
}

// The worst ulp error of `function` over `inputs` against `reference`,
// reporting the input where it occurs.
template <class Reference>
double WorstUlp(int function, const std::vector<float>& inputs, const Reference& reference,
                float* worst_input) {
  const std::vector<float> out = Apply(function, inputs);
  double worst = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const double error = UlpError(out[i], reference(static_cast<double>(inputs[i])));
    if (!(error <= worst)) {
      worst = error;
      *worst_input = inputs[i];
    }
  }
  return worst;
}

// Runs body(target name) for every compiled target the CPU supports.
template <class Body>
void ForEachTarget(const Body& body) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    INFO("target " << hwy::TargetName(target));
    body(std::string(hwy::TargetName(target)));
  }
  hwy::SetSupportedTargetsForTest(0);
}

constexpr size_t kSamples = 100000;

TEST_CASE("Exp and Expm1 are within 1.5 ulp of e^x", "[math]") {
  ForEachTarget([](const std::string&) {
    float at = 0;
    std::vector<float> inputs = Sample(-1e-30f, -87.3f, kSamples);
    for (float x : Sample(1e-30f, 88.7f, kSamples)) inputs.push_back(x);
    const double exp = WorstUlp(kExp, inputs, [](double x) { return std::exp(x); }, &at);
    {
      INFO("Exp " << exp << " ulp at " << at);
      CHECK(exp <= 1.5);
    }
    std::vector<float> near_zero = Sample(-1e-30f, -17.0f, kSamples);
    for (float x : Sample(1e-30f, 17.0f, kSamples)) near_zero.push_back(x);
    const double expm1 = WorstUlp(kExpm1, near_zero, [](double x) { return std::expm1(x); }, &at);
    {
      INFO("Expm1 " << expm1 << " ulp at " << at);
      CHECK(expm1 <= 1.5);
    }
  });
}

TEST_CASE("Exp at the ends of its range", "[math]") {
  ForEachTarget([](const std::string&) {
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> in = {0.0f, -0.0f, 88.8f, 1000.0f, inf, -104.0f, -1000.0f, -inf,
                                   -100.0f, NAN};
    const std::vector<float> out = Apply(kExp, in);
    CHECK(out[0] == 1.0f);
    CHECK(out[1] == 1.0f);
    CHECK(out[2] == inf);
    CHECK(out[3] == inf);
    CHECK(out[4] == inf);
    CHECK(out[5] == 0.0f);
    CHECK(out[6] == 0.0f);
    CHECK(out[7] == 0.0f);
    // A subnormal result, as the C library's (no flush-to-zero in this test).
    CHECK(std::fabs(out[8] - std::exp(-100.0f)) <= 2 * std::numeric_limits<float>::denorm_min());
    CHECK(std::isnan(out[9]));
  });
}

TEST_CASE("Log and Log1p are within 1.5 ulp", "[math]") {
  ForEachTarget([](const std::string&) {
    float at = 0;
    const std::vector<float> positive =
        Sample(std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(),
               2 * kSamples);
    const double log = WorstUlp(kLog, positive, [](double x) { return std::log(x); }, &at);
    {
      INFO("Log " << log << " ulp at " << at);
      CHECK(log <= 1.5);
    }
    std::vector<float> near_zero = Sample(-1e-30f, -0.9999f, kSamples);
    for (float x : Sample(1e-30f, 1e30f, kSamples)) near_zero.push_back(x);
    const double log1p = WorstUlp(kLog1p, near_zero, [](double x) { return std::log1p(x); }, &at);
    {
      INFO("Log1p " << log1p << " ulp at " << at);
      CHECK(log1p <= 1.5);
    }
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> out = Apply(kLog, {0.0f, -0.0f, -1.0f, inf, -inf, NAN, 1.0f});
    CHECK(out[0] == -inf);
    CHECK(out[1] == -inf);
    CHECK(std::isnan(out[2]));
    CHECK(out[3] == inf);
    CHECK(std::isnan(out[4]));
    CHECK(std::isnan(out[5]));
    CHECK(out[6] == 0.0f);
    const std::vector<float> ends = Apply(kLog1p, {0.0f, -1.0f, inf, -2.0f, NAN});
    CHECK(ends[0] == 0.0f);
    CHECK(ends[1] == -inf);
    CHECK(ends[2] == inf);
    CHECK(std::isnan(ends[3]));
    CHECK(std::isnan(ends[4]));
  });
}

TEST_CASE("Erf is within 1e-7 of erf, and within 3 ulp near 0", "[math]") {
  ForEachTarget([](const std::string&) {
    std::vector<float> inputs = Sample(1e-30f, 6.0f, kSamples);
    for (float x : Sample(-1e-30f, -6.0f, kSamples)) inputs.push_back(x);
    const std::vector<float> out = Apply(kErf, inputs);
    double worst_abs = 0, worst_ulp_small = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const double expected = std::erf(static_cast<double>(inputs[i]));
      worst_abs = std::max(worst_abs, std::fabs(out[i] - expected));
      if (std::fabs(inputs[i]) < 0.875f) {
        worst_ulp_small = std::max(worst_ulp_small, UlpError(out[i], expected));
      }
    }
    {
      INFO("Erf absolute error " << worst_abs);
      CHECK(worst_abs <= 1e-7);
    }
    {
      INFO("Erf " << worst_ulp_small << " ulp below 0.875");
      CHECK(worst_ulp_small <= 3.0);
    }
    const std::vector<float> ends = Apply(kErf, {0.0f, 10.0f, -10.0f, NAN});
    CHECK(ends[0] == 0.0f);
    CHECK(ends[1] == 1.0f);
    CHECK(ends[2] == -1.0f);
    CHECK(std::isnan(ends[3]));
  });
}

TEST_CASE("Tanh and Sigmoid are within 2.5 ulp", "[math]") {
  ForEachTarget([](const std::string&) {
    float at = 0;
    std::vector<float> inputs = Sample(1e-30f, 20.0f, kSamples);
    for (float x : Sample(-1e-30f, -20.0f, kSamples)) inputs.push_back(x);
    const double tanh = WorstUlp(kTanh, inputs, [](double x) { return std::tanh(x); }, &at);
    {
      INFO("Tanh " << tanh << " ulp at " << at);
      CHECK(tanh <= 2.5);
    }
    std::vector<float> wide = Sample(1e-30f, 87.0f, kSamples);
    for (float x : Sample(-1e-30f, -87.0f, kSamples)) wide.push_back(x);
    const double sigmoid =
        WorstUlp(kSigmoid, wide, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, &at);
    {
      INFO("Sigmoid " << sigmoid << " ulp at " << at);
      CHECK(sigmoid <= 2.5);
    }
    const std::vector<float> ends = Apply(kTanh, {0.0f, 100.0f, -100.0f, NAN});
    CHECK(ends[0] == 0.0f);
    CHECK(ends[1] == 1.0f);
    CHECK(ends[2] == -1.0f);
    CHECK(std::isnan(ends[3]));
  });
}

TEST_CASE("Every target of a numerics class computes the same bits", "[math]") {
  // A mix of every range the functions handle, as one array whose length
  // leaves a partial last vector on every target.
  std::vector<float> inputs = Sample(1e-30f, 100.0f, 20011);
  for (float x : Sample(-1e-30f, -100.0f, 20011)) inputs.push_back(x);
  std::map<std::string, std::map<int, std::vector<float>>> first_of_class;  // class -> outputs
  std::map<std::string, std::string> first_target;
  size_t compared = 0;
  ForEachTarget([&](const std::string& target) {
    const std::string numerics = NumericsClass();
    std::map<int, std::vector<float>> outputs;
    for (int f = 0; f < kFunctions; ++f) outputs[f] = Apply(f, inputs);
    const auto found = first_of_class.find(numerics);
    if (found == first_of_class.end()) {
      first_of_class[numerics] = outputs;
      first_target[numerics] = target;
      return;
    }
    INFO(target << " against " << first_target[numerics] << ", class " << numerics);
    for (int f = 0; f < kFunctions; ++f) {
      INFO("function " << f);
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (Bits(outputs[f][i]) != Bits(found->second[f][i])) {
          FAIL("input " << inputs[i] << ": " << outputs[f][i] << " vs " << found->second[f][i]);
        }
      }
    }
    ++compared;
  });
  // On x86 every machine has at least SSE4, SSSE3 and SCALAR: one class with
  // three targets.
  CHECK(compared >= 2);
}

// vector_math.h's array forms split large arrays over the team: each
// element must still get the bits it gets alone (here: computed one element
// per call, a masked vector), for every activation, in place and into a
// second array, at 1 and 2 threads.
TEST_CASE("Activation arrays split over the team give each element its own bits", "[math]") {
  const size_t n = (size_t{1} << 16) + 1003;  // several team blocks, a partial vector
  const auto z = RandomMatrix(n, 41);
  const auto g = RandomMatrix(n, 42);
  for (Activation act : {Activation::kRelu, Activation::kTanh, Activation::kSigmoid,
                         Activation::kGelu, Activation::kLinear}) {
    INFO("activation " << static_cast<int>(act));
    std::vector<float> a = z, one_by_one_a = z, one_by_one_g = g;
    for (size_t i = 0; i < n; ++i) {
      ActivationInPlace(act, &one_by_one_a[i], 1);
      ActivationGradientInPlace(act, &z[i], &one_by_one_a[i], &one_by_one_g[i], 1);
    }
    for (int threads : {1, 2}) {
      INFO(threads << " threads");
      omp_set_num_threads(threads);
      std::vector<float> y = z, in_place = g, into(n, 7.0f);
      ActivationInPlace(act, y.data(), n);
      ActivationGradientInPlace(act, z.data(), one_by_one_a.data(), in_place.data(), n);
      ActivationGradient(act, z.data(), one_by_one_a.data(), g.data(), into.data(), n);
      size_t differing = 0, first = n;
      for (size_t i = 0; i < n; ++i) {
        if (Bits(y[i]) != Bits(one_by_one_a[i]) || Bits(in_place[i]) != Bits(one_by_one_g[i]) ||
            Bits(into[i]) != Bits(one_by_one_g[i])) {
          if (differing++ == 0) first = i;
        }
      }
      INFO("first differing element " << first);
      CHECK(differing == 0);
    }
    omp_set_num_threads(omp_get_num_procs());
  }
}

}  // namespace
}  // namespace mb
#endif  // HWY_ONCE
