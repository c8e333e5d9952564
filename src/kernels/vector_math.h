// exp and log1p over arrays, with the one implementation of
// kernels/math-inl.h (bitwise the same on every target of a numerics class:
// kernels/target.h), for code outside the kernels such as the loss.
#pragma once

#include <cstddef>

namespace mb {

// x[i] = e^x[i] for i < n.
void ExpInPlace(float* x, size_t n);
// x[i] = log(1 + x[i]) for i < n.
void Log1pInPlace(float* x, size_t n);

}  // namespace mb
