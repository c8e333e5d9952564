// The dispatch target: its name, its numerics class, and pinning it.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/target.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

// Whether hn::MulAdd is one fused instruction here: Highway's own flag for
// the target, so an Arm or other target added later is classed correctly.
bool FusesMultiplyAdd() { return HWY_NATIVE_FMA != 0; }

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cstdint>
#include <stdexcept>

#include "hwy/targets.h"
#include "kernels/target.h"

namespace mb {

HWY_EXPORT(TargetName);
HWY_EXPORT(FusesMultiplyAdd);

namespace {

// The targets PinKernelTarget turned off (Highway numbers its targets so
// that a lower bit is a better target).
int64_t g_disabled_targets = 0;

std::vector<std::string> Names(int64_t targets) {
  std::vector<std::string> names;
  for (; targets != 0; targets &= targets - 1) names.push_back(hwy::TargetName(targets & -targets));
  return names;
}

std::string Join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// What the CPU supports, as if nothing were pinned.
int64_t CpuTargets() {
  if (g_disabled_targets == 0) return hwy::SupportedTargets();
  hwy::DisableTargets(0);
  const int64_t targets = hwy::SupportedTargets();
  hwy::DisableTargets(g_disabled_targets);
  return targets;
}

}  // namespace

std::string KernelTargetName() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

std::string NumericsClass() { return HWY_DYNAMIC_DISPATCH(FusesMultiplyAdd)() ? "fma" : "no-fma"; }

std::vector<std::string> CompiledTargetNames() { return Names(HWY_TARGETS); }

std::vector<std::string> CpuTargetNames() { return Names(CpuTargets()); }

namespace {

// The target named `name` among the compiled ones, or 0.
int64_t CompiledTarget(const std::string& name) {
  for (int64_t t = HWY_TARGETS; t != 0; t &= t - 1) {
    if (name == hwy::TargetName(t & -t)) return t & -t;
  }
  return 0;
}

}  // namespace

std::string KernelTargetProblem(const std::string& name) {
  if (name == "auto") return "";
  const int64_t usable = CpuTargets() & HWY_TARGETS;
  const std::string choices = "auto, " + Join(Names(usable));
  const int64_t target = CompiledTarget(name);
  if (target == 0) {
    return "\"" + name + "\" is not a SIMD target of this build (one of: " + choices + ")";
  }
  if ((usable & target) == 0) return name + " is not supported by this CPU (one of: " + choices + ")";
  return "";
}

void PinKernelTarget(const std::string& name) {
  const std::string problem = KernelTargetProblem(name);
  if (!problem.empty()) throw std::invalid_argument(problem);
  // Every better target off: the dispatch then picks `name`, the best left.
  g_disabled_targets = name == "auto" ? 0 : CompiledTarget(name) - 1;
  hwy::DisableTargets(g_disabled_targets);
}

}  // namespace mb
#endif  // HWY_ONCE
