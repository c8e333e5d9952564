#include "report/safetensors.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

#include "common/duplicate_json_keys.h"
#include "common/error.h"
#include "report/atomic_file.h"

namespace mb {
namespace {

constexpr uint64_t kHeaderLengthBytes = 8;
// The reference implementation's limit; it keeps a corrupt length from
// making us parse (or allocate for) gigabytes of "header".
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr uint64_t kBytesPerF32 = 4;
// Tensor data is read (and converted from little-endian) 1 MiB at a time.
constexpr uint64_t kReadChunkBytes = uint64_t{1} << 20;
constexpr int kMaxHeaderNesting = 32;
constexpr const char* kMetadataKey = "__metadata__";

// The format is little-endian. Going through bytes keeps the code correct on
// any host and lets the compiler pick the fastest load/store.
void AppendLittleEndian64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t LoadLittleEndian64(const char* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  }
  return value;
}

// The floats' little-endian bytes: one copy where the host is
// little-endian, rather than four pushes per float (a checkpoint of the
// baseline, written after every epoch, holds 800,000 floats).
void AppendFloats(std::string& out, const std::vector<float>& values) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
#else
  for (float value : values) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
  }
#endif
}

float LoadFloat(const char* bytes) {
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) {
    bits |= uint32_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  }
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// ---------------------------------------------------------------- writing

uint64_t ElementCount(const std::string& name, const std::vector<int64_t>& shape) {
  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) {
      throw std::invalid_argument("WriteSafetensors: tensor '" + name +
                                  "' has a negative dimension");
    }
    count *= static_cast<uint64_t>(dim);
  }
  return count;
}

// ---------------------------------------------------------------- reading

[[noreturn]] void FailToRead(const std::string& path, int error) {
  throw InputError(path + ": cannot read (" + std::generic_category().message(error) + ")");
}

// Reads exactly `size` bytes at `offset`; a file that ends first (it
// shrank after its size was checked) is an input error too.
void ReadExactly(const std::string& path, int fd, uint64_t offset, char* out, size_t size) {
  while (size > 0) {
    const ssize_t got = pread(fd, out, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) FailToRead(path, errno);
    if (got == 0) {
      throw InputError(path + ": file ended at byte " + std::to_string(offset) +
                       " while reading it");
    }
    out += got;
    offset += static_cast<uint64_t>(got);
    size -= static_cast<size_t>(got);
  }
}

// Tensor names come from the file: control characters would break the
// one-line error message.
std::string Printable(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Validates one header entry against the data section
// [data_start, data_start + data_size) of the file.
class EntryParser {
 public:
  EntryParser(const std::string& path, const std::string& name, uint64_t data_start,
              uint64_t data_size)
      : path_(path), name_(name), data_start_(data_start), data_size_(data_size) {}

  TensorEntry Parse(const nlohmann::json& entry) const {
    if (!entry.is_object()) {
      Fail("entry is a JSON " + std::string(entry.type_name()) + ", expected an object");
    }
    CheckDtype(entry);
    TensorEntry extent;
    const uint64_t element_count = ParseShape(entry, extent.shape);
    ParseOffsets(entry, element_count, extent);
    return extent;
  }

 private:
  [[noreturn]] void Fail(const std::string& message) const {
    throw InputError(path_ + ": tensor '" + Printable(name_) + "': " + message);
  }

  void CheckDtype(const nlohmann::json& entry) const {
    const auto dtype = entry.find("dtype");
    if (dtype == entry.end() || !dtype->is_string()) Fail("missing string \"dtype\"");
    const auto& name = dtype->get_ref<const std::string&>();
    if (name != "F32") Fail("dtype " + Printable(name) + " not supported (expected F32)");
  }

  // Returns the number of elements. nlohmann parses every non-negative JSON
  // integer as "unsigned", so that is exactly the accepted set.
  uint64_t ParseShape(const nlohmann::json& entry, std::vector<int64_t>& shape) const {
    const auto found = entry.find("shape");
    if (found == entry.end() || !found->is_array()) Fail("missing \"shape\" array");
    bool has_zero_dim = false;
    for (size_t i = 0; i < found->size(); ++i) {
      const nlohmann::json& dim = (*found)[i];
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        Fail("shape[" + std::to_string(i) + "] is " + dim.dump() +
             ", expected a non-negative integer");
      }
      shape.push_back(dim.get<int64_t>());
      has_zero_dim |= shape.back() == 0;
    }
    // A zero anywhere makes the tensor empty, even if the other dimensions
    // alone would overflow.
    if (has_zero_dim) return 0;
    uint64_t count = 1;
    for (int64_t dim : shape) {
      if (__builtin_mul_overflow(count, static_cast<uint64_t>(dim), &count) ||
          count > UINT64_MAX / kBytesPerF32) {
        Fail("shape " + found->dump() + " has too many elements");
      }
    }
    return count;
  }

  void ParseOffsets(const nlohmann::json& entry, uint64_t element_count,
                    TensorEntry& extent) const {
    const auto found = entry.find("data_offsets");
    if (found == entry.end() || !found->is_array() || found->size() != 2 ||
        !(*found)[0].is_number_unsigned() || !(*found)[1].is_number_unsigned()) {
      Fail("\"data_offsets\" must be [begin, end] with non-negative integers");
    }
    extent.begin = (*found)[0].get<uint64_t>();
    extent.end = (*found)[1].get<uint64_t>();
    const std::string offsets = found->dump();
    if (extent.begin > extent.end) Fail("data_offsets " + offsets + " begin after they end");
    if (extent.end > data_size_) {
      Fail("data_offsets " + offsets + " end past the end of the file (data is bytes " +
           std::to_string(data_start_) + " to " + std::to_string(data_start_ + data_size_) + ")");
    }
    const uint64_t needed = element_count * kBytesPerF32;
    if (extent.end - extent.begin != needed) {
      Fail("data_offsets " + offsets + " (file byte " + std::to_string(data_start_ + extent.begin) +
           ") hold " + std::to_string(extent.end - extent.begin) + " bytes but shape " +
           entry["shape"].dump() + " needs " + std::to_string(needed));
    }
  }

  const std::string& path_;
  const std::string& name_;
  uint64_t data_start_, data_size_;
};

