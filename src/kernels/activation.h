// The activations (common/activation.h) and their derivatives as plain
// scalar functions with the C library's tanh, exp and erf. The SIMD
// kernels fuse the same math into their epilogues (kernels/activation-inl.h,
// with mnistbench's own exp and erf, identical on every target); these
// definitions are the reference they are tested against.
#pragma once

#include <cmath>

#include "common/activation.h"

namespace mb {

// a = f(z)
inline float ActivationForward(Activation act, float z) {
  switch (act) {
    case Activation::kRelu: return z > 0.0f ? z : 0.0f;
    case Activation::kTanh: return std::tanh(z);
    case Activation::kSigmoid: return 1.0f / (1.0f + std::exp(-z));
    // Exact GELU (Keras' default approximate=False): z * Phi(z).
    case Activation::kGelu: return 0.5f * z * (1.0f + std::erf(z * 0.70710678118654752f));
    case Activation::kLinear:
    case Activation::kSoftmax: return z;
  }
  return z;
}

// f'(z), given both the pre-activation z and the output a = f(z): each
// activation uses whichever is cheaper, and only GELU needs z (so the forward
// pass stores z for GELU layers only).
inline float ActivationDerivative(Activation act, float z, float a) {
  switch (act) {
    case Activation::kRelu: return a > 0.0f ? 1.0f : 0.0f;  // a > 0 iff z > 0
    case Activation::kTanh: return 1.0f - a * a;
    case Activation::kSigmoid: return a * (1.0f - a);
    case Activation::kGelu: {
      const float cdf = 0.5f * (1.0f + std::erf(z * 0.70710678118654752f));
      const float pdf = 0.39894228040143268f * std::exp(-0.5f * z * z);
      return cdf + z * pdf;
    }
    case Activation::kLinear:
    case Activation::kSoftmax: return 1.0f;
  }
  return 1.0f;
}

}  // namespace mb
