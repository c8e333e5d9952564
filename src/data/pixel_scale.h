// The float value of each uint8 pixel, as the reference scales MNIST, and
// as a config's data.normalize shifts and scales it further.
#pragma once

#include <array>
#include <optional>

#include "data/data_config.h"

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

// What each byte value becomes as the model's input: PixelScale()'s value,
// or with `normalize` (value - mean) / std, in float32 with mean and std
// rounded to float32, as torchvision's ToTensor and Normalize compute it.
// Only PixelScale()'s values keep a zero pixel zero, which the sparse first
// layer (kernels/sparse_gemm.h) needs.
inline std::array<float, 256> PixelValues(const std::optional<Normalization>& normalize) {
  std::array<float, 256> values = PixelScale();
  if (!normalize) return values;
  const auto mean = static_cast<float>(normalize->mean);
  const auto std = static_cast<float>(normalize->std);
  for (float& value : values) value = (value - mean) / std;
  return values;
}

}  // namespace mb
