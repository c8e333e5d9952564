// The float value of each uint8 pixel, as the reference scales MNIST.
#pragma once

#include <array>

namespace mb {

// pixel / 255.0f for every byte value, computed with the same float division
// Keras performs (x.astype("float32") / 255), so the scaled inputs are
// bit-identical to the reference. Shared by the dense and the sparse batch
// loaders, which must agree exactly.
inline const std::array<float, 256>& PixelScale() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t;
    for (int i = 0; i < 256; ++i) t[i] = static_cast<float>(i) / 255.0f;
    return t;
  }();
  return table;
}

}  // namespace mb
