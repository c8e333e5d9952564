// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length, a JSON header mapping each tensor name to its
// dtype, shape and [begin, end) byte offsets, then the raw data.
// mnistbench writes and reads float32 tensors only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mb {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, product(shape) elements
};

using TensorMap = std::map<std::string, Tensor>;

// Writes atomically (see atomic_file.h). Throws OutputError.
void WriteSafetensors(const std::string& path, const TensorMap& tensors);

// Validates the header length, the JSON, dtypes (F32 only), shapes against
// offsets, and offsets against the file size. Throws InputError naming the
// file, the tensor and the byte offset.
TensorMap ReadSafetensors(const std::string& path);

}  // namespace mb
