#include "data/dataset.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "temp_dir.h"

namespace mb {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

static_assert(!std::is_copy_constructible_v<Dataset>,
              "views would point into the copied-from Dataset");

// The vendored MNIST; tests run from the repository root, which
// MB_SOURCE_ROOT also names.
fs::path MnistDir() {
  const char* root = std::getenv("MB_SOURCE_ROOT");
  return fs::path(root ? root : ".") / "data" / "mnist";
}

DataConfig ConfigFor(const fs::path& dir) {
  DataConfig data;
  data.dir = dir.string();
  data.train_images = (dir / "train-images-idx3-ubyte.gz").string();
  data.train_labels = (dir / "train-labels-idx1-ubyte.gz").string();
  data.test_images = (dir / "t10k-images-idx3-ubyte.gz").string();
  data.test_labels = (dir / "t10k-labels-idx1-ubyte.gz").string();
  return data;
}

// A fresh directory under the system temp dir, removed with its contents
// when the test ends.

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// An IDX file whose header words are `header` (magic first), followed by
// `payload_bytes` bytes of value 1.
void WriteIdx(const fs::path& path, std::initializer_list<uint32_t> header,
              size_t payload_bytes) {
  std::string bytes;
  for (uint32_t word : header) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<char>(word >> shift));
    }
  }
  bytes.append(payload_bytes, '\1');
  WriteText(path, bytes);
}

// A small synthetic data set in `dir`: `train` and `test` samples of
// rows x cols, with label files of `train_labels` and `test_labels` labels.
DataConfig WriteSynthetic(const fs::path& dir, uint32_t train,
                          uint32_t train_labels, uint32_t test,
                          uint32_t test_labels, uint32_t test_rows = 2) {
  const DataConfig data = ConfigFor(dir);
  WriteIdx(data.train_images, {0x803, train, 2, 2}, train * 4);
  WriteIdx(data.train_labels, {0x801, train_labels}, train_labels);
  WriteIdx(data.test_images, {0x803, test, test_rows, 2}, test * test_rows * 2);
  WriteIdx(data.test_labels, {0x801, test_labels}, test_labels);
  return data;
}

template <typename Load>
void RequireInputError(Load&& load, const std::string& fragment) {
  try {
    load();
    FAIL("expected an InputError mentioning: " << fragment);
  } catch (const InputError& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
  }
}

