// Reading IDX files (the MNIST format), gzip-compressed or raw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mb {

// A file as it is stored on disk, before any inflating: what SHA256SUMS lists
// and the report describes. Filled while the file is read, so the checksum
// costs no second pass over it.
struct StoredFile {
  uint64_t bytes = 0;
  std::string sha256;  // lower-case hex
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

// Reads the whole file, inflating it if it starts with the gzip magic.
// Checks the magic number (0x00000803 images, 0x00000801 labels), that the
// count and dimensions are non-zero, and that the header's counts match the
// payload size exactly; nothing is allocated from the header's numbers, so an
// absurd header costs nothing. Throws InputError("<path>: ...") naming the
// problem and byte offset.
IdxImages ReadIdxImages(const std::string& path);
// As above; also checks every label is < num_classes.
IdxLabels ReadIdxLabels(const std::string& path, int num_classes = 10);

// The content of a file, inflated if it starts with the gzip magic (1f 8b;
// concatenated gzip members are joined, as gunzip does). The file is streamed
// once, so its compressed bytes are never held whole. Throws InputError
// ("<path>: ...") when the file cannot be read, is empty, is corrupt or
// truncated gzip, or holds more than 1 GiB.
std::vector<uint8_t> ReadMaybeGzipFile(const std::string& path);

}  // namespace mb
