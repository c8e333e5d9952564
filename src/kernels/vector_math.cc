// Run-time dispatch of the array forms of kernels/math-inl.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/vector_math.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

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

void ActivationInPlace(Activation act, float* y, size_t n) { ApplyActivationInPlace(act, y, n); }

void ActivationGradientInPlace(Activation act, const float* z, const float* a, float* g,
                               size_t n) {
  ApplyActivationGradientInPlace(act, z, a, g, n);
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
HWY_EXPORT(ActivationGradientInPlace);

void ExpInPlace(float* x, size_t n) { HWY_DYNAMIC_DISPATCH(ExpInPlace)(x, n); }
void Log1pInPlace(float* x, size_t n) { HWY_DYNAMIC_DISPATCH(Log1pInPlace)(x, n); }
void ActivationInPlace(Activation act, float* y, size_t n) {
  HWY_DYNAMIC_DISPATCH(ActivationInPlace)(act, y, n);
}
void ActivationGradientInPlace(Activation act, const float* z, const float* a, float* g,
                               size_t n) {
  HWY_DYNAMIC_DISPATCH(ActivationGradientInPlace)(act, z, a, g, n);
}

}  // namespace mb
#endif  // HWY_ONCE