// The data section holds the tensors' bytes back to back (the format's
// rule, which the reference implementation enforces): two tensors sharing
// bytes means a corrupt (or hand-crafted) file, and bytes that belong to no
// tensor, before, between or after them, would be read by nobody. Empty
// tensors occupy no bytes and are left out.
void CheckContiguous(const std::string& path, uint64_t data_start, uint64_t data_size,
                     const std::map<std::string, TensorEntry>& tensors) {
  std::vector<std::pair<const std::string*, const TensorEntry*>> stored;
  for (const auto& [name, entry] : tensors) {
    if (entry.begin != entry.end) stored.emplace_back(&name, &entry);
  }
  std::sort(stored.begin(), stored.end(),
            [](const auto& a, const auto& b) { return a.second->begin < b.second->begin; });
  const auto fail_gap = [&](uint64_t from, uint64_t to, const std::string& where) {
    throw InputError(path + ": file bytes " + std::to_string(data_start + from) + " to " +
                     std::to_string(data_start + to) + " " + where +
                     " belong to no tensor (the data must be the tensors' bytes back to back)");
  };
  uint64_t end = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    const std::string& name = *stored[i].first;
    const TensorEntry& entry = *stored[i].second;
    if (i == 0 && entry.begin > 0) {
      fail_gap(0, entry.begin, "before the first tensor ('" + Printable(name) + "')");
    }
    if (i > 0 && entry.begin < end) {
      throw InputError(path + ": tensors '" + Printable(*stored[i - 1].first) + "' and '" +
                       Printable(name) + "' overlap at file byte " +
                       std::to_string(data_start + entry.begin));
    }
    if (i > 0 && entry.begin > end) {
      fail_gap(end, entry.begin, "between tensors '" + Printable(*stored[i - 1].first) +
                                     "' and '" + Printable(name) + "'");
    }
    end = entry.end;
  }
  if (end < data_size) {
    fail_gap(end, data_size,
             stored.empty() ? "after a header that lists no tensor data"
                            : "after the last tensor ('" + Printable(*stored.back().first) + "')");
  }
}

}  // namespace

void WriteSafetensors(const std::string& path, const TensorMap& tensors,
                      const SafetensorsMetadata& metadata) {
  // ordered_json: "__metadata__" first and the entry keys in the reference
  // implementation's order, so files are byte-identical to what it writes.
  nlohmann::ordered_json header;
  header[kMetadataKey] = {{"format", "pt"}};
  for (const auto& [key, value] : metadata) header[kMetadataKey][key] = value;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == kMetadataKey) {
      throw std::invalid_argument("WriteSafetensors: tensor name __metadata__ is reserved");
    }
    if (ElementCount(name, tensor.shape) != tensor.data.size()) {
      throw std::invalid_argument("WriteSafetensors: tensor '" + name +
                                  "' has data of the wrong size for its shape");
    }
    const uint64_t bytes = tensor.data.size() * kBytesPerF32;
    nlohmann::ordered_json entry;
    entry["dtype"] = "F32";
    entry["shape"] = tensor.shape;
    entry["data_offsets"] = nlohmann::ordered_json::array({offset, offset + bytes});
    header[name] = std::move(entry);
    offset += bytes;
  }

  std::string header_text = header.dump();
  // Spaces up to a multiple of 8 keep the data section 8-byte aligned for
  // readers that map the file.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string file;
  file.reserve(kHeaderLengthBytes + header_text.size() + offset);
  AppendLittleEndian64(file, header_text.size());
  file += header_text;
  for (const auto& [name, tensor] : tensors) {
    AppendFloats(file, tensor.data);
  }
  WriteFileAtomic(path, file);
}

