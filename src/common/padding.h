// How a convolution or pooling window treats the image's borders, as Keras
// names it. Shared by the config schema, the layers and the kernels.
#pragma once

namespace mb {

// "valid": no padding, out = (in - k) / stride + 1 (rounded down).
// "same": out = ceil(in / stride), padded as TensorFlow does: the total
// padding max((out - 1) * stride + k - in, 0), its smaller half before (top,
// left) and the larger after; zeros for a convolution, ignored by pooling.
enum class Padding : unsigned char { kValid, kSame };

inline constexpr const char* kPaddingNames[] = {"valid", "same"};

}  // namespace mb
