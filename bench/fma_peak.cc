#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "bench/fma_peak.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <chrono>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Flops per call: 16 independent accumulators hide the FMA latency (4
// cycles, 2 ports: 8 in flight), `iterations` rounds of 16 FMAs.
double FmaChains(size_t iterations, float* sink) {
  const hn::ScalableTag<float> d;
  const auto a = hn::Set(d, 0.999999f), b = hn::Set(d, 1e-7f);
  hn::Vec<decltype(d)> acc[16];
  for (auto& v : acc) v = hn::Set(d, 1.0f);
  for (size_t i = 0; i < iterations; ++i) {
    for (auto& v : acc) v = hn::MulAdd(v, a, b);
  }
  auto total = acc[0];
  for (size_t j = 1; j < 16; ++j) total = hn::Add(total, acc[j]);
  *sink = hn::GetLane(total);
  return 2.0 * 16 * hn::Lanes(d) * static_cast<double>(iterations);
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <omp.h>

#include "bench/fma_peak.h"

namespace mb {
HWY_EXPORT(FmaChains);

double MeasureFmaPeakGflops() {
  constexpr size_t kIterations = 20'000'000;
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {  // the best of three: noise only slows
    double flops = 0;
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel reduction(+ : flops)
    {
      float sink;
      flops += HWY_DYNAMIC_DISPATCH(FmaChains)(kIterations, &sink);
      if (sink == 12345.0f) flops += 1;  // keep the result alive
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, flops / seconds * 1e-9);
  }
  return best;
}

}  // namespace mb
#endif
