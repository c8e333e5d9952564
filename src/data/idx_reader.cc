// IDX files (http://yann.lecun.com/exdb/mnist/): a big-endian header of a
// magic number and one 32-bit size per dimension, then unsigned bytes.
#include "data/idx_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <system_error>

#include <zlib.h>

#include "common/error.h"
#include "common/sha256.h"

namespace mb {
namespace {

// MNIST's largest file is 47 MB; anything near this is not a data set this
// program can train on, and a gzip bomb must not exhaust memory.
constexpr size_t kMaxContentBytes = size_t{1} << 30;
constexpr const char* kMaxContentText = "1 GiB";
// Files are read in chunks of up to 1 MiB, and inflated 64 KiB at a time
// (zlib's window is 32 KiB).
constexpr size_t kChunkBytes = size_t{1} << 20;
constexpr size_t kInflatedChunkBytes = size_t{1} << 16;

// IDX magic numbers: two zero bytes, the element type (0x08: unsigned byte)
// and the number of dimensions.
constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
constexpr size_t kImagesHeaderBytes = 16;  // magic, count, rows, cols
constexpr size_t kLabelsHeaderBytes = 8;   // magic, count

[[noreturn]] void Fail(const std::string& path, const std::string& problem) {
  throw InputError(path + ": " + problem);
}

[[noreturn]] void FailWithErrno(const std::string& path, const char* action,
                                int error) {
  Fail(path, std::string(action) + " (" + std::strerror(error) + ")");
}

// A file read once, front to back, in chunks. Every byte read is also
// hashed, so the checksum of the file as stored costs no second pass.
class HashingReader {
 public:
  explicit HashingReader(const std::string& path)
      : path_(path), file_(std::fopen(path.c_str(), "rb"), &std::fclose) {
    if (!file_) FailWithErrno(path, "cannot open", errno);
    // fopen succeeds on a directory on Linux; only the first read would fail.
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      FailWithErrno(path, "cannot open", EISDIR);
    }
    const auto size = std::filesystem::file_size(path, error);
    if (!error) size_hint_ = size;
  }

  // Fills `chunk` as far as the file allows; the count returned is short of
  // chunk.size() only at the end of the file.
  size_t Read(std::vector<uint8_t>& chunk) {
    const size_t got = std::fread(chunk.data(), 1, chunk.size(), file_.get());
    if (got < chunk.size() && std::ferror(file_.get())) {
      FailWithErrno(path_, "cannot read", errno);
    }
    hash_.Update(chunk.data(), got);
    bytes_read_ += got;
    return got;
  }

  // The size when the file was opened (0 if unknown): a hint for reserving
  // memory, not a promise.
  uint64_t size_hint() const { return size_hint_; }

  // Call once, after the last Read.
  StoredFile Finish() { return StoredFile{bytes_read_, hash_.HexDigest()}; }

