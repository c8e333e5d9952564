// libFuzzer target: the IDX reader on raw and gzip input. The input is the
// file's bytes; it is read as images, as labels and as a plain file.
// InputError is the only acceptable failure; a successful read must agree
// with the header and with the bytes given.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/sha256.h"
#include "data/idx_reader.h"
#include "fuzz_support.h"

namespace {

using mb::fuzz::Require;

// What the reader reports about the stored file must be the input's size
// and sha256.
void CheckStored(const mb::StoredFile& stored, std::string_view input) {
  Require(stored.bytes == input.size(), "StoredFile.bytes is not the input size");
  Require(stored.sha256 == mb::Sha256Hex(input), "StoredFile.sha256 is not the input's");
}

bool IsGzip(std::string_view input) {
  return input.size() >= 2 && static_cast<uint8_t>(input[0]) == 0x1f &&
         static_cast<uint8_t>(input[1]) == 0x8b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mb::fuzz::InputFile file;
  const std::string& path = file.Write(data, size);
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  try {
    const std::vector<uint8_t> content = mb::ReadMaybeGzipFile(path);
    if (!IsGzip(input)) {
      Require(std::string_view(reinterpret_cast<const char*>(content.data()), content.size()) ==
                  input,
              "ReadMaybeGzipFile changed a file that is not gzip");
    }
  } catch (const mb::InputError& error) {
    mb::fuzz::RequireErrorNamesFile(error, path);
  }

  try {
    const mb::IdxImages images = mb::ReadIdxImages(path);
    Require(images.count > 0 && images.rows > 0 && images.cols > 0, "zero dimension accepted");
    Require(images.pixels.size() == images.count * images.rows * images.cols,
            "pixel count does not match the header");
    CheckStored(images.stored, input);
    // The header alone, read first to budget memory, must say the same.
    const mb::IdxShape shape = mb::ReadIdxImagesShape(path);
    Require(shape.count == images.count && shape.rows == images.rows &&
                shape.cols == images.cols && shape.payload_bytes == images.pixels.size(),
            "ReadIdxImagesShape disagrees with ReadIdxImages");
  } catch (const mb::InputError& error) {
    mb::fuzz::RequireErrorNamesFile(error, path);
  }

  try {
    const mb::IdxLabels labels = mb::ReadIdxLabels(path);
    Require(labels.count > 0 && labels.labels.size() == labels.count,
            "label count does not match the header");
    for (const uint8_t label : labels.labels) Require(label < 10, "label out of range accepted");
    CheckStored(labels.stored, input);
  } catch (const mb::InputError& error) {
    mb::fuzz::RequireErrorNamesFile(error, path);
  }
  return 0;
}
