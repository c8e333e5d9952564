// libFuzzer target: loading a config, --set overrides and validation.
//
// The input is the config file's text, then any number of "--set"
// overrides, each after a NUL byte: "{...}\0epochs=2\0model.0.units=64".
// Run it from the repository root: the data files a config names are
// checked for existence relative to the current directory, and with the
// vendored data/mnist there the defaults resolve and whole configs are
// accepted. InputError is the only acceptable failure; an accepted config
// must satisfy the documented ranges and resolve again from its own
// resolved JSON to the same config and hash.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "config/config.h"
#include "data/pixel_scale.h"
#include "fuzz_support.h"

namespace {

using mb::fuzz::Require;

// Training flushes subnormals to zero, so a parameter must be 0 or normal.
bool ZeroOrNormal(float v) { return v == 0.0f || std::isnormal(v); }
bool InFraction(float v) { return ZeroOrNormal(v) && v >= 0.0f && v < 1.0f; }
bool Positive(float v) { return std::isnormal(v) && v > 0.0f; }

// The ranges docs/config.md documents, checked on the values training will use.
void CheckRanges(const mb::Config& config) {
  Require(!config.name.empty() &&
              config.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789._-") == std::string::npos,
          "name that cannot name a directory accepted");
  Require(config.threads >= 0 && config.threads <= 1024, "threads out of range");
  Require(config.epochs >= 1 && config.epochs <= 100000, "epochs out of range");
  Require(!config.max_steps || (*config.max_steps >= 1 && *config.max_steps <= (uint64_t{1} << 40)),
          "max_steps out of range");
  Require(config.batch_size >= 1 && config.batch_size <= (1 << 20), "batch_size out of range");
  Require(config.predict >= 0 && config.predict <= 10000, "predict out of range");
  Require(config.validation_split >= 0.0 && config.validation_split < 1.0,
          "validation_split out of range");
  Require(!config.model.empty(), "empty model accepted");
  for (size_t i = 0; i < config.model.size(); ++i) {
    const mb::LayerConfig& layer = config.model[i];
    switch (layer.type) {
      case mb::LayerType::kDense:
        Require(layer.units >= 1 && layer.units <= 65536, "units out of range");
        break;
      case mb::LayerType::kConv2D:
        Require(layer.filters >= 1 && layer.filters <= 65536, "filters out of range");
        [[fallthrough]];
      case mb::LayerType::kMaxPooling2D:
        Require(layer.window_h >= 1 && layer.window_h <= 1024 && layer.window_w >= 1 &&
                    layer.window_w <= 1024 && layer.stride_h >= 1 && layer.stride_h <= 1024 &&
                    layer.stride_w >= 1 && layer.stride_w <= 1024,
                "window or strides out of range");
        break;
      case mb::LayerType::kDropout:
        Require(layer.rate >= 0.0 && layer.rate < 1.0, "rate out of range");
        break;
      case mb::LayerType::kFlatten:
      case mb::LayerType::kActivation: break;
    }
    Require(i + 1 == config.model.size() || layer.activation != mb::Activation::kSoftmax,
            "softmax before the last layer");
  }
  // Every layer fits its input (the schema checked MNIST's shape).
  const std::vector<mb::FeatureShape> shapes =
      mb::LayerOutputShapes(config.model, mb::MnistInputShape(), "fuzz");
  Require(shapes.back() == mb::FeatureShape::Vector(mb::kNumClasses), "output is not 10 classes");
  Require(config.model.back().type == mb::LayerType::kDense, "last layer is not dense");
  Require(config.model.back().units == mb::kNumClasses, "last layer is not 10 units");
  Require(config.model.back().activation == mb::Activation::kSoftmax,
          "last layer is not softmax");
  const mb::OptimizerConfig& o = config.optimizer;
  Require(Positive(o.learning_rate), "learning_rate is not > 0 as a normal float");
  Require(Positive(o.epsilon), "epsilon is not > 0 as a normal float");
  Require(InFraction(o.momentum), "momentum is not in [0, 1) as a float");
  Require(InFraction(o.rho), "rho is not in [0, 1) as a float");
  Require(InFraction(o.beta_1), "beta_1 is not in [0, 1) as a float");
  Require(InFraction(o.beta_2), "beta_2 is not in [0, 1) as a float");
  Require(ZeroOrNormal(o.weight_decay) && o.weight_decay >= 0.0f,
          "weight_decay is not >= 0 as a float");
  if (config.data.normalize) {
    const std::array<float, 256> values = mb::PixelValues(config.data.normalize);
    Require(std::isnormal(static_cast<float>(config.data.normalize->std)) &&
                std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); }),
            "data.normalize leaves a pixel not finite in float32");
  }
  Require(config.hash.size() == 64, "hash is not a sha256");
}

// A report's resolved config alone must reproduce the run.
void CheckResolvesAgain(const mb::Config& config) {
  mb::Config again;
  try {
    again = mb::ResolveConfig(config.resolved, "resolved");
  } catch (const mb::InputError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    Require(false, "the resolved JSON of an accepted config is rejected");
  }
  Require(again.resolved == config.resolved, "resolving the resolved JSON changes it");
  Require(again.hash == config.hash, "resolving the resolved JSON changes the hash");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mb::fuzz::InputFile file;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t end = input.find('\0');
  const std::string_view text = input.substr(0, end);
  std::vector<std::string> overrides;
  while (end != std::string_view::npos) {
    const size_t start = end + 1;
    end = input.find('\0', start);
    overrides.emplace_back(input.substr(start, end == std::string_view::npos ? end : end - start));
  }

  const std::string& path =
      file.Write(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  try {
    const mb::Config config = mb::LoadConfig(path, overrides);
    CheckRanges(config);
    CheckResolvesAgain(config);
  } catch (const mb::InputError& error) {
    const std::string message = error.what();
    Require(message.rfind(path + ": ", 0) == 0 || message.rfind("--set ", 0) == 0,
            "InputError names neither the file nor the --set option");
    Require(message.find('\n') == std::string::npos, "InputError is not one line");
  }
  return 0;
}
