// What the kernel tests share: seeded random matrices, a closeness check
// that names the first mismatch, and a loop over every SIMD target.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hwy/targets.h"
#include "kernels/target.h"

namespace mb {

// Values uniform in [-1, 1); a fraction 1 - density of them zero.
inline std::vector<float> RandomMatrix(size_t count, uint32_t seed, float density = 1.0f) {
  std::vector<float> v(count);
  uint32_t s = seed * 2654435761u + 1;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    const float u = static_cast<float>(s >> 8) / 16777216.0f;
    s = s * 1664525u + 1013904223u;
    const float keep = static_cast<float>(s >> 8) / 16777216.0f;
    x = keep < density ? 2.0f * u - 1.0f : 0.0f;
  }
  return v;
}

// |a - b| <= tol * (1 + |b|), reporting the first mismatch.
inline void RequireClose(const std::vector<float>& actual, const std::vector<float>& expected,
                         float tol, const std::string& what) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!(std::fabs(actual[i] - expected[i]) <= tol * (1.0f + std::fabs(expected[i])))) {
      FAIL(what << ": element " << i << " is " << actual[i] << ", reference "
                << expected[i]);
    }
  }
}

// Runs `body(target name)` once for every compiled target the CPU supports.
template <class Body>
void ForEachTarget(const Body& body) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    INFO("target " << hwy::TargetName(target));
    REQUIRE(KernelTargetName() == hwy::TargetName(target));
    body(hwy::TargetName(target));
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace mb
