#include "data/idx_reader.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <zlib.h>

#include "common/error.h"
#include "common/sha256.h"
#include "temp_dir.h"

namespace mb {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A fresh directory under the system temp dir, removed with its contents
// when the test ends.

void AppendBigEndian32(Bytes& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    bytes.push_back(static_cast<uint8_t>(value >> shift));
  }
}

Bytes ImagesFile(uint32_t count, uint32_t rows, uint32_t cols,
                 const Bytes& pixels) {
  Bytes bytes;
  for (uint32_t word : {0x00000803u, count, rows, cols}) {
    AppendBigEndian32(bytes, word);
  }
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  return bytes;
}

Bytes LabelsFile(uint32_t count, const Bytes& labels) {
  Bytes bytes;
  AppendBigEndian32(bytes, 0x00000801);
  AppendBigEndian32(bytes, count);
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

// Pixels that are neither constant nor periodic in 256, so misplaced bytes
// show up.
Bytes Pattern(size_t size) {
  Bytes bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<uint8_t>(i * 7 + i / 253);
  }
  return bytes;
}

void WriteRaw(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void WriteGzip(const std::string& path, const Bytes& bytes) {
  gzFile out = gzopen(path.c_str(), "wb");
  REQUIRE(out != nullptr);
  REQUIRE(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(out) == Z_OK);
}

Bytes ReadRawFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Runs `read` and checks it throws a one-line InputError that starts with
// the path and contains `fragment`.
template <typename Read>
void RequireInputError(Read&& read, const std::string& path,
                       const std::string& fragment) {
  try {
    read();
    FAIL("expected an InputError mentioning: " << fragment);
  } catch (const InputError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.rfind(path + ": ", 0) == 0);
    CHECK(message.find(fragment) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("ReadIdxImages reads raw and gzip files alike", "[data]") {
  TempDir dir;
  // 1000 images of 40x30: 1.2 MB, more than one read chunk.
  const Bytes pixels = Pattern(1000 * 40 * 30);
  const Bytes file = ImagesFile(1000, 40, 30, pixels);
  const std::string raw = dir.File("images-idx3-ubyte");
  const std::string gz = dir.File("images-idx3-ubyte.gz");
  WriteRaw(raw, file);
  WriteGzip(gz, file);

  for (const std::string& path : {raw, gz}) {
    INFO(path);
    const IdxImages images = ReadIdxImages(path);
    CHECK(images.count == 1000);
    CHECK(images.rows == 40);
    CHECK(images.cols == 30);
    CHECK(images.pixels == pixels);
    CHECK(images.stored.bytes == fs::file_size(path));
    CHECK(images.stored.sha256 == Sha256OfFile(path));
  }
}

TEST_CASE("ReadIdxLabels reads raw and gzip files alike", "[data]") {
  TempDir dir;
  // 2^20 - 8 labels: the raw file is exactly one read chunk long.
  Bytes labels(1048568);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = (i * i + 3) % 10;
  const Bytes file = LabelsFile(static_cast<uint32_t>(labels.size()), labels);
  const std::string raw = dir.File("labels-idx1-ubyte");
  const std::string gz = dir.File("labels-idx1-ubyte.gz");
  WriteRaw(raw, file);
  WriteGzip(gz, file);

  for (const std::string& path : {raw, gz}) {
    INFO(path);
    const IdxLabels read = ReadIdxLabels(path);
    CHECK(read.count == labels.size());
    CHECK(read.labels == labels);
    CHECK(read.stored.bytes == fs::file_size(path));
    CHECK(read.stored.sha256 == Sha256OfFile(path));
  }
}

TEST_CASE("ReadMaybeGzipFile joins concatenated gzip members", "[data]") {
  TempDir dir;
  const std::string first = dir.File("first.gz");
  const std::string second = dir.File("second.gz");
  WriteGzip(first, {1, 2, 3});
  WriteGzip(second, {4, 5});
  Bytes both = ReadRawFile(first);
  const Bytes tail = ReadRawFile(second);
  both.insert(both.end(), tail.begin(), tail.end());
  const std::string joined = dir.File("joined.gz");
  WriteRaw(joined, both);
  CHECK(ReadMaybeGzipFile(joined) == Bytes{1, 2, 3, 4, 5});
}

TEST_CASE("ReadMaybeGzipFile returns a raw file unchanged", "[data]") {
  TempDir dir;
  const std::string path = dir.File("raw");
  WriteRaw(path, {0x1f, 0x8c, 0});  // almost, but not, the gzip magic
  CHECK(ReadMaybeGzipFile(path) == Bytes{0x1f, 0x8c, 0});
}

TEST_CASE("IDX reader rejects a wrong magic number", "[data]") {
  TempDir dir;
  const std::string labels = dir.File("labels");
  WriteRaw(labels, LabelsFile(2, {1, 2}));
  RequireInputError([&] { ReadIdxImages(labels); }, labels,
                    "magic number 0x00000801 at byte offset 0 is that of "
                    "IDX labels, expected 0x00000803 (IDX images)");

  const std::string images = dir.File("images");
  WriteRaw(images, ImagesFile(1, 1, 1, {7}));
  RequireInputError([&] { ReadIdxLabels(images); }, images,
                    "is that of IDX images, expected 0x00000801");

  const std::string text = dir.File("text");
  WriteRaw(text, {'h', 'e', 'l', 'l', 'o', '\n'});
  RequireInputError([&] { ReadIdxLabels(text); }, text,
                    "bad magic number 0x68656c6c at byte offset 0");
}

TEST_CASE("IDX reader rejects a truncated header", "[data]") {
  TempDir dir;
  const std::string images = dir.File("images");
  Bytes header = ImagesFile(1, 2, 2, {});
  header.resize(10);
  WriteRaw(images, header);
  RequireInputError([&] { ReadIdxImages(images); }, images,
                    "header truncated at byte offset 10 "
                    "(an IDX images header is 16 bytes)");

  const std::string labels = dir.File("labels");
  WriteRaw(labels, {0, 0, 8});
  RequireInputError([&] { ReadIdxLabels(labels); }, labels,
                    "header truncated at byte offset 3");
}

TEST_CASE("IDX reader requires the payload to match the header", "[data]") {
  TempDir dir;
  const std::string path = dir.File("images");

  SECTION("truncated body") {
    WriteRaw(path, ImagesFile(3, 2, 3, Pattern(17)));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "header says 3 images of 2x3 (18 bytes) but the file "
                      "holds 17 bytes after the 16-byte header");
  }
  SECTION("extra bytes") {
    WriteRaw(path, ImagesFile(3, 2, 3, Pattern(19)));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "(18 bytes) but the file holds 19 bytes");
  }
  SECTION("count off by one") {
    WriteRaw(path, ImagesFile(4, 2, 3, Pattern(18)));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "header says 4 images of 2x3 (24 bytes) but the file "
                      "holds 18 bytes");
  }
  SECTION("labels") {
    WriteRaw(path, LabelsFile(5, {1, 2, 3}));
    RequireInputError([&] { ReadIdxLabels(path); }, path,
                      "header says 5 labels (5 bytes) but the file holds 3 "
                      "bytes after the 8-byte header");
  }
}