 private:
  std::string path_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  uint64_t size_hint_ = 0;
  Sha256 hash_;
  uint64_t bytes_read_ = 0;
};

[[noreturn]] void FailTooLarge(const std::string& path) {
  Fail(path, std::string("content is larger than ") + kMaxContentText +
                 ", the limit for a data file");
}

void Append(const std::string& path, const uint8_t* data, size_t size,
            std::vector<uint8_t>& content) {
  if (size > kMaxContentBytes - content.size()) FailTooLarge(path);
  content.insert(content.end(), data, data + size);
}

// The rest of a file that is not gzip; `chunk` holds its first `got` bytes.
std::vector<uint8_t> ReadRaw(const std::string& path, HashingReader& file,
                             std::vector<uint8_t>& chunk, size_t got) {
  if (file.size_hint() > kMaxContentBytes) FailTooLarge(path);
  std::vector<uint8_t> content;
  content.reserve(file.size_hint());
  Append(path, chunk.data(), got, content);
  while (got == chunk.size()) {
    got = file.Read(chunk);
    Append(path, chunk.data(), got, content);
  }
  return content;
}

// Inflates a gzip file; `chunk` holds its first `got` bytes. Only one chunk
// of compressed input is held at a time; the output grows as it is produced
// (the gzip trailer's size field is unreliable, so it is not trusted).
std::vector<uint8_t> Inflate(const std::string& path, HashingReader& file,
                             std::vector<uint8_t>& chunk, size_t got) {
  z_stream stream{};
  // 15 + 32: the largest window, and accept a gzip or zlib header.
  if (inflateInit2(&stream, 15 + 32) != Z_OK) throw std::bad_alloc();
  std::unique_ptr<z_stream, int (*)(z_stream*)> end_stream(&stream,
                                                           &inflateEnd);

  bool at_end_of_file = got < chunk.size();
  stream.next_in = chunk.data();
  stream.avail_in = static_cast<uInt>(got);
  const auto refill = [&] {
    if (stream.avail_in > 0 || at_end_of_file) return;
    got = file.Read(chunk);
    at_end_of_file = got < chunk.size();
    stream.next_in = chunk.data();
    stream.avail_in = static_cast<uInt>(got);
  };

  std::vector<uint8_t> content;
  std::vector<uint8_t> inflated(kInflatedChunkBytes);
  for (;;) {
    refill();
    stream.next_out = inflated.data();
    stream.avail_out = static_cast<uInt>(inflated.size());
    const int status = inflate(&stream, Z_NO_FLUSH);
    Append(path, inflated.data(), inflated.size() - stream.avail_out, content);
    switch (status) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        // A gzip file may hold several members back to back (RFC 1952,
        // 2.2); gunzip joins them, and so do we.
        refill();
        if (stream.avail_in == 0) return content;
        inflateReset(&stream);
        break;
      case Z_BUF_ERROR:
        // No progress with an empty output buffer and all the file's input
        // given (refill() saw to both): the file ended before the stream.
        Fail(path, "truncated gzip stream");
      case Z_NEED_DICT:
        Fail(path, "corrupt gzip data (needs a preset dictionary)");
      case Z_MEM_ERROR:
        throw std::bad_alloc();
      default:
        Fail(path, std::string("corrupt gzip data (") +
                       (stream.msg ? stream.msg : zError(status)) + ")");
    }
  }
}

// The file's content (inflated if gzip), and `stored` describes the file
// itself.
std::vector<uint8_t> ReadContent(const std::string& path, StoredFile& stored) {
  HashingReader file(path);
  // No larger than the file needs (its size, and a byte more to see its
  // end), so that a small file costs no 1 MiB buffer. The size is a hint:
  // any chunk size reads the whole file.
  const uint64_t hint = file.size_hint();
  std::vector<uint8_t> chunk(
      hint == 0 ? kChunkBytes : static_cast<size_t>(std::min<uint64_t>(kChunkBytes, hint + 1)));
  const size_t got = file.Read(chunk);
  if (got == 0) Fail(path, "empty file");
  const bool gzip = got >= 2 && chunk[0] == 0x1f && chunk[1] == 0x8b;
  std::vector<uint8_t> content =
      gzip ? Inflate(path, file, chunk, got) : ReadRaw(path, file, chunk, got);
  stored = file.Finish();
  return content;
}

uint32_t BigEndian32(const std::vector<uint8_t>& bytes, size_t offset) {
  return (uint32_t{bytes[offset]} << 24) | (uint32_t{bytes[offset + 1]} << 16) |
         (uint32_t{bytes[offset + 2]} << 8) | uint32_t{bytes[offset + 3]};
}

