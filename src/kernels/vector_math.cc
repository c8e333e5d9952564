// Run-time dispatch of the array forms of kernels/math-inl.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/vector_math.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>

#include "common/team.h"
#include "hwy/highway.h"
#include "kernels/activation-inl.h"
#include "kernels/masked_segment-inl.h"
#include "kernels/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {

// x[i] = f(x[i]) a vector at a time, the last one masked, so that every
// element gets the lanes' bits.
template <class F>
HWY_INLINE void Transform(float* x, size_t n, const F& f) {
  ForEachSegment(n, [&](auto d, size_t i, bool partial, auto mask) {
    StoreSegment(d, f(d, LoadSegment(d, x + i, partial, mask)), x + i, partial, mask);
  });
}

void ExpInPlace(float* x, size_t n) {
  Transform(x, n, [](auto d, auto v) { return Exp(d, v); });
}

void Log1pInPlace(float* x, size_t n) {
  Transform(x, n, [](auto d, auto v) { return Log1p(d, v); });
}

// Arrays from this many floats are split over the team, in blocks of
// kTeamBlock (whole vectors on every target, so each element still gets
// its lanes' bits). The conv layers' gradients pass through an activation
// on the calling thread alone took 3% of the book convnet's training, the
// other thread waiting.
constexpr size_t kTeamMinFloats = size_t{1} << 15;
constexpr size_t kTeamBlock = size_t{1} << 12;

template <class F>
void OnTeamBlocks(size_t n, const F& f) {
  const long blocks = static_cast<long>((n + kTeamBlock - 1) / kTeamBlock);
#pragma omp parallel for schedule(static) if (UseTeam(n >= kTeamMinFloats))
  for (long b = 0; b < blocks; ++b) {
    const size_t i = static_cast<size_t>(b) * kTeamBlock;
    f(i, std::min(kTeamBlock, n - i));
  }
}

void ActivationInPlace(Activation act, float* y, size_t n) {
  if (act == Activation::kLinear || act == Activation::kSoftmax) return;
  OnTeamBlocks(n, [&](size_t i, size_t count) { ApplyActivationInPlace(act, y + i, count); });
}

void ActivationGradient(Activation act, const float* z, const float* a, const float* g,
                        float* out, size_t n) {
  if ((act == Activation::kLinear || act == Activation::kSoftmax) && g == out) return;
  OnTeamBlocks(n, [&](size_t i, size_t count) {
    if (g != out) std::copy(g + i, g + i + count, out + i);
    ApplyActivationGradientInPlace(act, z ? z + i : nullptr, a + i, out + i, count);
  });
}

void ActivationGradientInPlace(Activation act, const float* z, const float* a, float* g,
                               size_t n) {
  ActivationGradient(act, z, a, g, g, n);
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "kernels/vector_math.h"

namespace mb {

HWY_EXPORT(ExpInPlace);
HWY_EXPORT(Log1pInPlace);
HWY_EXPORT(ActivationInPlace);
HWY_EXPORT(ActivationGradient);
HWY_EXPORT(ActivationGradientInPlace);

void ExpInPlace(float* x, size_t n) { HWY_DYNAMIC_DISPATCH(ExpInPlace)(x, n); }
void Log1pInPlace(float* x, size_t n) { HWY_DYNAMIC_DISPATCH(Log1pInPlace)(x, n); }
void ActivationInPlace(Activation act, float* y, size_t n) {
  HWY_DYNAMIC_DISPATCH(ActivationInPlace)(act, y, n);
}
void ActivationGradient(Activation act, const float* z, const float* a, const float* g,
                        float* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(ActivationGradient)(act, z, a, g, out, n);
}
void ActivationGradientInPlace(Activation act, const float* z, const float* a, float* g,
                               size_t n) {
  HWY_DYNAMIC_DISPATCH(ActivationGradientInPlace)(act, z, a, g, n);
}

}  // namespace mb
#endif  // HWY_ONCE
