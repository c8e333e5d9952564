// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length, a JSON header mapping each tensor name to its
// dtype, shape and [begin, end) byte offsets, then the raw data.
// mnistbench writes and reads float32 tensors only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mb {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, product(shape) elements
};

using TensorMap = std::map<std::string, Tensor>;

// The header's "__metadata__": free-form string pairs. Every file written
// has "format": "pt", as PyTorch's writer puts it.
using SafetensorsMetadata = std::map<std::string, std::string>;

// Writes atomically (see atomic_file.h), with `metadata` beside "format".
// Throws OutputError.
void WriteSafetensors(const std::string& path, const TensorMap& tensors,
                      const SafetensorsMetadata& metadata = {});

// A tensor as a safetensors header describes it.
struct TensorEntry {
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // its bytes, relative to the start of the data
};

// A safetensors file whose header has been read and checked, its data not
// yet read. Only the 8-byte length and the header (at most 100 MB) are read
// when it opens: every tensor's dtype, shape and offsets are checked against
// the file's size first, so a file far larger than its header says, or a
// header promising more than the file holds, is refused without reading
// it. The data is read tensor by tensor, exactly as the header describes it.
class SafetensorsFile {
 public:
  // Checks the header length, the JSON (no duplicate keys), dtypes (F32
  // only), shapes against offsets, and that the data section is the
  // tensors' bytes back to back: nothing before, between or after them
  // (the file's size is 8 + header + the last tensor's end). Throws
  // InputError naming the file, the tensor and the byte offset.
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return path_; }
  // Every tensor by name ("__metadata__" is not one).
  const std::map<std::string, TensorEntry>& tensors() const { return tensors_; }
  // The header's "__metadata__" pairs whose values are strings (the format
  // allows nothing else; other values are left out).
  const SafetensorsMetadata& metadata() const { return metadata_; }
  // Reads tensor `name`'s elements (product(shape) floats) into `out`,
  // a bounded chunk at a time. Throws InputError if the file cannot be read.
  void ReadTensor(const std::string& name, float* out) const;

 private:
  std::string path_;
  // Closed however the constructor ends; read with pread on its descriptor.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  uint64_t data_start_ = 0;  // file offset of the data section
  std::map<std::string, TensorEntry> tensors_;
  SafetensorsMetadata metadata_;
};

// Every tensor of the file: SafetensorsFile's checks, then all its data.
TensorMap ReadSafetensors(const std::string& path);

}  // namespace mb
