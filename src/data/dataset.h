// The in-memory data set: uint8 images and labels, and the train /
// validation / test views the trainer iterates over.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/feature_shape.h"

#include <nlohmann/json.hpp>

#include "data/data_config.h"
#include "data/idx_reader.h"
#include "data/pixel_scale.h"

namespace mb {

// A contiguous range of samples; does not own its memory.
struct DataView {
  const uint8_t* images = nullptr;  // count * features
  const uint8_t* labels = nullptr;  // count
  size_t count = 0;
  size_t features = 0;
};

// The views point into this object's own vectors. Moving a Dataset keeps the
// vectors' buffers and so the views valid; a copy would point into the
// original, so copying is disabled.
struct Dataset {
  Dataset() = default;
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;
  Dataset(Dataset&&) = default;
  Dataset& operator=(Dataset&&) = default;

  std::vector<uint8_t> train_images, train_labels;
  std::vector<uint8_t> test_images, test_labels;
  size_t features = 0;     // rows * cols (784 for MNIST)
  size_t rows = 0, cols = 0;  // each image's (28 x 28 for MNIST), one channel

  FeatureShape image_shape() const { return FeatureShape::Image(rows, cols, 1); }
  int num_classes = 10;

  // What each pixel byte becomes as the model's input, for every view:
  // PixelValues(data.normalize).
  std::array<float, 256> pixel_values = PixelScale();

  DataView train;       // the first (1 - validation_split) of the training set
  DataView validation;  // the last validation_split of it (count 0 if none)
  DataView test;

  // For report.json["dataset"]: for each of train_images, train_labels,
  // test_images and test_labels its path, sha256 (of the file as stored),
  // byte size and sample count; then features, num_classes, train_count,
  // validation_count, test_count, and checksums_verified (true only when all
  // four files were listed in SHA256SUMS and matched).
  nlohmann::json description;
};

// What the four files' headers declare, read and checked as LoadDataset
// reads them but without their payloads: enough to budget a run's memory
// before anything large is allocated (train/memory_budget.h).
struct DatasetShape {
  IdxShape train_images, train_labels, test_images, test_labels;

  size_t features() const { return train_images.rows * train_images.cols; }
  // What the loaded Dataset's vectors will hold.
  uint64_t payload_bytes() const {
    return train_images.payload_bytes + train_labels.payload_bytes +
           test_images.payload_bytes + test_labels.payload_bytes;
  }
};

DatasetShape ReadDatasetShape(const DataConfig& data);

// Loads the four files named by `data`, verifying checksums when asked
// (against SHA256SUMS in data.dir, lines "<sha256>  <file name>"; a file is
// checked when its base name is listed, and a mismatch is an InputError),
// checking that image and label counts agree and that train and test images
// have the same dimensions, and records what the pixels become
// (data.normalize). As Keras does, the first
// floor(n * (1 - validation_split)) training samples train and the rest are
// the validation set; validation_split must be in [0, 1) and leave at least
// one training sample. Each file is read once.
Dataset LoadDataset(const DataConfig& data, double validation_split);

}  // namespace mb
