// IDX files (http://yann.lecun.com/exdb/mnist/): a big-endian header of a
// magic number and one 32-bit size per dimension, then unsigned bytes.
#include "data/idx_reader.h"

#include <algorithm>
#include <cstdio>

#include "common/error.h"

namespace mb {
namespace {

// MNIST's largest file is 47 MB; anything near this is not a data set this
// program can train on.
constexpr uint64_t kMaxPayloadBytes = uint64_t{1} << 30;
constexpr const char* kMaxPayloadText = "1 GiB";
// Deflate's densest code is 258 bytes of output for about 2 bits of input
// (zlib's FAQ), so a gzip file of n bytes cannot inflate to more than
// 1032 n: a header promising more is refused before inflating anything.
constexpr uint64_t kMaxDeflateRatio = 1032;

// IDX magic numbers: two zero bytes, the element type (0x08: unsigned byte)
// and the number of dimensions.
constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
constexpr size_t kImagesHeaderBytes = 16;  // magic, count, rows, cols
constexpr size_t kLabelsHeaderBytes = 8;   // magic, count
constexpr size_t kMaxHeaderBytes = kImagesHeaderBytes;
// The payload is read 1 MiB at a time.
constexpr size_t kPieceBytes = size_t{1} << 20;

[[noreturn]] void Fail(const std::string& path, const std::string& problem) {
  throw InputError(path + ": " + problem);
}

uint32_t BigEndian32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

std::string Hex32(uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

const char* MagicName(uint32_t magic) {
  return magic == kImagesMagic ? "IDX images" : "IDX labels";
}

size_t HeaderBytes(uint32_t magic) {
  return magic == kImagesMagic ? kImagesHeaderBytes : kLabelsHeaderBytes;
}

// Checks that the `got` bytes read of a header are all of it and start
// with `magic`; the sizes after the magic are the caller's to check.
void CheckMagic(const std::string& path, const uint8_t* header, size_t got, uint32_t magic) {
  if (got >= 4) {
    const uint32_t found = BigEndian32(header);
    if (found == kImagesMagic || found == kLabelsMagic) {
      if (found != magic) {
        Fail(path, "magic number " + Hex32(found) + " at byte offset 0 is that of " +
                       MagicName(found) + ", expected " + Hex32(magic) + " (" +
                       MagicName(magic) + ")");
      }
    } else {
      Fail(path, "bad magic number " + Hex32(found) + " at byte offset 0, expected " +
                     Hex32(magic) + " (" + MagicName(magic) + ")");
    }
  }
  if (got < HeaderBytes(magic)) {
    Fail(path, "header truncated at byte offset " + std::to_string(got) + " (an " +
                   MagicName(magic) + " header is " + std::to_string(HeaderBytes(magic)) +
                   " bytes)");
  }
}

// A header read and checked: what it declares, and its promise as text for
// the messages about the payload ("header says 4 images of 28x28 (3136
// bytes)").
struct CheckedHeader {
  IdxShape shape;
  size_t header_bytes = 0;
  std::string promise;
};

// Checks, before any of the payload is read, that the file can hold what
// the header promises. `payload` is null when count * item_bytes does not
// fit in 64 bits (the header's three 32-bit sizes can multiply to 2^96).
void CheckPromise(const std::string& path, const ContentStream& stream,
                  const CheckedHeader& header, const uint64_t* payload) {
  const uint64_t stored = stream.stored_size();
  const std::string after_header =
      " after the " + std::to_string(header.header_bytes) + "-byte header";
  if (!stream.gzip() && stored != 0) {
    const uint64_t held = stored - std::min<uint64_t>(stored, header.header_bytes);
    if (!payload || *payload != held) {
      Fail(path, header.promise + " but the file holds " + std::to_string(held) + " bytes" +
                     after_header);
    }
  }
  if (stream.gzip() && stored != 0) {
    uint64_t most = 0;
    if (__builtin_mul_overflow(stored, kMaxDeflateRatio, &most)) most = UINT64_MAX;
    if (!payload || *payload > most - std::min(most, uint64_t{header.header_bytes})) {
      Fail(path, header.promise + " but " + std::to_string(stored) +
                     " bytes of gzip cannot inflate to more than " + std::to_string(most));
    }
  }
  if (!payload || *payload > kMaxPayloadBytes) {
    Fail(path, header.promise + ", more than the " + kMaxPayloadText + " a data file may hold");
  }
}

// Reads the header at the start of the stream and checks it against what
// the file can hold.
CheckedHeader ReadHeader(const std::string& path, ContentStream& stream, uint32_t magic) {
  uint8_t bytes[kMaxHeaderBytes];
  CheckedHeader header;
  header.header_bytes = HeaderBytes(magic);
  CheckMagic(path, bytes, stream.Read(bytes, header.header_bytes), magic);
  IdxShape& shape = header.shape;
  shape.count = BigEndian32(bytes + 4);
  if (magic == kImagesMagic) {
    if (shape.count == 0) Fail(path, "header says 0 images (byte offset 4)");
    shape.rows = BigEndian32(bytes + 8);
    shape.cols = BigEndian32(bytes + 12);
    if (shape.rows == 0 || shape.cols == 0) {
      Fail(path, "header says images of " + std::to_string(shape.rows) + "x" +
                     std::to_string(shape.cols) +
                     " pixels (byte offset 8); rows and cols must be non-zero");
    }
  } else if (shape.count == 0) {
    Fail(path, "header says 0 labels (byte offset 4)");
  }
  // Two 32-bit factors: the product fits in 64 bits; with the count it may not.
  const uint64_t item_bytes = uint64_t{shape.rows} * shape.cols;
  const bool overflow = __builtin_mul_overflow(uint64_t{shape.count}, item_bytes,
                                               &shape.payload_bytes);
  const std::string claim =
      magic == kImagesMagic
          ? std::to_string(shape.count) + " images of " + std::to_string(shape.rows) + "x" +
                std::to_string(shape.cols)
          : std::to_string(shape.count) + " labels";
  header.promise = "header says " + claim + " (" +
                   (overflow ? "more than 2^64" : std::to_string(shape.payload_bytes)) +
                   " bytes)";
  CheckPromise(path, stream, header, overflow ? nullptr : &shape.payload_bytes);
  return header;
}

// Exactly the payload the header promised, and the content must end there:
// a gzip file is inflated no further than one byte past the promise. The
// promise is reserved, not filled: memory is touched only as the content
// arrives, so a file that ends short costs what it holds.
std::vector<uint8_t> ReadPayload(const std::string& path, ContentStream& stream,
                                 const CheckedHeader& header) {
  const auto promised = static_cast<size_t>(header.shape.payload_bytes);
  std::vector<uint8_t> payload;
  payload.reserve(promised);
  while (payload.size() < promised) {
    const size_t held = payload.size();
    const size_t piece = std::min(kPieceBytes, promised - held);
    payload.resize(held + piece);
    payload.resize(held + stream.Read(payload.data() + held, piece));
    if (payload.size() < held + piece) break;
  }
  const std::string after_header =
      " after the " + std::to_string(header.header_bytes) + "-byte header";
  if (payload.size() < promised) {
    Fail(path, header.promise + " but the file holds " + std::to_string(payload.size()) +
                   " bytes" + after_header);
  }
  if (stream.HasMore()) {
    Fail(path, header.promise + " but the file holds more" + after_header +
                   " (reading stopped at byte offset " +
                   std::to_string(header.header_bytes + promised + 1) + ")");
  }
  return payload;
}

}  // namespace

IdxImages ReadIdxImages(const std::string& path) {
  ContentStream stream(path);
  const CheckedHeader header = ReadHeader(path, stream, kImagesMagic);
  IdxImages images;
  images.pixels = ReadPayload(path, stream, header);
  images.count = header.shape.count;
  images.rows = header.shape.rows;
  images.cols = header.shape.cols;
  images.stored = stream.Finish();
  return images;
}

IdxLabels ReadIdxLabels(const std::string& path, int num_classes) {
  ContentStream stream(path);
  const CheckedHeader header = ReadHeader(path, stream, kLabelsMagic);
  IdxLabels labels;
  labels.labels = ReadPayload(path, stream, header);
  for (size_t i = 0; i < labels.labels.size(); ++i) {
    const uint8_t label = labels.labels[i];
    if (label >= num_classes) {
      Fail(path, "label " + std::to_string(label) + " at index " + std::to_string(i) +
                     " (byte offset " + std::to_string(kLabelsHeaderBytes + i) +
                     ") is not below num_classes " + std::to_string(num_classes));
    }
  }
  labels.count = header.shape.count;
  labels.stored = stream.Finish();
  return labels;
}

IdxShape ReadIdxImagesShape(const std::string& path) {
  ContentStream stream(path);
  return ReadHeader(path, stream, kImagesMagic).shape;
}

IdxShape ReadIdxLabelsShape(const std::string& path) {
  ContentStream stream(path);
  return ReadHeader(path, stream, kLabelsMagic).shape;
}

}  // namespace mb
