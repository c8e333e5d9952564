// A data file's content, read front to back as the caller asks for it: the
// file itself, or what it inflates to when it starts with the gzip magic.
// The caller decides how much to read, so a header can be checked before
// its payload is read, and a gzip file is inflated no further than the
// header promised (a small gzip can inflate to gigabytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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

class ContentStream {
 public:
  // Opens `path` and reads its first bytes to see whether it is gzip.
  // Throws InputError ("<path>: ...") when the file cannot be opened or is
  // empty.
  explicit ContentStream(const std::string& path);
  ~ContentStream();

  bool gzip() const;
  // The file's size on disk when it was opened (0 if unknown): a bound for
  // checking a header, not a promise.
  uint64_t stored_size() const;

  // Fills [data, data + size) with the next bytes of the content; fewer
  // only at its end. Concatenated gzip members are joined, as gunzip does.
  // Throws InputError on corrupt or truncated gzip.
  size_t Read(uint8_t* data, size_t size);

  // Whether the content has more bytes after those read so far: reads one.
  bool HasMore();

  // Call once, after the content's end was read: the file as stored.
  StoredFile Finish();

 private:
  struct State;  // the open file and, for gzip, zlib's stream
  size_t ReadRaw(uint8_t* data, size_t size);
  size_t Inflate(uint8_t* data, size_t size);
  std::unique_ptr<State> state_;
};

// The whole content of a file, raw or inflated. Throws InputError
// ("<path>: ...") when the file cannot be read, is empty, is corrupt or
// truncated gzip, or holds more than 1 GiB.
std::vector<uint8_t> ReadMaybeGzipFile(const std::string& path);

}  // namespace mb
