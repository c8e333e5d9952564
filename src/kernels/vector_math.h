// exp, log1p, activations and their derivatives over arrays, with the one
// implementation of kernels/math-inl.h (bitwise the same on every target of a
// numerics class: kernels/target.h), for code outside the kernels such as the
// loss and the activation layer.
#pragma once

#include <cstddef>

#include "common/activation.h"

namespace mb {

// x[i] = e^x[i] for i < n.
void ExpInPlace(float* x, size_t n);
// x[i] = log(1 + x[i]) for i < n.
void Log1pInPlace(float* x, size_t n);
// y[i] = act(y[i]) for i < n, the bits the kernels' epilogues give; linear
// and softmax leave y alone. Split over the team as the gradient below.
void ActivationInPlace(Activation act, float* y, size_t n);
// g[i] *= act'(z[i], a[i]) for i < n: a gradient with respect to a layer's
// output becomes one with respect to its pre-activation. z may be null
// unless act is GELU; linear and softmax leave g alone. Large arrays are
// split over the OpenMP team (common/team.h), with the same bits.
void ActivationGradientInPlace(Activation act, const float* z, const float* a, float* g,
                               size_t n);
// out[i] = g[i] * act'(z[i], a[i]) for i < n, as ActivationGradientInPlace
// on a copy of g (out == g is allowed).
void ActivationGradient(Activation act, const float* z, const float* a, const float* g,
                        float* out, size_t n);

}  // namespace mb
