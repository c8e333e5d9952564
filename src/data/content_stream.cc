#include "data/content_stream.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <system_error>

#include <zlib.h>

#include "common/error.h"
#include "common/sha256.h"

namespace mb {
namespace {

// ReadMaybeGzipFile's limit: MNIST's largest file is 47 MB; anything near
// this is not a data set this program can train on.
constexpr size_t kMaxContentBytes = size_t{1} << 30;
constexpr const char* kMaxContentText = "1 GiB";
// Files are read in chunks of up to 1 MiB; ReadMaybeGzipFile takes the
// content 64 KiB at a time.
constexpr size_t kChunkBytes = size_t{1} << 20;
constexpr size_t kPieceBytes = size_t{1} << 16;
// zlib counts its buffers in uInt: one inflate call gets at most this much
// output room.
constexpr size_t kMaxInflateCall = size_t{1} << 30;

[[noreturn]] void Fail(const std::string& path, const std::string& problem) {
  throw InputError(path + ": " + problem);
}

[[noreturn]] void FailWithErrno(const std::string& path, const char* action, int error) {
  Fail(path, std::string(action) + " (" + std::strerror(error) + ")");
}

// A file read once, front to back. Every byte read is also hashed, so the
// checksum of the file as stored costs no second pass.
class HashingReader {
 public:
  explicit HashingReader(const std::string& path)
      : path_(path), file_(std::fopen(path.c_str(), "rb"), &std::fclose) {
    if (!file_) FailWithErrno(path, "cannot open", errno);
    // fopen succeeds on a directory on Linux; only the first read would fail.
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) FailWithErrno(path, "cannot open", EISDIR);
    const auto size = std::filesystem::file_size(path, error);
    if (!error) size_ = size;
  }

  // Fills [data, data + size) as far as the file allows; the count returned
  // is short of `size` only at the end of the file.
  size_t Read(uint8_t* data, size_t size) {
    const size_t got = std::fread(data, 1, size, file_.get());
    if (got < size && std::ferror(file_.get())) FailWithErrno(path_, "cannot read", errno);
    hash_.Update(data, got);
    bytes_read_ += got;
    return got;
  }

  uint64_t size() const { return size_; }

  // Call once, after the last Read.
  StoredFile Finish() { return StoredFile{bytes_read_, hash_.HexDigest()}; }

 private:
  std::string path_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  uint64_t size_ = 0;
  Sha256 hash_;
  uint64_t bytes_read_ = 0;
};

}  // namespace

struct ContentStream::State {
  explicit State(const std::string& p) : path(p), file(p) {}
  ~State() {
    if (gzip) inflateEnd(&stream);
  }

  std::string path;
  HashingReader file;
  // Bytes of the file read but not yet used: a raw file's first chunk,
  // served before the rest is read straight into the caller's buffer; for
  // gzip, inflate's input (stream.next_in points into it).
  std::vector<uint8_t> chunk;
  size_t chunk_begin = 0, chunk_end = 0;
  bool at_end_of_file = false;
  bool gzip = false;
  z_stream stream{};
  bool stream_ended = false;  // the last gzip member's end was inflated

  // Gives inflate the next chunk of the file once it has used the last.
  void Refill() {
    if (stream.avail_in > 0 || at_end_of_file) return;
    const size_t got = file.Read(chunk.data(), chunk.size());
    at_end_of_file = got < chunk.size();
    stream.next_in = chunk.data();
    stream.avail_in = static_cast<uInt>(got);
  }
};

