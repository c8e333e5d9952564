// kernels/target.h: pinning the dispatch target, the numerics class of each
// target, and the errors for a target the build or the CPU lacks.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "hwy/targets.h"
#include "kernels/target.h"

namespace mb {
namespace {

TEST_CASE("A pinned target is the one the kernels dispatch to", "[kernels]") {
  const std::vector<std::string> cpu = CpuTargetNames();
  for (const std::string& target : CompiledTargetNames()) {
    if (!KernelTargetProblem(target).empty()) continue;  // not on this CPU
    INFO(target);
    PinKernelTarget(target);
    CHECK(KernelTargetName() == target);
    const bool fma = target == "AVX2" || target.rfind("AVX3", 0) == 0;
    CHECK(NumericsClass() == (fma ? "fma" : "no-fma"));
    // A pin does not change what the CPU is reported to support.
    CHECK(CpuTargetNames() == cpu);
  }
  // "auto" is the best compiled target the CPU supports.
  PinKernelTarget("auto");
  std::string best;
  for (const std::string& target : CompiledTargetNames()) {
    if (best.empty() && KernelTargetProblem(target).empty()) best = target;
  }
  CHECK(KernelTargetName() == best);
  CHECK(KernelTargetProblem("auto").empty());
}

TEST_CASE("A target the build or the CPU lacks is refused and changes nothing", "[kernels]") {
  const std::string before = KernelTargetName();
  const std::string problem = KernelTargetProblem("AVX9");
  CHECK(problem.rfind("\"AVX9\" is not a SIMD target of this build (one of: auto, ", 0) == 0);
  CHECK_THROWS_AS(PinKernelTarget("AVX9"), std::invalid_argument);
  CHECK(KernelTargetName() == before);
  // A CPU with nothing better than SSE4, as Highway's test hook pretends.
  hwy::SetSupportedTargetsForTest(HWY_SSE4 | HWY_SSSE3 | HWY_SCALAR);
  CHECK(KernelTargetProblem("AVX2") ==
        "AVX2 is not supported by this CPU (one of: auto, SSE4, SSSE3, SCALAR)");
  CHECK_THROWS_AS(PinKernelTarget("AVX2"), std::invalid_argument);
  CHECK(KernelTargetName() == "SSE4");
  hwy::SetSupportedTargetsForTest(0);
  CHECK(KernelTargetName() == before);
}

}  // namespace
}  // namespace mb
