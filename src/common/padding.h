// How a convolution or pooling window treats the image's borders, as Keras
// names it. Shared by the config schema, the layers and the kernels.
#pragma once

#include <cstddef>

namespace mb {

// "valid": no padding, out = (in - k) / stride + 1 (rounded down).
// "same": out = ceil(in / stride), padded as TensorFlow does: the total
// padding max((out - 1) * stride + k - in, 0), its smaller half before (top,
// left) and the larger after; zeros for a convolution, ignored by pooling.
enum class Padding : unsigned char { kValid, kSame };

inline constexpr const char* kPaddingNames[] = {"valid", "same"};

// The output extent along one axis of `in` pixels, or 0 when a "valid"
// window of `kernel` pixels does not fit.
inline size_t WindowOutputExtent(size_t in, size_t kernel, size_t stride, Padding padding) {
  if (padding == Padding::kSame) return (in + stride - 1) / stride;
  return kernel <= in ? (in - kernel) / stride + 1 : 0;
}

}  // namespace mb
