// Where a run's data comes from, as the config says it (config/config.cc
// resolves the paths); the data layer's own options, so that reading data
// needs nothing from the config schema.
#pragma once

#include <optional>
#include <string>

namespace mb {

// torchvision's Normalize after ToTensor: each pixel x becomes
// (x / 255 - mean) / std, in float32 (data/pixel_scale.h).
struct Normalization {
  double mean = 0.0;
  double std = 1.0;  // > 0
};

// Where the four IDX files are. Either `dir` (holding the standard MNIST file
// names, .gz or raw) or the four explicit paths; explicit paths win. Relative
// paths are relative to the current working directory, not to the config
// file, so that `--set data.dir=...` means the same wherever the config is.
struct DataConfig {
  std::string dir;  // default "data/mnist"
  std::string train_images, train_labels, test_images, test_labels;  // resolved paths
  bool verify_checksums = true;  // against dir/SHA256SUMS when it exists
  // Applied to the train, validation and test images alike; none: x / 255.
  std::optional<Normalization> normalize;
};

}  // namespace mb
