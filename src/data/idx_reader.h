// Reading IDX files (the MNIST format), gzip-compressed or raw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/content_stream.h"

namespace mb {

// What an IDX file's header declares.
struct IdxShape {
  size_t count = 0;
  size_t rows = 1, cols = 1;  // images only
  uint64_t payload_bytes = 0;  // count * rows * cols for images, count for labels
};

struct IdxImages {
  std::vector<uint8_t> pixels;  // count * rows * cols, row-major per image
  size_t count = 0, rows = 0, cols = 0;
  StoredFile stored;
};

struct IdxLabels {
  std::vector<uint8_t> labels;
  size_t count = 0;
  StoredFile stored;
};

// Reads the file, inflating it if it starts with the gzip magic. The header
// is read and checked first: the magic number (0x00000803 images,
// 0x00000801 labels), non-zero count and dimensions, and a payload the file
// can hold (a raw file's size must match it exactly; a gzip file cannot
// inflate to more than 1032 times its size) and of at most 1 GiB. Then
// exactly the promised payload is read: inflating stops as soon as the
// content runs past it. Nothing is allocated from an unchecked header, so
// an absurd header or a gzip bomb costs nothing. Throws
// InputError("<path>: ...") naming the problem and byte offset.
IdxImages ReadIdxImages(const std::string& path);
// As above; also checks every label is < num_classes.
IdxLabels ReadIdxLabels(const std::string& path, int num_classes = 10);

// The header alone, checked as above, without reading the payload: what a
// data set will hold before it is loaded.
IdxShape ReadIdxImagesShape(const std::string& path);
IdxShape ReadIdxLabelsShape(const std::string& path);

}  // namespace mb
