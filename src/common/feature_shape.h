// The shape of one sample's features between two layers: channels-last
// [height, width, channels] for images, or a flat vector.
#pragma once

#include <cstddef>
#include <string>

namespace mb {

struct FeatureShape {
  size_t height = 1, width = 1, channels = 0;
  // A vector of `channels` features (the output of a flatten or dense
  // layer): convolutions and pooling need an image.
  bool flat = false;

  static FeatureShape Image(size_t height, size_t width, size_t channels) {
    return {height, width, channels, false};
  }
  static FeatureShape Vector(size_t features) { return {1, 1, features, true}; }

  size_t size() const { return height * width * channels; }
  // "28x28x1" for an image, "576" for a vector.
  std::string Text() const {
    if (flat) return std::to_string(channels);
    return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
  }
  bool operator==(const FeatureShape& o) const {
    return height == o.height && width == o.width && channels == o.channels && flat == o.flat;
  }
};

}  // namespace mb