ContentStream::ContentStream(const std::string& path) : state_(std::make_unique<State>(path)) {
  State& s = *state_;
  // No larger than the file needs (its size, and a byte more to see its
  // end), so that a small file costs no 1 MiB buffer. The size is a hint:
  // any chunk size reads the whole file.
  const uint64_t size = s.file.size();
  s.chunk.resize(size == 0 ? kChunkBytes
                           : static_cast<size_t>(std::min<uint64_t>(kChunkBytes, size + 1)));
  s.chunk_end = s.file.Read(s.chunk.data(), s.chunk.size());
  if (s.chunk_end == 0) Fail(path, "empty file");
  s.at_end_of_file = s.chunk_end < s.chunk.size();
  if (s.chunk_end >= 2 && s.chunk[0] == 0x1f && s.chunk[1] == 0x8b) {
    // 15 + 32: the largest window, and accept a gzip or zlib header.
    if (inflateInit2(&s.stream, 15 + 32) != Z_OK) throw std::bad_alloc();
    s.gzip = true;
    s.stream.next_in = s.chunk.data();
    s.stream.avail_in = static_cast<uInt>(s.chunk_end);
  }
}

ContentStream::~ContentStream() = default;

bool ContentStream::gzip() const { return state_->gzip; }

uint64_t ContentStream::stored_size() const { return state_->file.size(); }

size_t ContentStream::Read(uint8_t* data, size_t size) {
  return state_->gzip ? Inflate(data, size) : ReadRaw(data, size);
}

bool ContentStream::HasMore() {
  uint8_t byte;
  return Read(&byte, 1) == 1;
}

StoredFile ContentStream::Finish() { return state_->file.Finish(); }

size_t ContentStream::ReadRaw(uint8_t* data, size_t size) {
  State& s = *state_;
  size_t done = std::min(size, s.chunk_end - s.chunk_begin);
  std::memcpy(data, s.chunk.data() + s.chunk_begin, done);
  s.chunk_begin += done;
  if (done < size && !s.at_end_of_file) {
    const size_t got = s.file.Read(data + done, size - done);
    s.at_end_of_file = got < size - done;
    done += got;
  }
  return done;
}

// Output is produced only into the caller's buffer, so inflating stops
// exactly where the caller stops asking (the gzip trailer's size field is
// unreliable, so it is not trusted).
size_t ContentStream::Inflate(uint8_t* data, size_t size) {
  State& s = *state_;
  z_stream& stream = s.stream;
  size_t done = 0;
  while (done < size && !s.stream_ended) {
    s.Refill();
    const size_t room = std::min(size - done, kMaxInflateCall);
    stream.next_out = data + done;
    stream.avail_out = static_cast<uInt>(room);
    const int status = inflate(&stream, Z_NO_FLUSH);
    done += room - stream.avail_out;
    switch (status) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        // A gzip file may hold several members back to back (RFC 1952,
        // 2.2); gunzip joins them, and so do we.
        s.Refill();
        if (stream.avail_in == 0) {
          s.stream_ended = true;
        } else {
          inflateReset(&stream);
        }
        break;
      case Z_BUF_ERROR:
        // No progress with room for output and all the file's input given
        // (Refill() saw to both): the file ended before the stream.
        Fail(s.path, "truncated gzip stream");
      case Z_NEED_DICT:
        Fail(s.path, "corrupt gzip data (needs a preset dictionary)");
      case Z_MEM_ERROR:
        throw std::bad_alloc();
      default:
        Fail(s.path, std::string("corrupt gzip data (") +
                         (stream.msg ? stream.msg : zError(status)) + ")");
    }
  }
  return done;
}

std::vector<uint8_t> ReadMaybeGzipFile(const std::string& path) {
  ContentStream stream(path);
  const auto fail_too_large = [&] {
    Fail(path, std::string("content is larger than ") + kMaxContentText +
                   ", the limit for a data file");
  };
  std::vector<uint8_t> content;
  if (!stream.gzip()) {
    if (stream.stored_size() > kMaxContentBytes) fail_too_large();
    content.reserve(stream.stored_size());
  }
  std::vector<uint8_t> piece(kPieceBytes);
  for (;;) {
    const size_t got = stream.Read(piece.data(), piece.size());
    if (got > kMaxContentBytes - content.size()) fail_too_large();
    content.insert(content.end(), piece.data(), piece.data() + got);
    if (got < piece.size()) break;
  }
  stream.Finish();
  return content;
}

}  // namespace mb
