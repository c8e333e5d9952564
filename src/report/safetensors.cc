#include "report/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "common/error.h"
#include "report/atomic_file.h"

namespace mb {
namespace {

constexpr uint64_t kHeaderLengthBytes = 8;
// The reference implementation's limit; it keeps a corrupt length from
// making us parse (or allocate for) gigabytes of "header".
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr uint64_t kBytesPerF32 = 4;
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

void AppendFloat(std::string& out, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
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

std::string ReadWholeFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw InputError(path + ": cannot open (" + std::generic_category().message(errno) + ")");
  }
  std::string contents;
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      close(fd);
      throw InputError(path + ": cannot read (" + std::generic_category().message(error) + ")");
    }
    contents.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  return contents;
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

// Where one tensor's bytes are, once its header entry has been validated.
struct TensorExtent {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // relative to the start of the data section
};

// Validates one header entry against the data section
// [data_start, data_start + data_size) of the file.
class EntryParser {
 public:
  EntryParser(const std::string& path, const std::string& name, uint64_t data_start,
              uint64_t data_size)
      : path_(path), name_(name), data_start_(data_start), data_size_(data_size) {}

  TensorExtent Parse(const nlohmann::json& entry) const {
    if (!entry.is_object()) {
      Fail("entry is a JSON " + std::string(entry.type_name()) + ", expected an object");
    }
    CheckDtype(entry);
    TensorExtent extent;
    extent.name = name_;
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
                    TensorExtent& extent) const {
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

// Two tensors sharing bytes means a corrupt (or hand-crafted) file. Empty
// tensors occupy no bytes and cannot overlap anything.
void CheckNoOverlap(const std::string& path, uint64_t data_start,
                    std::vector<TensorExtent> extents) {
  extents.erase(std::remove_if(extents.begin(), extents.end(),
                               [](const TensorExtent& e) { return e.begin == e.end; }),
                extents.end());
  std::sort(extents.begin(), extents.end(),
            [](const TensorExtent& a, const TensorExtent& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < extents.size(); ++i) {
    if (extents[i].begin < extents[i - 1].end) {
      throw InputError(path + ": tensors '" + Printable(extents[i - 1].name) + "' and '" +
                       Printable(extents[i].name) + "' overlap at file byte " +
                       std::to_string(data_start + extents[i].begin));
    }
  }
}

}  // namespace

void WriteSafetensors(const std::string& path, const TensorMap& tensors) {
  // ordered_json: "__metadata__" first and the entry keys in the reference
  // implementation's order, so files are byte-identical to what it writes.
  nlohmann::ordered_json header;
  header[kMetadataKey] = {{"format", "pt"}};
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
    for (float value : tensor.data) AppendFloat(file, value);
  }
  WriteFileAtomic(path, file);
}

TensorMap ReadSafetensors(const std::string& path) {
  const std::string file = ReadWholeFile(path);
  if (file.size() < kHeaderLengthBytes) {
    throw InputError(path + ": file is " + std::to_string(file.size()) +
                     " bytes, too short for the 8-byte safetensors header length");
  }
  const uint64_t header_length = LoadLittleEndian64(file.data());
  if (header_length > kMaxHeaderBytes) {
    throw InputError(path + ": header length " + std::to_string(header_length) +
                     " at byte 0 exceeds the limit of " + std::to_string(kMaxHeaderBytes));
  }
  if (header_length > file.size() - kHeaderLengthBytes) {
    throw InputError(path + ": header length " + std::to_string(header_length) +
                     " at byte 0 runs past the end of the file (" + std::to_string(file.size()) +
                     " bytes)");
  }

  // The header needs three levels (entry, shape); deeper nesting is refused
  // while parsing, since printing or copying a value recurses once per level.
  const nlohmann::json::parser_callback_t limit_nesting =
      [&path](int depth, nlohmann::json::parse_event_t event, const nlohmann::json&) {
        const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                           event == nlohmann::json::parse_event_t::array_start;
        if (opens && depth >= kMaxHeaderNesting) {
          throw InputError(path + ": header at byte 8 nests arrays or objects more than " +
                           std::to_string(kMaxHeaderNesting) + " levels deep");
        }
        return true;
      };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(
        std::string_view(file.data() + kHeaderLengthBytes, header_length), limit_nesting);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for a number too large for a double.
    throw InputError(path + ": header at byte 8 is not valid JSON: " + e.what());
  }
  if (!header.is_object()) {
    throw InputError(path + ": header at byte 8 is a JSON " + std::string(header.type_name()) +
                     ", expected an object");
  }

  const uint64_t data_start = kHeaderLengthBytes + header_length;
  const uint64_t data_size = file.size() - data_start;
  std::vector<TensorExtent> extents;
  // "__metadata__" is free-form string pairs we neither need nor check.
  for (const auto& [name, entry] : header.items()) {
    if (name == kMetadataKey) continue;
    extents.push_back(EntryParser(path, name, data_start, data_size).Parse(entry));
  }
  CheckNoOverlap(path, data_start, extents);

  TensorMap tensors;
  for (TensorExtent& extent : extents) {
    Tensor& tensor = tensors[extent.name];
    tensor.shape = std::move(extent.shape);
    const char* bytes = file.data() + data_start + extent.begin;
    const uint64_t count = (extent.end - extent.begin) / kBytesPerF32;
    tensor.data.resize(count);
    for (uint64_t i = 0; i < count; ++i) tensor.data[i] = LoadFloat(bytes + i * kBytesPerF32);
  }
  return tensors;
}

}  // namespace mb
