// Loading the four MNIST files into one Dataset: checksums, consistency
// checks across files, and the Keras-style validation split.
#include "data/dataset.h"

#include <cctype>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "common/error.h"
#include "data/idx_reader.h"

namespace mb {
namespace {

constexpr char kChecksumFileName[] = "SHA256SUMS";
constexpr size_t kSha256HexDigits = 64;

// File base name -> lower-case hex sha256.
using Checksums = std::map<std::string, std::string>;

// Parses a sha256sum-style file: "<hex>  <name>" (text mode) or
// "<hex> *<name>" (binary mode) per line; blank lines and '#' comments are
// skipped. A malformed line is an error rather than skipped, so that a typo
// cannot silently turn verification off.
Checksums ReadChecksums(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  }
  Checksums checksums;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;

    bool well_formed = line.size() > kSha256HexDigits + 2 &&
                       line[kSha256HexDigits] == ' ' &&
                       (line[kSha256HexDigits + 1] == ' ' ||
                        line[kSha256HexDigits + 1] == '*');
    std::string hex = line.substr(0, kSha256HexDigits);
    for (char& c : hex) {
      well_formed = well_formed && std::isxdigit(static_cast<unsigned char>(c));
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!well_formed) {
      throw InputError(path + ":" + std::to_string(line_number) +
                       ": expected \"<64 hex digits>  <file name>\"");
    }
    checksums[line.substr(kSha256HexDigits + 2)] = hex;
  }
  if (in.bad()) throw InputError(path + ": cannot read");
  return checksums;
}

// The checksums to verify against: none unless asked for and data.dir holds
// a SHA256SUMS file.
Checksums ChecksumsToVerify(const DataConfig& data) {
  if (!data.verify_checksums || data.dir.empty()) return {};
  const std::filesystem::path sums =
      std::filesystem::path(data.dir) / kChecksumFileName;
  std::error_code error;
  if (!std::filesystem::exists(sums, error)) return {};
  return ReadChecksums(sums.string());
}

// Returns whether `path` was listed (and so verified); throws if it was
// listed with a different checksum.
bool VerifyChecksum(const Checksums& checksums, const std::string& path,
                    const StoredFile& stored) {
  const auto listed =
      checksums.find(std::filesystem::path(path).filename().string());
  if (listed == checksums.end()) return false;
  if (listed->second != stored.sha256) {
    throw InputError(path + ": sha256 mismatch: expected " + listed->second +
                     ", got " + stored.sha256);
  }
  return true;
}

nlohmann::json DescribeFile(const std::string& path, const StoredFile& stored,
                            size_t count) {
  return {{"path", path},
          {"sha256", stored.sha256},
          {"bytes", stored.bytes},
          {"count", count}};
}

void CheckSameCount(const std::string& images_path, const IdxImages& images,
                    const std::string& labels_path, const IdxLabels& labels) {
  if (images.count != labels.count) {
    throw InputError(labels_path + ": holds " + std::to_string(labels.count) +
                     " labels but " + images_path + " holds " +
                     std::to_string(images.count) + " images");
  }
}

// The shortest form that reads back as the same double: "0.1", not
// to_string's "0.100000", and 0.9999999 not rounded to "1" as a stream's
// six significant digits would.
std::string Number(double value) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, value).ptr);
}

DataView View(const std::vector<uint8_t>& images,
              const std::vector<uint8_t>& labels, size_t first, size_t count,
              size_t features) {
  return DataView{images.data() + first * features, labels.data() + first,
                  count, features};
}

}  // namespace

DatasetShape ReadDatasetShape(const DataConfig& data) {
  return {ReadIdxImagesShape(data.train_images), ReadIdxLabelsShape(data.train_labels),
          ReadIdxImagesShape(data.test_images), ReadIdxLabelsShape(data.test_labels)};
}

Dataset LoadDataset(const DataConfig& data, double validation_split) {
  if (!(validation_split >= 0.0 && validation_split < 1.0)) {
    throw InputError("validation_split " + Number(validation_split) +
                     " is outside [0, 1)");
  }
  const Checksums checksums = ChecksumsToVerify(data);
  Dataset dataset;

  // Each file is verified right after it is read, so a bad download fails
  // before the larger files are inflated.
  IdxImages train_images = ReadIdxImages(data.train_images);
  bool verified =
      VerifyChecksum(checksums, data.train_images, train_images.stored);
  IdxLabels train_labels =
      ReadIdxLabels(data.train_labels, dataset.num_classes);
  verified &= VerifyChecksum(checksums, data.train_labels, train_labels.stored);
  IdxImages test_images = ReadIdxImages(data.test_images);
  verified &= VerifyChecksum(checksums, data.test_images, test_images.stored);
  IdxLabels test_labels = ReadIdxLabels(data.test_labels, dataset.num_classes);
  verified &= VerifyChecksum(checksums, data.test_labels, test_labels.stored);

  CheckSameCount(data.train_images, train_images, data.train_labels,
                 train_labels);
  CheckSameCount(data.test_images, test_images, data.test_labels, test_labels);
  if (test_images.rows != train_images.rows ||
      test_images.cols != train_images.cols) {
    throw InputError(
        data.test_images + ": images are " + std::to_string(test_images.rows) +
        "x" + std::to_string(test_images.cols) + " but those of " +
        data.train_images + " are " + std::to_string(train_images.rows) + "x" +
        std::to_string(train_images.cols));
  }

  // Keras' expression, evaluated the same way, so both split identically.
  const size_t train_total = train_images.count;
  const auto train_count = static_cast<size_t>(
      std::floor(static_cast<double>(train_total) * (1.0 - validation_split)));
  if (train_count == 0) {
    throw InputError(
        data.train_images + ": validation_split " + Number(validation_split) +
        " leaves no training samples out of " + std::to_string(train_total));
  }
  const size_t validation_count = train_total - train_count;
  const size_t features = train_images.rows * train_images.cols;

  dataset.features = features;
  dataset.pixel_values = PixelValues(data.normalize);
  dataset.rows = train_images.rows;
  dataset.cols = train_images.cols;
  dataset.train_images = std::move(train_images.pixels);
  dataset.train_labels = std::move(train_labels.labels);
  dataset.test_images = std::move(test_images.pixels);
  dataset.test_labels = std::move(test_labels.labels);
  dataset.train = View(dataset.train_images, dataset.train_labels, 0,
                       train_count, features);
  dataset.validation = View(dataset.train_images, dataset.train_labels,
                            train_count, validation_count, features);
  dataset.test = View(dataset.test_images, dataset.test_labels, 0,
                      test_images.count, features);

  dataset.description = {
      {"train_images", DescribeFile(data.train_images, train_images.stored,
                                    train_images.count)},
      {"train_labels", DescribeFile(data.train_labels, train_labels.stored,
                                    train_labels.count)},
      {"test_images",
       DescribeFile(data.test_images, test_images.stored, test_images.count)},
      {"test_labels",
       DescribeFile(data.test_labels, test_labels.stored, test_labels.count)},
      {"features", features},
      {"num_classes", dataset.num_classes},
      {"train_count", train_count},
      {"validation_count", validation_count},
      {"test_count", test_images.count},
      {"checksums_verified", verified},
  };
  return dataset;
}

}  // namespace mb
