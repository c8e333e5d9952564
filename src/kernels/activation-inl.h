// The activations of kernels/activation.h, and their gradients, on Highway
// vectors: what the kernels' epilogues apply. The math is that of the scalar
// definitions there (the tests' reference), with exp, erf and tanh from
// kernels/math-inl.h, so that every target computes the same bits.

// Per-target include guard (Highway's idiom for -inl.h files).
#if defined(MB_KERNELS_ACTIVATION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_ACTIVATION_INL_H_
#undef MB_KERNELS_ACTIVATION_INL_H_
#else
#define MB_KERNELS_ACTIVATION_INL_H_
#endif

#include <cstddef>

#include "hwy/highway.h"
#include "kernels/activation.h"
#include "kernels/masked_segment-inl.h"
#include "kernels/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// tanh, sigmoid and GELU: out of line, so that the tile kernels that inline
// the cheap activations do not grow by a copy of Exp and Erf each.
template <class D>
HWY_NOINLINE hn::Vec<D> SmoothActivation(D d, Activation act, hn::Vec<D> z) {
  switch (act) {
    case Activation::kTanh: return Tanh(d, z);
    case Activation::kSigmoid: return Sigmoid(d, z);
    case Activation::kGelu: {
      const auto cdf = hn::Add(hn::Set(d, 1.0f), Erf(d, hn::Mul(z, hn::Set(d, 0.70710678118654752f))));
      return hn::Mul(hn::Mul(hn::Set(d, 0.5f), z), cdf);
    }
    default: return z;
  }
}

// Whether `act` is cheap enough for the register epilogue of a tile kernel
// (identity, ReLU). The others call out of line (SmoothActivation), and a
// call where a tile's accumulators are live makes the compiler spill them
// all: the dense kernels apply those to their stored row segments after the
// tile instead (ApplyActivationInPlace), which measured 1.4x faster on the
// 10-unit layer's input gradient than calling from the epilogue.
inline bool IsInlineActivation(Activation act) {
  return act == Activation::kLinear || act == Activation::kRelu ||
         act == Activation::kSoftmax;
}

// f(z)
template <class D>
HWY_INLINE hn::Vec<D> ApplyActivation(D d, Activation act, hn::Vec<D> z) {
  if (act == Activation::kRelu) return hn::Max(z, hn::Zero(d));
  if (IsInlineActivation(act)) return z;
  return SmoothActivation(d, act, z);
}

template <class D>
HWY_NOINLINE hn::Vec<D> SmoothActivationGradient(D d, Activation act, hn::Vec<D> g,
                                                 hn::Vec<D> z, hn::Vec<D> a) {
  const auto one = hn::Set(d, 1.0f);
  switch (act) {
    case Activation::kTanh: return hn::Mul(g, hn::Sub(one, hn::Mul(a, a)));
    case Activation::kSigmoid: return hn::Mul(g, hn::Mul(a, hn::Sub(one, a)));
    case Activation::kGelu: {
      const auto cdf = hn::Mul(hn::Set(d, 0.5f),
                               hn::Add(one, Erf(d, hn::Mul(z, hn::Set(d, 0.70710678118654752f)))));
      const auto pdf = hn::Mul(hn::Set(d, 0.39894228040143268f),
                               Exp(d, hn::Mul(hn::Mul(hn::Set(d, -0.5f), z), z)));
      return hn::Mul(g, hn::Add(cdf, hn::Mul(z, pdf)));
    }
    default: return g;
  }
}

// g * f'(z), given the pre-activation z and the output a = f(z) (each
// activation uses whichever it needs: only GELU reads z).
template <class D>
HWY_INLINE hn::Vec<D> ApplyActivationGradient(D d, Activation act, hn::Vec<D> g, hn::Vec<D> z,
                                              hn::Vec<D> a) {
  if (act == Activation::kRelu) return hn::IfThenElseZero(hn::Gt(a, hn::Zero(d)), g);
  if (IsInlineActivation(act)) return g;
  return SmoothActivationGradient(d, act, g, z, a);
}

// y[0 .. n) = f(y[0 .. n)) a vector at a time, the last one masked, so that
// every element gets the lanes' bits.
HWY_INLINE void ApplyActivationInPlace(Activation act, float* y, size_t n) {
  if (act == Activation::kLinear || act == Activation::kSoftmax) return;
  ForEachSegment(n, [&](auto d, size_t i, bool partial, auto mask) {
    const auto v = LoadSegment(d, y + i, partial, mask);
    StoreSegment(d, ApplyActivation(d, act, v), y + i, partial, mask);
  });
}

// g[0 .. n) *= f'(z, a), likewise; z may be null unless act is GELU.
HWY_INLINE void ApplyActivationGradientInPlace(Activation act, const float* z, const float* a,
                                               float* g, size_t n) {
  if (act == Activation::kLinear || act == Activation::kSoftmax) return;
  ForEachSegment(n, [&](auto d, size_t i, bool partial, auto mask) {
    const auto zv = z ? LoadSegment(d, z + i, partial, mask) : hn::Zero(d);
    const auto av = LoadSegment(d, a + i, partial, mask);
    const auto gv = LoadSegment(d, g + i, partial, mask);
    StoreSegment(d, ApplyActivationGradient(d, act, gv, zv, av), g + i, partial, mask);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_ACTIVATION_INL_H_