TEST_CASE("IDX reader refuses absurd headers without allocating", "[data]") {
  // Were the reader to trust these headers it would ask for terabytes and
  // fail with std::bad_alloc (or worse) rather than an InputError.
  TempDir dir;
  const std::string path = dir.File("images");

  SECTION("2^31 images") {
    WriteRaw(path, ImagesFile(1u << 31, 28, 28, Pattern(784)));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "header says 2147483648 images of 28x28 "
                      "(1683627180032 bytes)");
  }
  SECTION("2^20 x 2^20 pixels") {
    WriteRaw(path, ImagesFile(1, 1u << 20, 1u << 20, Pattern(784)));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "(1099511627776 bytes) but the file holds 784 bytes");
  }
  SECTION("more than 2^64 bytes") {
    WriteRaw(path, ImagesFile(0xffffffff, 0xffffffff, 0xffffffff, {1}));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "(more than 2^64 bytes)");
  }
  SECTION("2^32 - 1 labels") {
    WriteRaw(path, LabelsFile(0xffffffff, {1, 2}));
    RequireInputError([&] { ReadIdxLabels(path); }, path,
                      "header says 4294967295 labels");
  }
}

TEST_CASE("IDX reader rejects zero counts and dimensions", "[data]") {
  TempDir dir;
  const std::string path = dir.File("idx");

  SECTION("zero rows") {
    WriteRaw(path, ImagesFile(1, 0, 28, {}));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "images of 0x28 pixels (byte offset 8); rows and cols "
                      "must be non-zero");
  }
  SECTION("zero cols") {
    WriteRaw(path, ImagesFile(1, 28, 0, {}));
    RequireInputError([&] { ReadIdxImages(path); }, path, "images of 28x0");
  }
  SECTION("zero images") {
    WriteRaw(path, ImagesFile(0, 28, 28, {}));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "header says 0 images (byte offset 4)");
  }
  SECTION("zero labels") {
    WriteRaw(path, LabelsFile(0, {}));
    RequireInputError([&] { ReadIdxLabels(path); }, path,
                      "header says 0 labels (byte offset 4)");
  }
}