TEST_CASE("LoadDataset loads the vendored MNIST", "[data]") {
  const DataConfig data = ConfigFor(MnistDir());
  const Dataset dataset = LoadDataset(data, 0.0);

  CHECK(dataset.features == 784);
  CHECK(dataset.num_classes == 10);
  CHECK(dataset.train.count == 60000);
  CHECK(dataset.validation.count == 0);
  CHECK(dataset.test.count == 10000);
  CHECK(dataset.train.features == 784);
  CHECK(dataset.train.images == dataset.train_images.data());
  CHECK(dataset.test.labels == dataset.test_labels.data());
  CHECK(dataset.train_images.size() == 60000u * 784);
  CHECK(dataset.test_images.size() == 10000u * 784);
  CHECK(dataset.train.labels[0] == 5);
  CHECK(dataset.test.labels[0] == 7);

  // The well-known normalisation constant 0.1307.
  uint64_t sum = 0;
  for (uint8_t pixel : dataset.train_images) sum += pixel;
  const double mean = static_cast<double>(sum) / 255.0 /
                      static_cast<double>(dataset.train_images.size());
  CHECK(mean == Approx(0.1306604763).margin(1e-6));

  const nlohmann::json& description = dataset.description;
  CHECK(description["checksums_verified"] == true);
  CHECK(description["train_images"]["path"] == data.train_images);
  CHECK(description["train_images"]["sha256"] ==
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609");
  CHECK(description["train_images"]["bytes"] == 9912422);
  CHECK(description["train_images"]["count"] == 60000);
  CHECK(description["test_labels"]["sha256"] ==
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6");
  CHECK(description["test_labels"]["count"] == 10000);
  CHECK(description["features"] == 784);
  CHECK(description["num_classes"] == 10);
  CHECK(description["train_count"] == 60000);
  CHECK(description["validation_count"] == 0);
  CHECK(description["test_count"] == 10000);
}

TEST_CASE("LoadDataset records what data.normalize makes of each pixel", "[data]") {
  DataConfig data = ConfigFor(MnistDir());
  CHECK(LoadDataset(data, 0.0).pixel_values == PixelScale());
  data.normalize = Normalization{0.1307, 0.3081};
  const Dataset dataset = LoadDataset(data, 0.1);
  // torchvision's ToTensor then Normalize, in float32.
  for (int pixel : {0, 1, 33, 34, 128, 255}) {
    CAPTURE(pixel);
    CHECK(dataset.pixel_values[pixel] ==
          (static_cast<float>(pixel) / 255.0f - 0.1307f) / 0.3081f);
  }
  CHECK(dataset.pixel_values[0] == Approx(-0.4242).margin(1e-4));
  CHECK(dataset.pixel_values[255] == Approx(2.8215).margin(1e-4));
  // Standard normalisation of the train set leaves it near mean 0, std 1.
  double sum = 0, sum_sq = 0;
  for (uint8_t pixel : dataset.train_images) {
    sum += dataset.pixel_values[pixel];
    sum_sq += double{dataset.pixel_values[pixel]} * dataset.pixel_values[pixel];
  }
  const double n = static_cast<double>(dataset.train_images.size());
  CHECK(sum / n == Approx(0.0).margin(1e-3));
  CHECK(std::sqrt(sum_sq / n - (sum / n) * (sum / n)) == Approx(1.0).epsilon(1e-3));
}

TEST_CASE("ReadDatasetShape declares what LoadDataset loads", "[data]") {
  const DataConfig data = ConfigFor(MnistDir());
  const DatasetShape shape = ReadDatasetShape(data);
  const Dataset dataset = LoadDataset(data, 0.0);
  CHECK(shape.features() == dataset.features);
  CHECK(shape.train_images.count == dataset.train.count);
  CHECK(shape.test_labels.count == dataset.test.count);
  CHECK(shape.payload_bytes() == dataset.train_images.size() + dataset.train_labels.size() +
                                     dataset.test_images.size() + dataset.test_labels.size());
}

TEST_CASE("LoadDataset splits off the validation set as Keras does", "[data]") {
  Dataset loaded = LoadDataset(ConfigFor(MnistDir()), 0.1);
  // Moving keeps the vectors' buffers, so the views stay valid.
  const Dataset dataset = std::move(loaded);

  CHECK(dataset.train.count == 54000);
  CHECK(dataset.validation.count == 6000);
  CHECK(dataset.train.images == dataset.train_images.data());
  CHECK(dataset.validation.images == dataset.train_images.data() + 54000 * 784);
  CHECK(dataset.validation.labels == dataset.train_labels.data() + 54000);
  CHECK(dataset.validation.features == 784);
  CHECK(dataset.description["train_count"] == 54000);
  CHECK(dataset.description["validation_count"] == 6000);
}

TEST_CASE("LoadDataset verifies the files listed in SHA256SUMS", "[data]") {
  TempDir dir;
  for (const char* name :
       {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    fs::copy_file(MnistDir() / name, dir.path() / name);
  }
  DataConfig data = ConfigFor(dir.path());
  const std::string wrong(64, '0');

  SECTION("a mismatch is an error") {
    WriteText(dir.path() / "SHA256SUMS",
              "# comment\n\n" + wrong + "  train-labels-idx1-ubyte.gz\n");
    RequireInputError([&] { LoadDataset(data, 0.0); },
                      data.train_labels + ": sha256 mismatch: expected " +
                          wrong + ", got 3552534a0a558bbed6aed32b30c495cca23d" +
                          "567ec52cac8be1a0730e8010255c");
  }
  SECTION("upper-case and binary-mode lines are accepted") {
    WriteText(dir.path() / "SHA256SUMS",
              "3552534A0A558BBED6AED32B30C495CCA23D567EC52CAC8BE1A0730E8010255"
              "C *train-labels-idx1-ubyte.gz\r\n");
    const Dataset dataset = LoadDataset(data, 0.0);
    // Only one of the four files was listed.
    CHECK(dataset.description["checksums_verified"] == false);
  }
  SECTION("nothing is checked when verification is off") {
    WriteText(dir.path() / "SHA256SUMS",
              wrong + "  train-labels-idx1-ubyte.gz\n");
    data.verify_checksums = false;
    const Dataset dataset = LoadDataset(data, 0.0);
    CHECK(dataset.description["checksums_verified"] == false);
  }
  SECTION("nothing is checked without SHA256SUMS") {
    const Dataset dataset = LoadDataset(data, 0.0);
    CHECK(dataset.description["checksums_verified"] == false);
  }
  SECTION("a malformed line is an error") {
    WriteText(dir.path() / "SHA256SUMS",
              "# comment\nSHA256 (train-labels-idx1-ubyte.gz) = 1234\n");
    RequireInputError([&] { LoadDataset(data, 0.0); },
                      (dir.path() / "SHA256SUMS").string() +
                          ":2: expected \"<64 hex digits>  <file name>\"");
  }
}

TEST_CASE("LoadDataset checks that the four files agree", "[data]") {
  TempDir dir;

  SECTION("loads a consistent synthetic set") {
    const Dataset dataset =
        LoadDataset(WriteSynthetic(dir.path(), 10, 10, 3, 3), 0.25);
    CHECK(dataset.features == 4);
    CHECK(dataset.train.count == 7);  // floor(10 * 0.75)
    CHECK(dataset.validation.count == 3);
    CHECK(dataset.test.count == 3);
  }
  SECTION("train image and label counts differ") {
    const DataConfig data = WriteSynthetic(dir.path(), 10, 9, 3, 3);
    RequireInputError([&] { LoadDataset(data, 0.0); },
                      data.train_labels + ": holds 9 labels but " +
                          data.train_images + " holds 10 images");
  }
  SECTION("test image and label counts differ") {
    const DataConfig data = WriteSynthetic(dir.path(), 10, 10, 3, 4);
    RequireInputError([&] { LoadDataset(data, 0.0); },
                      data.test_labels + ": holds 4 labels but " +
                          data.test_images + " holds 3 images");
  }
  SECTION("real MNIST labels against synthetic images") {
    DataConfig data = WriteSynthetic(dir.path(), 10, 10, 3, 3);
    data.train_labels = ConfigFor(MnistDir()).test_labels;
    RequireInputError([&] { LoadDataset(data, 0.0); },
                      ": holds 10000 labels but ");
  }
  SECTION("train and test image sizes differ") {
    const DataConfig data = WriteSynthetic(dir.path(), 10, 10, 3, 3, 3);
    RequireInputError([&] { LoadDataset(data, 0.0); },
                      data.test_images + ": images are 3x2 but those of " +
                          data.train_images + " are 2x2");
  }
  SECTION("the split leaves no training samples") {
    const DataConfig data = WriteSynthetic(dir.path(), 10, 10, 3, 3);
    RequireInputError([&] { LoadDataset(data, 0.95); },
                      data.train_images +
                          ": validation_split 0.95 leaves "
                          "no training samples out of 10");
    // Printed as given, not rounded to "1" (which would read as out of range).
    RequireInputError([&] { LoadDataset(data, 0.9999999); },
                      ": validation_split 0.9999999 leaves no training samples");
  }
  SECTION("the split is out of range") {
    const DataConfig data = WriteSynthetic(dir.path(), 10, 10, 3, 3);
    RequireInputError([&] { LoadDataset(data, 1.0); },
                      "validation_split 1 is outside [0, 1)");
    RequireInputError([&] { LoadDataset(data, -0.5); }, "is outside [0, 1)");
  }
}

}  // namespace
}  // namespace mb