SafetensorsFile::SafetensorsFile(const std::string& path)
    : path_(path), file_(std::fopen(path.c_str(), "rbe"), &std::fclose) {
  if (!file_) {
    throw InputError(path + ": cannot open (" + std::generic_category().message(errno) + ")");
  }
  const int fd = fileno(file_.get());
  struct stat status {};
  if (fstat(fd, &status) != 0) FailToRead(path, errno);
  if (S_ISDIR(status.st_mode)) FailToRead(path, EISDIR);
  const uint64_t file_size = static_cast<uint64_t>(status.st_size);
  if (file_size < kHeaderLengthBytes) {
    throw InputError(path + ": file is " + std::to_string(file_size) +
                     " bytes, too short for the 8-byte safetensors header length");
  }
  char length_bytes[kHeaderLengthBytes];
  ReadExactly(path, fd, 0, length_bytes, kHeaderLengthBytes);
  const uint64_t header_length = LoadLittleEndian64(length_bytes);
  if (header_length > kMaxHeaderBytes) {
    throw InputError(path + ": header length " + std::to_string(header_length) +
                     " at byte 0 exceeds the limit of " + std::to_string(kMaxHeaderBytes));
  }
  if (header_length > file_size - kHeaderLengthBytes) {
    throw InputError(path + ": header length " + std::to_string(header_length) +
                     " at byte 0 runs past the end of the file (" + std::to_string(file_size) +
                     " bytes)");
  }
  std::string header_text(header_length, '\0');
  ReadExactly(path, fd, kHeaderLengthBytes, header_text.data(), header_length);

  // The header needs three levels (entry, shape); deeper nesting is refused
  // while parsing, since printing or copying a value recurses once per level.
  // A key given twice would leave nlohmann's choice of value in force.
  DuplicateJsonKeys duplicates;
  const nlohmann::json::parser_callback_t strict =
      [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                           event == nlohmann::json::parse_event_t::array_start;
        if (opens && depth >= kMaxHeaderNesting) {
          throw InputError(path + ": header at byte 8 nests arrays or objects more than " +
                           std::to_string(kMaxHeaderNesting) + " levels deep");
        }
        if (const auto key = duplicates.Check(event, parsed)) {
          throw InputError(path + ": header at byte 8 has the key '" + Printable(*key) +
                           "' twice");
        }
        return true;
      };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text, strict);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for a number too large for a double.
    throw InputError(path + ": header at byte 8 is not valid JSON: " + e.what());
  }
  if (!header.is_object()) {
    throw InputError(path + ": header at byte 8 is a JSON " + std::string(header.type_name()) +
                     ", expected an object");
  }

  data_start_ = kHeaderLengthBytes + header_length;
  const uint64_t data_size = file_size - data_start_;
  // "__metadata__" is free-form string pairs, checked by whoever reads them.
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) {
      if (!entry.is_object()) continue;
      for (const auto& [key, value] : entry.items()) {
        if (value.is_string()) metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    tensors_[name] = EntryParser(path, name, data_start_, data_size).Parse(entry);
  }
  CheckContiguous(path, data_start_, data_size, tensors_);
}

void SafetensorsFile::ReadTensor(const std::string& name, float* out) const {
  const TensorEntry& entry = tensors_.at(name);
  std::vector<char> chunk(std::min<uint64_t>(entry.end - entry.begin, kReadChunkBytes));
  for (uint64_t at = entry.begin; at < entry.end; at += chunk.size()) {
    const size_t bytes = static_cast<size_t>(std::min<uint64_t>(chunk.size(), entry.end - at));
    ReadExactly(path_, fileno(file_.get()), data_start_ + at, chunk.data(), bytes);
    for (size_t i = 0; i < bytes; i += kBytesPerF32) *out++ = LoadFloat(chunk.data() + i);
  }
}

TensorMap ReadSafetensors(const std::string& path) {
  const SafetensorsFile file(path);
  TensorMap tensors;
  for (const auto& [name, entry] : file.tensors()) {
    Tensor& tensor = tensors[name];
    tensor.shape = entry.shape;
    tensor.data.resize((entry.end - entry.begin) / kBytesPerF32);
    file.ReadTensor(name, tensor.data.data());
  }
  return tensors;
}

}  // namespace mb