TEST_CASE("IDX reader rejects labels out of range", "[data]") {
  TempDir dir;
  const std::string path = dir.File("labels");
  WriteRaw(path, LabelsFile(4, {0, 9, 10, 3}));
  RequireInputError([&] { ReadIdxLabels(path); }, path,
                    "label 10 at index 2 (byte offset 10) is not below "
                    "num_classes 10");
  RequireInputError([&] { ReadIdxLabels(path, 5); }, path,
                    "label 9 at index 1 (byte offset 9) is not below "
                    "num_classes 5");
  CHECK(ReadIdxLabels(path, 11).count == 4);
}

TEST_CASE("IDX reader rejects corrupt and truncated gzip", "[data]") {
  TempDir dir;
  const std::string good = dir.File("good.gz");
  WriteGzip(good, ImagesFile(100, 28, 28, Pattern(100 * 28 * 28)));
  const Bytes compressed = ReadRawFile(good);
  REQUIRE(compressed.size() > 100);
  const std::string path = dir.File("bad.gz");

  SECTION("bytes flipped in the middle") {
    Bytes corrupt = compressed;
    for (size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 8; ++i) {
      corrupt[i] ^= 0xff;
    }
    WriteRaw(path, corrupt);
    // Depending on where the flipped bits land, inflate sees a bad code or
    // a bad checksum, or runs out of input.
    RequireInputError([&] { ReadIdxImages(path); }, path, "gzip");
  }
  SECTION("checksum trailer altered") {
    Bytes corrupt = compressed;
    corrupt[corrupt.size() - 6] ^= 0x01;  // in the CRC-32
    WriteRaw(path, corrupt);
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "corrupt gzip data (incorrect data check)");
  }
  SECTION("garbage after the stream") {
    Bytes corrupt = compressed;
    corrupt.insert(corrupt.end(), {'j', 'u', 'n', 'k'});
    WriteRaw(path, corrupt);
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "corrupt gzip data (");
  }
  SECTION("cut in the middle") {
    WriteRaw(path, Bytes(compressed.begin(),
                         compressed.begin() + compressed.size() / 2));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "truncated gzip stream");
  }
  SECTION("trailer missing") {
    WriteRaw(path, Bytes(compressed.begin(), compressed.end() - 8));
    RequireInputError([&] { ReadIdxImages(path); }, path,
                      "truncated gzip stream");
  }
  SECTION("only the magic") {
    WriteRaw(path, {0x1f, 0x8b});
    RequireInputError([&] { ReadMaybeGzipFile(path); }, path,
                      "truncated gzip stream");
  }
}

TEST_CASE("IDX reader inflates no further than the header promised", "[data]") {
  TempDir dir;
  const std::string path = dir.File("bomb.gz");
  // A gzip bomb in small: the header promises 10 images of 28x28 (7840
  // bytes) and the stream inflates to 16 MiB.
  gzFile out = gzopen(path.c_str(), "wb");
  REQUIRE(out != nullptr);
  const Bytes header = ImagesFile(10, 28, 28, {});
  REQUIRE(gzwrite(out, header.data(), static_cast<unsigned>(header.size())) == 16);
  const Bytes zeros(1 << 20, 0);
  for (int i = 0; i < 16; ++i) {
    REQUIRE(gzwrite(out, zeros.data(), static_cast<unsigned>(zeros.size())) ==
            static_cast<int>(zeros.size()));
  }
  REQUIRE(gzclose(out) == Z_OK);

  // Refused one byte past the promise: at offset 16 + 7840 + 1.
  RequireInputError([&] { ReadIdxImages(path); }, path,
                    "header says 10 images of 28x28 (7840 bytes) but the file holds more "
                    "after the 16-byte header (reading stopped at byte offset 7857)");
  const IdxShape shape = ReadIdxImagesShape(path);
  CHECK(shape.count == 10);
  CHECK(shape.payload_bytes == 7840);
}