std::string Hex32(uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

const char* MagicName(uint32_t magic) {
  return magic == kImagesMagic ? "IDX images" : "IDX labels";
}

// Checks that `content` is long enough for the header and starts with
// `magic`; the sizes after the magic are the caller's to check.
void CheckHeader(const std::string& path, const std::vector<uint8_t>& content,
                 uint32_t magic, size_t header_bytes) {
  if (content.size() >= 4) {
    const uint32_t found = BigEndian32(content, 0);
    if (found == kImagesMagic || found == kLabelsMagic) {
      if (found != magic) {
        Fail(path, "magic number " + Hex32(found) +
                       " at byte offset 0 is that of " + MagicName(found) +
                       ", expected " + Hex32(magic) + " (" + MagicName(magic) +
                       ")");
      }
    } else {
      Fail(path, "bad magic number " + Hex32(found) +
                     " at byte offset 0, expected " + Hex32(magic) + " (" +
                     MagicName(magic) + ")");
    }
  }
  if (content.size() < header_bytes) {
    Fail(path, "header truncated at byte offset " +
                   std::to_string(content.size()) + " (an " + MagicName(magic) +
                   " header is " + std::to_string(header_bytes) + " bytes)");
  }
}

// count * item_bytes as text, saying so when it does not fit in 64 bits
// (the header's three 32-bit sizes can multiply to 2^96).
std::string ProductText(uint64_t count, uint64_t item_bytes) {
  if (item_bytes != 0 && count > UINT64_MAX / item_bytes) {
    return "more than 2^64";
  }
  return std::to_string(count * item_bytes);
}

// Checks the payload after the header holds exactly count * item_bytes.
// Division, not multiplication, so that no header can overflow the check.
void CheckPayloadSize(const std::string& path, size_t payload_bytes,
                      uint64_t count, uint64_t item_bytes, size_t header_bytes,
                      const std::string& claim) {
  if (payload_bytes % item_bytes == 0 && payload_bytes / item_bytes == count) {
    return;
  }
  Fail(path, "header says " + claim + " (" + ProductText(count, item_bytes) +
                 " bytes) but the file holds " + std::to_string(payload_bytes) +
                 " bytes after the " + std::to_string(header_bytes) +
                 "-byte header");
}

// The payload alone, reusing the content's memory rather than copying it.
std::vector<uint8_t> DropHeader(std::vector<uint8_t> content,
                                size_t header_bytes) {
  content.erase(content.begin(), content.begin() + header_bytes);
  return content;
}

}  // namespace

std::vector<uint8_t> ReadMaybeGzipFile(const std::string& path) {
  StoredFile stored;
  return ReadContent(path, stored);
}

IdxImages ReadIdxImages(const std::string& path) {
  IdxImages images;
  std::vector<uint8_t> content = ReadContent(path, images.stored);
  CheckHeader(path, content, kImagesMagic, kImagesHeaderBytes);
  const uint32_t count = BigEndian32(content, 4);
  const uint32_t rows = BigEndian32(content, 8);
  const uint32_t cols = BigEndian32(content, 12);
  if (count == 0) Fail(path, "header says 0 images (byte offset 4)");
  if (rows == 0 || cols == 0) {
    Fail(path, "header says images of " + std::to_string(rows) + "x" +
                   std::to_string(cols) +
                   " pixels (byte offset 8); rows and cols must be non-zero");
  }
  // Two 32-bit factors: the product fits in 64 bits.
  const uint64_t image_bytes = uint64_t{rows} * cols;
  CheckPayloadSize(path, content.size() - kImagesHeaderBytes, count,
                   image_bytes, kImagesHeaderBytes,
                   std::to_string(count) + " images of " +
                       std::to_string(rows) + "x" + std::to_string(cols));

  images.pixels = DropHeader(std::move(content), kImagesHeaderBytes);
  images.count = count;
  images.rows = rows;
  images.cols = cols;
  return images;
}

IdxLabels ReadIdxLabels(const std::string& path, int num_classes) {
  IdxLabels labels;
  std::vector<uint8_t> content = ReadContent(path, labels.stored);
  CheckHeader(path, content, kLabelsMagic, kLabelsHeaderBytes);
  const uint32_t count = BigEndian32(content, 4);
  if (count == 0) Fail(path, "header says 0 labels (byte offset 4)");
  CheckPayloadSize(path, content.size() - kLabelsHeaderBytes, count, 1,
                   kLabelsHeaderBytes, std::to_string(count) + " labels");

  for (size_t i = 0; i < count; ++i) {
    const uint8_t label = content[kLabelsHeaderBytes + i];
    if (label >= num_classes) {
      Fail(path,
           "label " + std::to_string(label) + " at index " + std::to_string(i) +
               " (byte offset " + std::to_string(kLabelsHeaderBytes + i) +
               ") is not below num_classes " + std::to_string(num_classes));
    }
  }
  labels.labels = DropHeader(std::move(content), kLabelsHeaderBytes);
  labels.count = count;
  return labels;
}

}  // namespace mb