TEST_CASE("IDX reader refuses a gzip header promising more than gzip can hold", "[data]") {
  TempDir dir;
  const std::string path = dir.File("short.gz");
  // Deflate inflates at most 1032 times: ~60 bytes of gzip cannot hold
  // 784000 bytes, and nothing is inflated past the header to find out.
  WriteGzip(path, ImagesFile(1000, 28, 28, Pattern(10)));
  const std::string stored = std::to_string(fs::file_size(path));
  RequireInputError([&] { ReadIdxImagesShape(path); }, path,
                    "header says 1000 images of 28x28 (784000 bytes) but " + stored +
                        " bytes of gzip cannot inflate to more than");
  RequireInputError([&] { ReadIdxImages(path); }, path, "cannot inflate to more than");

  // Within the bound, a stream that ends early is measured.
  WriteGzip(path, ImagesFile(4, 2, 3, Pattern(18)));
  RequireInputError([&] { ReadIdxImages(path); }, path,
                    "header says 4 images of 2x3 (24 bytes) but the file holds 18 bytes "
                    "after the 16-byte header");
}

TEST_CASE("IDX reader checks a raw file's size before reading it", "[data]") {
  // Sparse files (no disk) of 28x28 images, refused from their size alone,
  // by the full read and by the header's.
  const struct {
    uint32_t count;
    uint64_t size;
    const char* problem;
  } files[] = {
      {2000, uint64_t{10} << 30,
       "header says 2000 images of 28x28 (1568000 bytes) but the file holds 10737418224 bytes "
       "after the 16-byte header"},
      // As large as the header says, but 1369576 * 784 = 2^30 + 5760.
      {1369576, 16 + uint64_t{1369576} * 784,
       "header says 1369576 images of 28x28 (1073747584 bytes), more than the 1 GiB a data "
       "file may hold"},
  };
  TempDir dir;
  for (const auto& file : files) {
    const std::string path = dir.File("sparse-" + std::to_string(file.count));
    WriteRaw(path, ImagesFile(file.count, 28, 28, {}));
    fs::resize_file(path, file.size);
    RequireInputError([&] { ReadIdxImages(path); }, path, file.problem);
    RequireInputError([&] { ReadIdxImagesShape(path); }, path, file.problem);
  }
}

TEST_CASE("ReadIdx*Shape read what the header declares", "[data]") {
  TempDir dir;
  const std::string images = dir.File("images.gz");
  const std::string labels = dir.File("labels");
  WriteGzip(images, ImagesFile(3, 2, 5, Pattern(30)));
  WriteRaw(labels, LabelsFile(3, {1, 2, 3}));
  const IdxShape image_shape = ReadIdxImagesShape(images);
  CHECK(image_shape.count == 3);
  CHECK(image_shape.rows == 2);
  CHECK(image_shape.cols == 5);
  CHECK(image_shape.payload_bytes == 30);
  const IdxShape label_shape = ReadIdxLabelsShape(labels);
  CHECK(label_shape.count == 3);
  CHECK(label_shape.payload_bytes == 3);
  RequireInputError([&] { ReadIdxLabelsShape(images); }, images, "is that of IDX images");
}

TEST_CASE("IDX reader names files it cannot read", "[data]") {
  TempDir dir;

  const std::string empty = dir.File("empty");
  WriteRaw(empty, {});
  RequireInputError([&] { ReadIdxImages(empty); }, empty, "empty file");

  const std::string directory = dir.File("a-directory");
  fs::create_directory(directory);
  RequireInputError([&] { ReadIdxImages(directory); }, directory,
                    "cannot open (Is a directory)");

  const std::string missing = dir.File("missing-idx3-ubyte.gz");
  RequireInputError([&] { ReadIdxLabels(missing); }, missing,
                    "cannot open (No such file or directory)");
}

}  // namespace
}  // namespace mb
