// Config loading, overrides and validation. Runs with the repository root as
// the working directory, so the default data dir data/mnist exists.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/sha256.h"
#include "config/config.h"
#include "config/suggest.h"
#include "temp_dir.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using mb::TempDir;

constexpr const char* kSource = "configs/x.json";

// A fresh directory, removed with its contents at the end of the test.

// The InputError message ResolveConfig gives for `document` ("" if none).
std::string ResolveError(const json& document) {
  try {
    mb::ResolveConfig(document, kSource);
  } catch (const mb::InputError& error) {
    return error.what();
  }
  return "";
}

std::string LoadError(const std::string& path, const std::vector<std::string>& overrides = {}) {
  try {
    mb::LoadConfig(path, overrides);
  } catch (const mb::InputError& error) {
    return error.what();
  }
  return "";
}

std::string OverrideError(json document, const std::string& override_text) {
  try {
    mb::ApplyOverride(document, override_text);
  } catch (const mb::InputError& error) {
    return error.what();
  }
  return "";
}

// `document` after the overrides.
json Overridden(json document, const std::vector<std::string>& overrides) {
  for (const std::string& override_text : overrides) mb::ApplyOverride(document, override_text);
  return document;
}

std::string Prefixed(const std::string& message) {
  return std::string(kSource) + ": " + message;
}

json TwoLayers(json hidden, json output) {
  return json{{"model", json::array({hidden, output})}};
}

}  // namespace

TEST_CASE("NearestName suggests close names only", "[config]") {
  const std::vector<std::string> keys = {"epochs", "batch_size", "learning_rate", "rho"};
  CHECK(mb::NearestName("epoch", keys) == "epochs");
  CHECK(mb::NearestName("learnig_rate", keys) == "learning_rate");
  CHECK(mb::NearestName("batch_szie", keys) == "batch_size");  // a swap is one edit
  CHECK(mb::NearestName("Epochs", keys) == "epochs");
  CHECK(mb::NearestName("rh", keys) == "rho");
  CHECK(mb::NearestName("lr", keys).empty());  // as many edits as letters
  CHECK(mb::NearestName("momentum", keys).empty());
  CHECK(mb::NearestName("", keys).empty());
  CHECK(mb::DidYouMean("epoch", keys) == " (did you mean 'epochs'?)");
  CHECK(mb::DidYouMean("zzz", keys).empty());
}

TEST_CASE("baseline.json resolves to the Keras book's experiment", "[config]") {
  const mb::Config config = mb::LoadConfig("configs/baseline.json", {});
  CHECK(config.name == "baseline");
  CHECK(config.seed == 1);
  CHECK(config.threads == 0);
  CHECK(config.data.dir == "data/mnist");
  CHECK(config.data.train_images == "data/mnist/train-images-idx3-ubyte.gz");
  CHECK(config.data.train_labels == "data/mnist/train-labels-idx1-ubyte.gz");
  CHECK(config.data.test_images == "data/mnist/t10k-images-idx3-ubyte.gz");
  CHECK(config.data.test_labels == "data/mnist/t10k-labels-idx1-ubyte.gz");
  CHECK(config.data.verify_checksums);
  REQUIRE(config.model.size() == 2);
  CHECK(config.model[0].units == 512);
  CHECK(config.model[0].activation == mb::Activation::kRelu);
  CHECK(config.model[0].kernel_initializer == mb::Initializer::kGlorotUniform);
  CHECK(config.model[0].bias_initializer == mb::Initializer::kZeros);
  CHECK(config.model[1].units == mb::kNumClasses);
  CHECK(config.model[1].activation == mb::Activation::kSoftmax);
  CHECK(config.loss == "sparse_categorical_crossentropy");
  CHECK(config.optimizer.kind == mb::OptimizerKind::kRmsprop);
  CHECK(config.optimizer.learning_rate == 0.001f);
  CHECK(config.optimizer.rho == 0.9f);
  CHECK(config.optimizer.epsilon == 1e-7f);
  CHECK(config.epochs == 5);
  CHECK(config.batch_size == 128);
  CHECK(config.shuffle == mb::Shuffle::kEveryEpoch);
  CHECK(config.validation_split == 0.0);
  CHECK(config.init_from.empty());
  CHECK_FALSE(config.save_model);
  CHECK(config.predict == 10);
  CHECK(config.hash == mb::Sha256Hex(mb::HashedPart(config.resolved).dump()));
  CHECK(config.hash.size() == 64);

  // baseline.json spells out the defaults.
  const mb::Config defaults = mb::ResolveConfig(json::object(), kSource);
  CHECK(mb::HashedPart(config.resolved) == mb::HashedPart(defaults.resolved));
}

// configs/speedrun.json is the reference with what the recipe search
// changed (docs/sweeps.md): 16 filters in the first convolution, 192 dense
// units, batches of 128 and a peak rate of 0.007.
TEST_CASE("speedrun.json is the reference recipe with the searched changes", "[config]") {
  json speedrun = mb::LoadConfig("configs/speedrun.json", {}).resolved;
  json reference = mb::LoadConfig("configs/speedrun_reference.json", {}).resolved;
  CHECK(speedrun["model"][0]["filters"] == 16);
  CHECK(reference["model"][0]["filters"] == 24);
  CHECK(speedrun["model"][7]["units"] == 192);
  CHECK(reference["model"][7]["units"] == 256);
  CHECK(speedrun["batch_size"] == 128);
  CHECK(reference["batch_size"] == 256);
  CHECK(speedrun["optimizer"]["learning_rate"]["max_lr"] == 0.007);
  CHECK(reference["optimizer"]["learning_rate"]["max_lr"] == 0.01);
  speedrun["model"][0]["filters"] = 24;
  speedrun["model"][7]["units"] = 256;
  speedrun["batch_size"] = 256;
  speedrun["optimizer"]["learning_rate"]["max_lr"] = 0.01;
  speedrun["name"] = reference["name"];
  CHECK(speedrun == reference);
}

TEST_CASE("speedrun_reference.json resolves to the train_mnist_fast recipe", "[config]") {
  const mb::Config config = mb::LoadConfig("configs/speedrun_reference.json", {});
  REQUIRE(config.data.normalize);
  CHECK(config.data.normalize->mean == 0.1307);
  CHECK(config.data.normalize->std == 0.3081);
  using mb::LayerType;
  const std::vector<LayerType> types = {
      LayerType::kConv2D,  LayerType::kMaxPooling2D, LayerType::kActivation,
      LayerType::kConv2D,  LayerType::kMaxPooling2D, LayerType::kActivation,
      LayerType::kFlatten, LayerType::kDense,        LayerType::kDense};
  REQUIRE(config.model.size() == types.size());
  for (size_t i = 0; i < types.size(); ++i) {
    CAPTURE(i);
    const mb::LayerConfig& layer = config.model[i];
    CHECK(layer.type == types[i]);
    if (layer.type == LayerType::kConv2D || layer.type == LayerType::kDense) {
      CHECK(layer.kernel_initializer == mb::Initializer::kPytorchDefault);
      CHECK(layer.bias_initializer == mb::Initializer::kPytorchDefault);
    }
    if (layer.type == LayerType::kConv2D) CHECK(layer.activation == mb::Activation::kLinear);
    if (layer.type == LayerType::kActivation) CHECK(layer.activation == mb::Activation::kRelu);
  }
  CHECK(config.model[0].filters == 24);
  CHECK(config.model[0].window_h == 5);
  CHECK(config.model[3].filters == 32);
  CHECK(config.model[3].window_h == 3);
  CHECK(mb::LayerOutputShapes(config.model, mb::MnistInputShape(), kSource)[6] ==
        mb::FeatureShape::Vector(800));
  CHECK(config.model[7].units == 256);
  CHECK(config.model[7].activation == mb::Activation::kRelu);
  const mb::OptimizerConfig& adam = config.optimizer;
  CHECK(adam.kind == mb::OptimizerKind::kAdam);
  CHECK(adam.beta_1 == 0.7f);
  CHECK(adam.beta_2 == 0.9f);
  CHECK(adam.epsilon == 1e-8f);
  CHECK_FALSE(adam.amsgrad);
  CHECK(adam.weight_decay == 0.0f);
  const mb::LearningRateSchedule& one_cycle = adam.schedule;
  CHECK(one_cycle.kind == mb::ScheduleKind::kOneCycle);
  CHECK(one_cycle.max_lr == 0.01);
  CHECK_FALSE(one_cycle.total_steps);  // the run's 235
  CHECK(one_cycle.pct_start == 0.3);
  CHECK_FALSE(one_cycle.anneal_linear);
  CHECK(one_cycle.div_factor == 25.0);
  CHECK(one_cycle.final_div_factor == 1e4);
  CHECK_FALSE(one_cycle.three_phase);
  CHECK(config.epochs == 1);
  CHECK(config.batch_size == 256);
  CHECK(config.shuffle == mb::Shuffle::kOnce);
  CHECK(config.validation_split == 0.0);
}

TEST_CASE("tiny.json resolves", "[config]") {
  const mb::Config config = mb::LoadConfig("configs/tiny.json", {});
  CHECK(config.name == "tiny");
  CHECK(config.epochs == 1);
  REQUIRE(config.model.size() == 2);
  CHECK(config.model[0].units == 64);
}

TEST_CASE("every default is filled into the resolved JSON", "[config]") {
  const json resolved = mb::ResolveConfig(json::object(), kSource).resolved;
  const json expected = json::parse(R"({
    "name": "run", "seed": 1, "threads": 0,
    "data": {"dir": "data/mnist",
             "train_images": "data/mnist/train-images-idx3-ubyte.gz",
             "train_labels": "data/mnist/train-labels-idx1-ubyte.gz",
             "test_images": "data/mnist/t10k-images-idx3-ubyte.gz",
             "test_labels": "data/mnist/t10k-labels-idx1-ubyte.gz",
             "verify_checksums": true, "normalize": null},
    "model": [{"type": "dense", "units": 512, "activation": "relu",
               "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
               "kernel_regularizer": null, "bias_regularizer": null},
              {"type": "dense", "units": 10, "activation": "softmax",
               "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
               "kernel_regularizer": null, "bias_regularizer": null}],
    "loss": "sparse_categorical_crossentropy",
    "optimizer": {"name": "rmsprop", "learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7,
                  "momentum": 0.0, "centered": false, "weight_decay": 0.0, "clipnorm": null, "clipvalue": null,
                  "global_clipnorm": null},
    "epochs": 5, "max_steps": null, "batch_size": 128, "shuffle": true, "validation_split": 0.0,
    "init_from": null, "save_model": false, "predict": 10,
    "target_accuracy": null, "target_every_steps": 0, "kernels": {"target": "auto"},
    "early_stopping": null, "reduce_lr_on_plateau": null
  })");
  CHECK(resolved == expected);
  // Numbers resolve as doubles whatever their spelling, so they hash the same.
  CHECK(resolved["validation_split"].is_number_float());
  const json integer_rate = {{"optimizer", {{"learning_rate", 1}}}};
  CHECK(mb::ResolveConfig(integer_rate, kSource).resolved["optimizer"]["learning_rate"].dump() ==
        "1.0");
}

TEST_CASE("Layer types resolve with Keras' defaults", "[config]") {
  const json model = json::parse(R"([
    {"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"},
    {"type": "max_pooling2d"},
    {"type": "conv2d", "filters": 4, "kernel_size": [3, 2], "strides": 2, "padding": "same"},
    {"type": "flatten"},
    {"type": "dropout", "rate": 0.5},
    {"type": "activation", "activation": "gelu"},
    {"units": 10, "activation": "softmax"}])");
  const mb::Config config = mb::ResolveConfig({{"model", model}}, kSource);
  const json& resolved = config.resolved["model"];
  CHECK(resolved[0] == json::parse(R"({"type": "conv2d", "filters": 8, "kernel_size": [3, 3],
      "strides": [1, 1], "padding": "valid", "activation": "relu",
      "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
      "kernel_regularizer": null, "bias_regularizer": null})"));
  CHECK(resolved[1] ==
        json::parse(R"({"type": "max_pooling2d", "pool_size": [2, 2], "strides": [2, 2],
                        "padding": "valid"})"));
  CHECK(resolved[2]["kernel_size"] == json::array({3, 2}));
  CHECK(resolved[2]["strides"] == json::array({2, 2}));
  CHECK(resolved[3] == json::parse(R"({"type": "flatten"})"));
  CHECK(resolved[4] == json::parse(R"({"type": "dropout", "rate": 0.5})"));
  CHECK(resolved[5] == json::parse(R"({"type": "activation", "activation": "gelu"})"));
  CHECK(resolved[6]["type"] == "dense");
  REQUIRE(config.model.size() == 7);
  CHECK(config.model[0].type == mb::LayerType::kConv2D);
  CHECK(config.model[1].window_h == 2);
  CHECK(config.model[1].stride_w == 2);
  CHECK(config.model[2].padding == mb::Padding::kSame);
  CHECK(config.model[4].rate == 0.5);
  CHECK(config.model[5].type == mb::LayerType::kActivation);
  CHECK(config.model[5].activation == mb::Activation::kGelu);
  // An activation keeps its input's shape.
  CHECK(mb::LayerOutputShapes(config.model, mb::MnistInputShape(), kSource)[5] ==
        mb::FeatureShape::Vector(4 * 7 * 7));
  // Pooling's strides default to its pool size.
  const json pool = {{"type", "max_pooling2d"}, {"pool_size", 3}};
  CHECK(mb::ResolveConfig({{"model", {pool, model[3], model[6]}}}, kSource)
            .resolved["model"][0]["strides"] == json::array({3, 3}));
}

TEST_CASE("Regularizers resolve as Keras' L1L2 and are hashed only when set", "[config]") {
  const json model = {{{"units", 10}, {"activation", "softmax"},
                       {"kernel_regularizer", {{"l2", 0.001}}}}};
  const mb::Config config = mb::ResolveConfig({{"model", model}}, kSource);
  CHECK(config.resolved["model"][0]["kernel_regularizer"] ==
        json::parse(R"({"l1": 0.0, "l2": 0.001})"));
  CHECK(config.model[0].kernel_regularizer.l2 == 0.001);
  CHECK_FALSE(config.model[0].bias_regularizer.active());
  const json part = mb::HashedPart(config.resolved)["model"][0];
  CHECK(part.contains("kernel_regularizer"));
  CHECK_FALSE(part.contains("bias_regularizer"));
  CHECK(ResolveError({{"model", {{{"units", 10}, {"activation", "softmax"},
                                  {"bias_regularizer", {{"l3", 1}}}}}}}) ==
        Prefixed("model.0.bias_regularizer.l3: unknown key (did you mean 'l1'?)"));
}

TEST_CASE("shuffle is true, false or \"once\", resolved as written", "[config]") {
  const mb::Config once = mb::LoadConfig("configs/baseline.json", {"shuffle=once"});
  CHECK(once.shuffle == mb::Shuffle::kOnce);
  CHECK(once.resolved["shuffle"] == "once");
  const mb::Config never = mb::LoadConfig("configs/baseline.json", {"shuffle=false"});
  CHECK(never.shuffle == mb::Shuffle::kNever);
  CHECK(never.resolved["shuffle"] == false);
  CHECK(mb::ResolveConfig(json::object(), kSource).resolved["shuffle"] == true);
}

TEST_CASE("data.normalize is null or a mean and a std, hashed only when set", "[config]") {
  const mb::Config none = mb::LoadConfig("configs/baseline.json", {});
  CHECK_FALSE(none.data.normalize);
  CHECK(none.resolved["data"]["normalize"].is_null());
  CHECK_FALSE(mb::HashedPart(none.resolved)["data"].contains("normalize"));
  const mb::Config set = mb::LoadConfig(
      "configs/baseline.json", {R"(data.normalize={"mean": 0.1307, "std": 0.3081})"});
  REQUIRE(set.data.normalize);
  CHECK(set.data.normalize->mean == 0.1307);
  CHECK(set.data.normalize->std == 0.3081);
  CHECK(set.resolved["data"]["normalize"] == json::parse(R"({"mean": 0.1307, "std": 0.3081})"));
  CHECK(set.hash != none.hash);
  CHECK(mb::LoadConfig("configs/baseline.json", {"data.normalize={\"mean\": 0, \"std\": 1}"})
            .resolved["data"]["normalize"]
            .dump() == R"({"mean":0.0,"std":1.0})");

  const auto normalize = [](const json& value) { return json{{"data", {{"normalize", value}}}}; };
  CHECK(ResolveError(normalize({{"mean", 0.1}})) ==
        Prefixed("data.normalize.std: missing (this key is required)"));
  CHECK(ResolveError(normalize({{"std", 0.3}})) ==
        Prefixed("data.normalize.mean: missing (this key is required)"));
  CHECK(ResolveError(normalize({{"mean", 0.1}, {"std", 0}})) ==
        Prefixed("data.normalize.std: must be > 0, got 0"));
  CHECK(ResolveError(normalize({{"mean", 0.1}, {"std", 0.3}, {"sdt", 1}})) ==
        Prefixed("data.normalize.sdt: unknown key (did you mean 'std'?)"));
  CHECK(ResolveError(normalize(0.5)) ==
        Prefixed("data.normalize: expected an object, got number 0.5"));
  CHECK(ResolveError(normalize({{"mean", 0.1}, {"std", 1e-50}})) ==
        Prefixed("data.normalize: mean and std must keep every pixel finite in float32 (std at "
                 "least 1.17549e-38), got {\"mean\":0.1,\"std\":1e-50}"));
  CHECK(ResolveError(normalize({{"mean", 1e300}, {"std", 1}})) ==
        Prefixed("data.normalize: mean and std must keep every pixel finite in float32 (std at "
                 "least 1.17549e-38), got {\"mean\":1e+300,\"std\":1}"));
}

TEST_CASE("Dense layers hash as before layer types existed", "[config]") {
  // The baseline's hash since its first reports (results/reference): "type":
  // "dense" is resolved but not hashed, whether written or not.
  const mb::Config baseline = mb::LoadConfig("configs/baseline.json", {});
  CHECK(baseline.hash.substr(0, 8) == "1d623337");
  const mb::Config typed =
      mb::LoadConfig("configs/baseline.json", {"model.0.type=\"dense\"", "model.1.type=dense"});
  CHECK(typed.hash == baseline.hash);
  CHECK(typed.resolved == baseline.resolved);
}

TEST_CASE("Schedules and callbacks resolve with Keras' defaults", "[config]") {
  const json cosine = {{"name", "cosine_decay"}, {"initial_learning_rate", 0.002},
                       {"decay_steps", 100}};
  const mb::Config config =
      mb::ResolveConfig({{"optimizer", {{"name", "rmsprop"}, {"learning_rate", cosine}}},
                         {"early_stopping", {{"monitor", "loss"}}},
                         {"reduce_lr_on_plateau", nullptr}},
                        kSource);
  CHECK(config.resolved["optimizer"]["learning_rate"] ==
        json::parse(R"({"name": "cosine_decay", "initial_learning_rate": 0.002,
                        "decay_steps": 100, "alpha": 0.0, "warmup_target": null,
                        "warmup_steps": 0})"));
  CHECK(config.optimizer.schedule.kind == mb::ScheduleKind::kCosineDecay);
  CHECK(config.optimizer.schedule.decay_steps == 100);
  CHECK(config.resolved["early_stopping"] ==
        json::parse(R"({"monitor": "loss", "min_delta": 0.0, "patience": 0, "mode": "auto",
                        "baseline": null, "restore_best_weights": false,
                        "start_from_epoch": 0})"));
  REQUIRE(config.early_stopping);
  CHECK_FALSE(config.early_stopping->maximize);
  CHECK_FALSE(config.reduce_lr_on_plateau);
  // Set, they are hashed; unset, the hash is the one configs had before them.
  const mb::Config plain = mb::ResolveConfig(json::object(), kSource);
  CHECK(mb::HashedPart(plain.resolved).count("early_stopping") == 0);
  CHECK(mb::HashedPart(config.resolved).count("early_stopping") == 1);
  const mb::Config accuracy = mb::ResolveConfig(
      {{"validation_split", 0.1}, {"reduce_lr_on_plateau", {{"monitor", "val_accuracy"}}}},
      kSource);
  CHECK(accuracy.reduce_lr_on_plateau->maximize);
  CHECK(accuracy.reduce_lr_on_plateau->patience == 10);
}

TEST_CASE("Schedules and callbacks that cannot work are named", "[config]") {
  const auto with_rate = [](const json& rate) {
    return json{{"optimizer", {{"name", "adam"}, {"learning_rate", rate}}}};
  };
  CHECK(ResolveError(with_rate({{"initial_learning_rate", 0.1}})) ==
        Prefixed("optimizer.learning_rate.name: missing (a schedule needs its name: "
                 "cosine_decay, exponential_decay, piecewise_constant_decay, polynomial_decay, "
                 "inverse_time_decay or one_cycle)"));
  CHECK(ResolveError(with_rate({{"name", "cosine"}})) ==
        Prefixed("optimizer.learning_rate.name: 'cosine' is not one of cosine_decay, "
                 "exponential_decay, piecewise_constant_decay, polynomial_decay, "
                 "inverse_time_decay, one_cycle"));
  CHECK(ResolveError(with_rate({{"name", "cosine_decay"}, {"initial_learning_rate", 0.1}})) ==
        Prefixed("optimizer.learning_rate.decay_steps: missing (this key is required)"));
  CHECK(ResolveError(with_rate({{"name", "piecewise_constant_decay"},
                                {"boundaries", {10, 5}}, {"values", {1, 2, 3}}})) ==
        Prefixed("optimizer.learning_rate.boundaries: must increase strictly, got [10.0,5.0]"));
  CHECK(ResolveError(with_rate({{"name", "piecewise_constant_decay"},
                                {"boundaries", {10}}, {"values", {1}}})) ==
        Prefixed("optimizer.learning_rate.values: needs one more value than boundaries (2), "
                 "got 1"));
  CHECK(ResolveError(with_rate({{"name", "one_cycle"}, {"max_lr", 0.01}, {"decay_steps", 3}})) ==
        Prefixed("optimizer.learning_rate.decay_steps: unknown key"));
  CHECK(ResolveError({{"early_stopping", json::object()}}) ==
        Prefixed("early_stopping.monitor: 'val_loss' needs a validation set: set "
                 "validation_split > 0, or monitor 'loss' or 'accuracy' (the test set never "
                 "stops or steers a run)"));
  CHECK(ResolveError({{"reduce_lr_on_plateau", {{"monitor", "loss"}, {"factor", 1.0}}}}) ==
        Prefixed("reduce_lr_on_plateau.factor: must be in (0, 1), got 1.0"));
  CHECK(ResolveError({{"reduce_lr_on_plateau", {{"monitor", "loss"}}},
                      {"optimizer", {{"name", "rmsprop"},
                                     {"learning_rate", {{"name", "one_cycle"}, {"max_lr", 0.01}}}}}}) ==
        Prefixed("reduce_lr_on_plateau: needs a constant optimizer.learning_rate: it cannot "
                 "change a schedule (as in Keras)"));
  CHECK(ResolveError({{"early_stopping", {{"monitor", "test_accuracy"}}}}) ==
        Prefixed("early_stopping.monitor: 'test_accuracy' is not one of val_loss, val_accuracy, "
                 "loss, accuracy (did you mean 'val_accuracy'?)"));
}

TEST_CASE("Layers that cannot take their input are named", "[config]") {
  const json softmax = {{"units", 10}, {"activation", "softmax"}};
  const json flatten = {{"type", "flatten"}};
  const auto conv = [](int filters, int kernel) {
    return json{{"type", "conv2d"}, {"filters", filters}, {"kernel_size", kernel}};
  };
  CHECK(ResolveError({{"model", {conv(4, 25), conv(4, 5), flatten, softmax}}}) ==
        Prefixed("model.1.kernel_size: 5x5 kernel does not fit the 4x4 input from model.0 "
                 "(with \"valid\" padding)"));
  CHECK(ResolveError({{"model", {conv(4, 29), flatten, softmax}}}) ==
        Prefixed("model.0.kernel_size: 29x29 kernel does not fit the 28x28 input from the data "
                 "(with \"valid\" padding)"));
  CHECK(ResolveError({{"model", {conv(4, 3), softmax}}}) ==
        Prefixed("model.1: dense needs a vector input, but model.0 outputs 26x26x4; add "
                 "{\"type\": \"flatten\"} before it"));
  CHECK(ResolveError({{"model", {flatten, conv(4, 3), flatten, softmax}}}) ==
        Prefixed("model.1: conv2d needs an image input, but model.0 outputs a vector of 784 "
                 "features"));
  CHECK(ResolveError({{"model", {{{"type", "max_pooling2d"}, {"pool_size", 30}}, flatten,
                                 softmax}}}) ==
        Prefixed("model.0.pool_size: 30x30 window does not fit the 28x28 input from the data "
                 "(with \"valid\" padding)"));
  CHECK(ResolveError({{"model", {conv(4, 3), flatten}}}) ==
        Prefixed("model.1.type: the last layer must be dense (10 units, softmax), got "
                 "'flatten'"));
  CHECK(ResolveError({{"model", {{{"type", "conv2d"}, {"filters", 4}}, flatten, softmax}}}) ==
        Prefixed("model.0.kernel_size: missing (this key is required)"));
  CHECK(ResolveError({{"model", {{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", {3}}},
                                 flatten, softmax}}}) ==
        Prefixed("model.0.kernel_size: expected an integer or [height, width], each between 1 "
                 "and 1024, got [3]"));
  CHECK(ResolveError({{"model", {{{"type", "dropout"}, {"rate", 1.0}}, softmax}}}) ==
        Prefixed("model.0.rate: must be in [0, 1), got 1.0"));
  CHECK(ResolveError({{"model", {{{"type", "conv2d"}, {"units", 4}}, flatten, softmax}}}) ==
        Prefixed("model.0.filters: missing (this key is required)"));
  CHECK(ResolveError({{"model", {{{"type", "flatten"}, {"units", 4}}, softmax}}}) ==
        Prefixed("model.0.units: unknown key"));
  CHECK(ResolveError({{"model", {{{"type", "conv"}}, softmax}}}) ==
        Prefixed("model.0.type: 'conv' is not one of dense, conv2d, max_pooling2d, flatten, "
                 "dropout, activation (did you mean 'conv2d'?)"));
  CHECK(ResolveError({{"model", {{{"type", "activation"}}, softmax}}}) ==
        Prefixed("model.0.activation: missing (this key is required)"));
  CHECK(ResolveError({{"model", {{{"type", "activation"}, {"activation", "softmax"}}, softmax}}}) ==
        Prefixed("model.0.activation: softmax is only allowed on the last layer"));
  CHECK(ResolveError({{"model", {{{"type", "activation"}, {"activation", "relu"},
                                  {"kernel_initializer", "zeros"}},
                                 softmax}}}) ==
        Prefixed("model.0.kernel_initializer: unknown key"));
  CHECK(ResolveError({{"model", {conv(4, 3), {{"type", "activation"}, {"activation", "relu"}},
                                 softmax}}}) ==
        Prefixed("model.2: dense needs a vector input, but model.1 outputs 26x26x4; add "
                 "{\"type\": \"flatten\"} before it"));
  // A dense first layer reads the image flattened, as the baseline does,
  // also behind a dropout or an activation.
  CHECK_NOTHROW(mb::ResolveConfig({{"model", {{{"type", "dropout"}, {"rate", 0.2}}, softmax}}},
                                  kSource));
  CHECK_NOTHROW(mb::ResolveConfig(
      {{"model", {{{"type", "activation"}, {"activation", "tanh"}}, softmax}}}, kSource));
}

TEST_CASE("unknown keys are rejected with a suggestion", "[config]") {
  CHECK(ResolveError({{"epoch", 3}}) == Prefixed("epoch: unknown key (did you mean 'epochs'?)"));
  CHECK(ResolveError({{"data", {{"dri", "x"}}}}) ==
        Prefixed("data.dri: unknown key (did you mean 'dir'?)"));
  CHECK(ResolveError(
            TwoLayers({{"unit", 5}, {"units", 5}}, {{"units", 10}, {"activation", "softmax"}})) ==
        Prefixed("model.0.unit: unknown key (did you mean 'units'?)"));
  CHECK(ResolveError({{"optimizer", {{"learnig_rate", 0.1}}}}) ==
        Prefixed("optimizer.learnig_rate: unknown key (did you mean 'learning_rate'?)"));
  CHECK(ResolveError({{"zzzzzz", 1}}) == Prefixed("zzzzzz: unknown key"));
}

TEST_CASE("values of the wrong type are rejected", "[config]") {
  CHECK(ResolveError({{"epochs", "5"}}) ==
        Prefixed("epochs: expected an integer, got string \"5\""));
  CHECK(ResolveError({{"epochs", 5.0}}) == Prefixed("epochs: expected an integer, got number 5.0"));
  CHECK(ResolveError(TwoLayers({{"units", true}}, {{"units", 10}, {"activation", "softmax"}})) ==
        Prefixed("model.0.units: expected an integer, got boolean true"));
  CHECK(ResolveError({{"shuffle", 1}}) ==
        Prefixed("shuffle: expected a boolean or \"once\", got number 1"));
  CHECK(ResolveError({{"shuffle", "always"}}) ==
        Prefixed("shuffle: expected a boolean or \"once\", got string \"always\""));
  CHECK(ResolveError({{"name", nullptr}}) == Prefixed("name: expected a string, got null"));
  CHECK(ResolveError({{"validation_split", "0.1"}}) ==
        Prefixed("validation_split: expected a number, got string \"0.1\""));
  CHECK(ResolveError({{"data", "data/mnist"}}) ==
        Prefixed("data: expected an object, got string \"data/mnist\""));
  CHECK(ResolveError({{"model", json::object()}}) ==
        Prefixed("model: expected an array, got object"));
  CHECK(ResolveError({{"model", json::array({5})}}) ==
        Prefixed("model.0: expected an object, got number 5"));
  CHECK(ResolveError({{"optimizer", 5}}) ==
        Prefixed("optimizer: expected an object or an optimizer name, got number 5"));
}

TEST_CASE("values out of range are rejected", "[config]") {
  CHECK(ResolveError({{"epochs", 0}}) == Prefixed("epochs: must be between 1 and 100000, got 0"));
  CHECK(ResolveError({{"epochs", -1}}) == Prefixed("epochs: must be between 1 and 100000, got -1"));
  CHECK(ResolveError({{"batch_size", 0}}) ==
        Prefixed("batch_size: must be between 1 and 1048576, got 0"));
  CHECK(ResolveError({{"seed", -1}}) == Prefixed("seed: must be >= 0, got -1"));
  CHECK(ResolveError({{"threads", 1025}}) ==
        Prefixed("threads: must be between 0 and 1024, got 1025"));
  CHECK(ResolveError({{"predict", 10001}}) ==
        Prefixed("predict: must be between 0 and 10000, got 10001"));
  const json output = {{"units", 10}, {"activation", "softmax"}};
  CHECK(ResolveError(TwoLayers({{"units", 0}}, output)) ==
        Prefixed("model.0.units: must be between 1 and 65536, got 0"));
  CHECK(ResolveError(TwoLayers({{"units", 1000000000}}, output)) ==
        Prefixed("model.0.units: must be between 1 and 65536, got 1000000000"));
  CHECK(ResolveError({{"model", json::array()}}) ==
        Prefixed("model: must have at least one layer"));
  CHECK(ResolveError({{"validation_split", 1.0}}) ==
        Prefixed("validation_split: must be in [0, 1), got 1.0"));
  CHECK(ResolveError({{"validation_split", -0.1}}) ==
        Prefixed("validation_split: must be in [0, 1), got -0.1"));
  CHECK(ResolveError({{"optimizer", {{"learning_rate", 0}}}}) ==
        Prefixed("optimizer.learning_rate: must be > 0, got 0"));
  CHECK(ResolveError({{"optimizer", {{"learning_rate", -0.01}}}}) ==
        Prefixed("optimizer.learning_rate: must be > 0, got -0.01"));
  CHECK(ResolveError({{"optimizer", {{"name", "sgd"}, {"momentum", 1.0}}}}) ==
        Prefixed("optimizer.momentum: must be in [0, 1), got 1.0"));
  CHECK(ResolveError({{"optimizer", {{"name", "adamw"}, {"weight_decay", -1}}}}) ==
        Prefixed("optimizer.weight_decay: must be >= 0, got -1"));
  CHECK(ResolveError({{"target_accuracy", 0}}) ==
        Prefixed("target_accuracy: must be in (0, 1], got 0"));
  CHECK(ResolveError({{"target_accuracy", 1.5}}) ==
        Prefixed("target_accuracy: must be in (0, 1], got 1.5"));
  CHECK(ResolveError({{"target_accuracy", "high"}}) ==
        Prefixed("target_accuracy: expected a number, got string \"high\""));
  CHECK(ResolveError({{"target_every_steps", -5}}) ==
        Prefixed("target_every_steps: must be between 0 and 1073741824, got -5"));
  CHECK(ResolveError({{"name", "my run"}}) ==
        Prefixed("name: must be non-empty and use only letters, digits, '.', '_' and '-' "
                 "(it names the run directory), got \"my run\""));
  CHECK_THAT(ResolveError({{"name", ""}}), Catch::StartsWith(Prefixed("name: must be non-empty")));
}

TEST_CASE("target_accuracy is null by default and resolves as a number", "[config]") {
  const mb::Config none = mb::ResolveConfig(json::object(), kSource);
  CHECK_FALSE(none.target_accuracy);
  CHECK(none.resolved["target_accuracy"].is_null());
  const mb::Config some =
      mb::ResolveConfig({{"target_accuracy", 1}, {"target_every_steps", 50},
                         {"validation_split", 0.1}},
                        kSource);
  REQUIRE(some.target_accuracy);
  CHECK(*some.target_accuracy == 1.0);
  CHECK(some.target_every_steps == 50);
  CHECK(some.resolved["target_accuracy"].dump() == "1.0");
  // The target decides when training stops, so it changes the numbers.
  CHECK(some.hash != mb::ResolveConfig({{"validation_split", 0.1}}, kSource).hash);
}

TEST_CASE("max_steps is null by default, left out of the hash, and a step count when set",
          "[config]") {
  const mb::Config none = mb::ResolveConfig(json::object(), kSource);
  CHECK_FALSE(none.max_steps);
  CHECK(none.resolved["max_steps"].is_null());
  const mb::Config some = mb::ResolveConfig({{"max_steps", 188}}, kSource);
  CHECK(some.max_steps == 188u);
  CHECK(some.hash != none.hash);
  CHECK(ResolveError({{"max_steps", 0}}) ==
        Prefixed("max_steps: must be between 1 and 1099511627776, got 0"));
  CHECK(ResolveError({{"max_steps", 0.5}}) ==
        Prefixed("max_steps: expected an integer, got number 0.5"));
}

TEST_CASE("target_accuracy needs a validation set: the test set never stops a run",
          "[config]") {
  CHECK(ResolveError({{"target_accuracy", 0.9}}) ==
        Prefixed("target_accuracy: stops on the validation accuracy and needs a validation set: "
                 "set validation_split > 0 (the test set never stops or steers a run)"));
}

TEST_CASE("unknown enum values are rejected with a suggestion", "[config]") {
  const json output = {{"units", 10}, {"activation", "softmax"}};
  CHECK(ResolveError(TwoLayers({{"units", 5}, {"activation", "rleu"}}, output)) ==
        Prefixed("model.0.activation: 'rleu' is not one of linear, relu, tanh, sigmoid, gelu, "
                 "softmax (did you mean 'relu'?)"));
  CHECK(ResolveError(TwoLayers({{"units", 5}, {"kernel_initializer", "he_norml"}}, output)) ==
        Prefixed("model.0.kernel_initializer: 'he_norml' is not one of glorot_uniform, he_normal, "
                 "zeros, pytorch_default (did you mean 'he_normal'?)"));
  CHECK(ResolveError({{"optimizer", {{"name", "adma"}}}}) ==
        Prefixed("optimizer.name: 'adma' is not one of sgd, rmsprop, adam, adamw, adagrad, "
                 "adadelta, adamax, nadam, lion (did you mean 'adam'?)"));
  CHECK(ResolveError({{"optimizer", "lbfgs"}}) ==
        Prefixed("optimizer.name: 'lbfgs' is not one of sgd, rmsprop, adam, adamw, adagrad, "
                 "adadelta, adamax, nadam, lion"));
  CHECK(ResolveError({{"loss", "mse"}}) ==
        Prefixed("loss: 'mse' is not one of sparse_categorical_crossentropy"));
}

TEST_CASE("softmax must be the last layer's activation, with 10 units", "[config]") {
  CHECK(ResolveError(TwoLayers({{"units", 5}, {"activation", "relu"}}, {{"units", 10}})) ==
        Prefixed("model.1.activation: the last layer must be softmax (the loss needs class "
                 "probabilities), got 'linear'"));
  CHECK(ResolveError(TwoLayers({{"units", 5}}, {{"units", 5}, {"activation", "softmax"}})) ==
        Prefixed("model.1.units: the last layer must have 10 units, one per MNIST class, got 5"));
  CHECK(ResolveError(TwoLayers({{"units", 10}, {"activation", "softmax"}},
                               {{"units", 10}, {"activation", "softmax"}})) ==
        Prefixed("model.0.activation: softmax is only allowed on the last layer"));
  CHECK(ResolveError({{"model", json::array({{{"activation", "softmax"}}})}}) ==
        Prefixed("model.0.units: missing (this key is required)"));
  // A single softmax layer (logistic regression) is a valid model.
  const mb::Config config = mb::ResolveConfig(
      {{"model", json::array({{{"units", 10}, {"activation", "softmax"}}})}}, kSource);
  CHECK(config.model.size() == 1);
}

TEST_CASE("the optimizer may be given by name alone", "[config]") {
  const mb::Config adam = mb::ResolveConfig({{"optimizer", "adam"}}, kSource);
  CHECK(adam.optimizer.kind == mb::OptimizerKind::kAdam);
  CHECK(adam.resolved["optimizer"] ==
        json::parse(R"({"name": "adam", "learning_rate": 0.001, "beta_1": 0.9,
                        "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": false, "weight_decay": 0.0,
                        "clipnorm": null, "clipvalue": null, "global_clipnorm": null})"));
  const mb::Config adamw = mb::ResolveConfig({{"optimizer", "adamw"}}, kSource);
  CHECK(adamw.optimizer.kind == mb::OptimizerKind::kAdamW);
  CHECK(adamw.optimizer.weight_decay == 0.004f);
  const mb::Config sgd =
      mb::ResolveConfig({{"optimizer", {{"name", "sgd"}, {"nesterov", true}}}}, kSource);
  CHECK(sgd.optimizer.kind == mb::OptimizerKind::kSgd);
  CHECK(sgd.optimizer.learning_rate == 0.01f);
  CHECK(sgd.optimizer.nesterov);
  CHECK(
      sgd.resolved["optimizer"] ==
      json::parse(R"({"name": "sgd", "learning_rate": 0.01, "momentum": 0.0, "nesterov": true,
                        "weight_decay": 0.0, "clipnorm": null, "clipvalue": null,
                        "global_clipnorm": null})"));
}

TEST_CASE("adagrad, adadelta, adamax, nadam and lion take Keras 3's parameters and defaults",
          "[config]") {
  const auto resolved = [](const char* name) {
    return mb::ResolveConfig({{"optimizer", name}}, kSource);
  };
  const json shared = {{"weight_decay", 0.0}, {"clipnorm", nullptr}, {"clipvalue", nullptr},
                       {"global_clipnorm", nullptr}};
  const auto with_shared = [&](json own) {
    own.update(shared);
    return own;
  };
  const mb::Config adagrad = resolved("adagrad");
  CHECK(adagrad.optimizer.kind == mb::OptimizerKind::kAdagrad);
  CHECK(adagrad.optimizer.initial_accumulator_value == 0.1f);
  CHECK(adagrad.resolved["optimizer"] ==
        with_shared({{"name", "adagrad"}, {"learning_rate", 0.001},
                     {"initial_accumulator_value", 0.1}, {"epsilon", 1e-7}}));
  const mb::Config adadelta = resolved("adadelta");
  CHECK(adadelta.optimizer.kind == mb::OptimizerKind::kAdadelta);
  CHECK(adadelta.optimizer.rho == 0.95f);
  CHECK(adadelta.resolved["optimizer"] ==
        with_shared({{"name", "adadelta"}, {"learning_rate", 0.001}, {"rho", 0.95},
                     {"epsilon", 1e-7}}));
  for (const char* name : {"adamax", "nadam"}) {
    CAPTURE(name);
    const mb::Config config = resolved(name);
    CHECK(config.resolved["optimizer"] ==
          with_shared({{"name", name}, {"learning_rate", 0.001}, {"beta_1", 0.9},
                       {"beta_2", 0.999}, {"epsilon", 1e-7}}));
  }
  CHECK(resolved("adamax").optimizer.kind == mb::OptimizerKind::kAdamax);
  CHECK(resolved("nadam").optimizer.kind == mb::OptimizerKind::kNadam);
  const mb::Config lion = resolved("lion");
  CHECK(lion.optimizer.kind == mb::OptimizerKind::kLion);
  CHECK(lion.optimizer.learning_rate == 0.001f);
  CHECK(lion.optimizer.beta_2 == 0.99f);
  CHECK(lion.resolved["optimizer"] == with_shared({{"name", "lion"}, {"learning_rate", 0.001},
                                                   {"beta_1", 0.9}, {"beta_2", 0.99}}));
  // Every optimizer takes weight decay, clipping and a schedule.
  const mb::Config decayed = mb::ResolveConfig(
      {{"optimizer", {{"name", "lion"}, {"weight_decay", 0.01}, {"clipnorm", 1.0},
                      {"learning_rate", {{"name", "cosine_decay"},
                                         {"initial_learning_rate", 0.0003},
                                         {"decay_steps", 100}}}}}},
      kSource);
  CHECK(decayed.optimizer.weight_decay == 0.01f);
  CHECK(decayed.optimizer.clipnorm == 1.0f);
  CHECK(decayed.optimizer.schedule.kind == mb::ScheduleKind::kCosineDecay);
  // Keras refuses Lion's beta_1 outside (0, 1]: 0 would make it sign SGD.
  CHECK(ResolveError({{"optimizer", {{"name", "lion"}, {"beta_1", 0}}}}) ==
        Prefixed("optimizer.beta_1: must be in (0, 1], got 0"));
  CHECK(mb::ResolveConfig({{"optimizer", {{"name", "lion"}, {"beta_1", 1}}}}, kSource)
            .optimizer.beta_1 == 1.0f);
  CHECK(ResolveError({{"optimizer", {{"name", "adamax"}, {"beta_1", 1}}}}) ==
        Prefixed("optimizer.beta_1: must be in [0, 1), got 1"));
  CHECK(ResolveError({{"optimizer", {{"name", "adagrad"}, {"initial_accumulator_value", -1}}}}) ==
        Prefixed("optimizer.initial_accumulator_value: must be >= 0, got -1"));
  CHECK(mb::ResolveConfig({{"optimizer", {{"name", "adagrad"}, {"initial_accumulator_value", 0}}}},
                          kSource)
            .optimizer.initial_accumulator_value == 0.0f);
  // Each is its own config: another name, another hash.
  CHECK(resolved("adamax").hash != resolved("nadam").hash);
}

TEST_CASE("another optimizer's parameters are rejected", "[config]") {
  CHECK(ResolveError({{"optimizer", {{"name", "sgd"}, {"rho", 0.9}}}}) ==
        Prefixed("optimizer.rho: not a parameter of sgd (it belongs to rmsprop, adadelta)"));
  CHECK(ResolveError({{"optimizer", {{"name", "sgd"}, {"epsilon", 1e-7}}}}) ==
        Prefixed("optimizer.epsilon: not a parameter of sgd (it belongs to rmsprop, adam, adamw, "
                 "adagrad, adadelta, adamax, nadam)"));
  CHECK(ResolveError({{"optimizer", {{"name", "lion"}, {"epsilon", 1e-7}}}}) ==
        Prefixed("optimizer.epsilon: not a parameter of lion (it belongs to rmsprop, adam, "
                 "adamw, adagrad, adadelta, adamax, nadam)"));
  CHECK(ResolveError({{"optimizer", {{"name", "nadam"}, {"amsgrad", true}}}}) ==
        Prefixed("optimizer.amsgrad: not a parameter of nadam (it belongs to adam, adamw)"));
  CHECK(ResolveError({{"optimizer", {{"name", "adam"}, {"initial_accumulator_value", 0.1}}}}) ==
        Prefixed("optimizer.initial_accumulator_value: not a parameter of adam (it belongs to "
                 "adagrad)"));
  CHECK(ResolveError({{"optimizer", {{"name", "adagrad"}, {"rho", 0.9}}}}) ==
        Prefixed("optimizer.rho: not a parameter of adagrad (it belongs to rmsprop, adadelta)"));
  CHECK(ResolveError({{"optimizer", {{"name", "adadelta"}, {"beta_1", 0.9}}}}) ==
        Prefixed("optimizer.beta_1: not a parameter of adadelta (it belongs to adam, adamw, "
                 "adamax, nadam, lion)"));
  CHECK(ResolveError({{"optimizer", {{"name", "adam"}, {"momentum", 0.9}}}}) ==
        Prefixed("optimizer.momentum: not a parameter of adam (it belongs to sgd, rmsprop)"));
  CHECK(ResolveError({{"optimizer", {{"name", "sgd"}, {"amsgrad", true}}}}) ==
        Prefixed("optimizer.amsgrad: not a parameter of sgd (it belongs to adam, adamw)"));
  // Keras 3 gives every optimizer weight decay and clipping.
  CHECK(mb::ResolveConfig({{"optimizer", {{"name", "adam"}, {"weight_decay", 0.01}}}}, kSource)
            .optimizer.weight_decay == 0.01f);
  CHECK(ResolveError({{"optimizer", {{"name", "sgd"}, {"clipnorm", 1.0}, {"clipvalue", 0.5}}}}) ==
        Prefixed("optimizer.clipnorm: set only one of clipnorm, clipvalue and global_clipnorm "
                 "(Keras applies only one of them)"));
  CHECK(ResolveError({{"optimizer", {{"name", "sgd"}, {"global_clipnorm", 0}}}}) ==
        Prefixed("optimizer.global_clipnorm: must be > 0, got 0"));
  const mb::Config clipped =
      mb::ResolveConfig({{"optimizer", {{"name", "rmsprop"}, {"clipvalue", 0.5}}}}, kSource);
  CHECK(clipped.optimizer.clipvalue == 0.5f);
  CHECK_FALSE(clipped.optimizer.clipnorm);
  CHECK(mb::HashedPart(clipped.resolved)["optimizer"]["clipvalue"] == 0.5);
}

TEST_CASE("malformed JSON is reported with its line and column", "[config]") {
  const TempDir dir;
  const std::string path = dir.Write("bad.json", "{\n  \"epochs\": 5,\n  \"name\": }\n");
  CHECK(LoadError(path) == path +
                               ": invalid JSON at line 3, column 11: syntax error while parsing "
                               "value - unexpected '}'; expected '[', '{', or a literal");
  const std::string trailing_comma = dir.Write("comma.json", "{\"epochs\": 5,\n}");
  CHECK_THAT(LoadError(trailing_comma),
             Catch::StartsWith(trailing_comma + ": invalid JSON at line 2, column 1: "));
  const std::string empty = dir.Write("empty.json", "");
  CHECK_THAT(LoadError(empty), Catch::StartsWith(empty + ": invalid JSON at line 1, column 1: "));
  // A number too large for a double (how a config would spell infinity):
  // nlohmann gives no position, so it is found in the text, past the same
  // digits inside a string.
  const std::string overflow =
      dir.Write("overflow.json", "{\"name\": \"x-1e400\",\n  \"seed\": 1e400}");
  CHECK(LoadError(overflow) ==
        overflow + ": invalid JSON at line 2, column 11: number overflow parsing '1e400'");
  const std::string negative = dir.Write("negative.json", "{\"seed\": -1e400}");
  CHECK(LoadError(negative) ==
        negative + ": invalid JSON at line 1, column 10: number overflow parsing '-1e400'");
  const std::string duplicate = dir.Write("duplicate.json", "{\"epochs\": 5, \"epochs\": 1}");
  CHECK(LoadError(duplicate) == duplicate + ": duplicate key 'epochs'");
}

TEST_CASE("the document must be an object", "[config]") {
  const TempDir dir;
  const std::string path = dir.Write("array.json", "[1, 2]");
  CHECK(LoadError(path) == path + ": the top level must be a JSON object, got array");
  CHECK(ResolveError("epochs") ==
        Prefixed("the top level must be a JSON object, got string \"epochs\""));
}

TEST_CASE("a config that cannot be read is reported", "[config]") {
  const TempDir dir;
  const std::string missing = dir.File("missing.json");
  CHECK(LoadError(missing) == missing + ": cannot read config (No such file or directory)");
  CHECK(LoadError(dir.File("")) == dir.File("") + ": cannot read config (Is a directory)");
}

TEST_CASE("data files must exist and be files", "[config]") {
  const TempDir dir;
  CHECK(ResolveError({{"data", {{"train_images", "data/foo.gz"}}}}) ==
        Prefixed("data.train_images: no such file 'data/foo.gz'"));
  CHECK(ResolveError({{"data", {{"test_labels", dir.File("")}}}}) ==
        Prefixed("data.test_labels: '" + dir.File("") + "' is a directory, not a file"));
  CHECK(ResolveError({{"data", {{"dir", dir.File("")}}}}) ==
        Prefixed("data.train_images: no such file '" + dir.File("train-images-idx3-ubyte") + "'"));
  CHECK(ResolveError({{"init_from", dir.File("model.safetensors")}}) ==
        Prefixed("init_from: no such file '" + dir.File("model.safetensors") + "'"));

  // Uncompressed files in dir are found when there is no .gz, and an
  // explicit path wins over dir.
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    dir.Write(name, "");
  }
  const std::string weights = dir.Write("model.safetensors", "");
  const mb::Config config = mb::ResolveConfig(
      {{"data", {{"dir", dir.File("")}, {"test_images", "data/mnist/t10k-images-idx3-ubyte.gz"}}},
       {"init_from", weights}},
      kSource);
  CHECK(config.data.train_images == dir.File("train-images-idx3-ubyte"));
  CHECK(config.data.test_images == "data/mnist/t10k-images-idx3-ubyte.gz");
  CHECK(config.resolved["data"]["test_labels"] == dir.File("t10k-labels-idx1-ubyte"));
  CHECK(config.init_from == weights);
  CHECK(config.resolved["init_from"] == weights);
}

TEST_CASE("--set overrides parse their value as JSON, else as a string", "[config]") {
  const json base = json::parse(R"({"model": [{"units": 512, "activation": "relu"},
                                              {"units": 10, "activation": "softmax"}]})");
  const json document =
      Overridden(base, {"epochs=2", "optimizer.learning_rate=0.01", "name=foo", "shuffle=false",
                        "model.0.units=256", "init_from=null", "data.dir=\"123\""});
  CHECK(document["epochs"] == 2);
  CHECK(document["epochs"].is_number_integer());
  CHECK(document["optimizer"]["learning_rate"] == 0.01);
  CHECK(document["name"] == "foo");
  CHECK(document["shuffle"] == false);
  CHECK(document["model"][0]["units"] == 256);
  CHECK(document["init_from"].is_null());
  CHECK(document["data"]["dir"] == "123");
  CHECK(Overridden(base, {"model.1={\"units\": 10}"})["model"][1] == json{{"units", 10}});
  CHECK(Overridden(base, {"epochs=2", "epochs=3"})["epochs"] == 3);  // in order
  CHECK(Overridden(base, {"name="})["name"] == "");
  // The string shorthand is expanded so that its parameters can be set.
  CHECK(Overridden({{"optimizer", "adam"}}, {"optimizer.learning_rate=0.01"})["optimizer"] ==
        json{{"name", "adam"}, {"learning_rate", 0.01}});
}

TEST_CASE("malformed --set overrides are rejected", "[config]") {
  const json base = json::parse(R"({"epochs": 5, "model": [{"units": 512}, {"units": 10}]})");
  CHECK(OverrideError(base, "xyz") == "--set 'xyz': expected key.path=value");
  CHECK(OverrideError(base, "=3") == "--set '=3': expected key.path=value");
  CHECK(OverrideError(base, "a..b=1") == "--set 'a..b=1': expected key.path=value");
  CHECK(OverrideError(base, "model.5.units=3") == "--set model.5.units=3: model has 2 layers");
  CHECK(OverrideError(base, "model.99999999999=3") ==
        "--set model.99999999999=3: model has 2 layers");
  CHECK(OverrideError(base, "model.first.units=3") ==
        "--set model.first.units=3: model is a list, expected an index instead of 'first'");
  CHECK(OverrideError(base, "epochs.x=1") == "--set epochs.x=1: epochs is number 5, not an object");
}

TEST_CASE("overrides are validated like the file", "[config]") {
  const TempDir dir;
  const std::string path = dir.Write("x.json", R"({"epochs": 5})");
  CHECK(mb::LoadConfig(path, {"epochs=2", "optimizer.learning_rate=0.01"}).epochs == 2);
  CHECK(LoadError(path, {"optimizer.learnig_rate=0.1"}) ==
        path + ": optimizer.learnig_rate: unknown key (did you mean 'learning_rate'?)");
  CHECK(LoadError(path, {"epochs=nan"}) ==
        path + ": epochs: expected an integer, got string \"nan\"");
  CHECK(LoadError(path, {"validation_split=inf"}) ==
        path + ": validation_split: expected a number, got string \"inf\"");
  CHECK(LoadError("configs/tiny.json", {"model.1.units=3"}) ==
        "configs/tiny.json: model.1.units: the last layer must have 10 units, one per MNIST "
        "class, got 3");
  // A path through a missing key creates objects, which validation rejects.
  CHECK(LoadError(path, {"model.0.units=3"}) == path + ": model: expected an array, got object");
}

TEST_CASE("HashedPart ignores exactly the keys that cannot change the numbers", "[config]") {
  const json resolved = mb::ResolveConfig(json::object(), kSource).resolved;
  const json relabelled = mb::ResolveConfig({{"name", "other"}, {"threads", 2},
                                             {"predict", 3}, {"save_model", true},
                                             {"data", {{"verify_checksums", false}}},
                                             {"kernels", {{"target", "AVX2"}}}},
                                            kSource).resolved;
  CHECK(mb::HashedPart(resolved).dump() == mb::HashedPart(relabelled).dump());
  for (const json& changed : {json{{"seed", 2}}, json{{"epochs", 3}}, json{{"batch_size", 64}},
                              json{{"optimizer", "adam"}}, json{{"shuffle", false}},
                              json{{"shuffle", "once"}}}) {
    INFO(changed.dump());
    CHECK(mb::HashedPart(resolved).dump() !=
          mb::HashedPart(mb::ResolveConfig(changed, kSource).resolved).dump());
  }
  // name, threads, predict, save_model, kernels; and the unset callbacks and
  // max_steps.
  CHECK(mb::HashedPart(resolved).size() == resolved.size() - 8);
  CHECK_FALSE(mb::HashedPart(resolved)["data"].contains("verify_checksums"));
  CHECK_FALSE(mb::HashedPart(resolved)["data"].contains("normalize"));
}

// ---------------------------------------------------------------------------
// Regressions found by fuzzing (tests/fuzz/fuzz_config.cc). Each input is
// replayed as that target reads it: the config text, then --set overrides,
// each after a NUL byte.

namespace {

using namespace std::string_literals;

// A string of `levels` nested arrays: "[[[...]]]".
std::string NestedArrays(size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

// The InputError message for a fuzz_config input; anything else thrown fails
// the test.
std::string FuzzInputError(const std::string& input) {
  const TempDir dir;
  size_t end = input.find('\0');
  const std::string path = dir.Write("fuzz.json", input.substr(0, end));
  std::vector<std::string> overrides;
  while (end != std::string::npos) {
    const size_t start = end + 1;
    end = input.find('\0', start);
    overrides.push_back(input.substr(start, end == std::string::npos ? end : end - start));
  }
  const std::string message = LoadError(path, overrides);
  CHECK(message.find('\n') == std::string::npos);
  // The temporary path varies; the rest of the message does not.
  return message.rfind(path, 0) == 0 ? "CONFIG" + message.substr(path.size()) : message;
}

}  // namespace

TEST_CASE("fuzz: control characters from the user keep messages on one line", "[config]") {
  // An override without '=' is echoed in the message, newlines and all.
  CHECK(FuzzInputError("{}\0\"sg\": \"tiny\",\n  \"mode\"shuffle\"x\"}\n  ],\n  \"epochs\": 1,\n  "
                       "\"d\"5.l*.5.\xad"
                       "3"s) ==
        "--set '\"sg\": \"tiny\",\\x0a  \"mode\"shuffle\"x\"}\\x0a  ],\\x0a  \"epochs\": 1,\\x0a  "
        "\"d\"5.l*.5.\xad"
        "3': expected key.path=value");
  // Keys and paths from the file, too.
  CHECK(FuzzInputError("{\"a\\nb\": 1}") == "CONFIG: a\\x0ab: unknown key");
  CHECK(FuzzInputError("{\"data\": {\"train_images\": \"x\\ty\"}}") ==
        "CONFIG: data.train_images: no such file 'x\\x09y'");
}

TEST_CASE("fuzz: an override that is not UTF-8 is an input error", "[config]") {
  // It used to become a JSON string that nlohmann::json cannot dump, so the
  // message (or the config hash) threw json::type_error: "internal error".
  const std::string input =
      "{\n  \"name\": \"tiny\",\n  \"model\": [\n    {\"units\": 64, \"activation\": \"relu\"},\n"
      "    {\"units\": 10, \"activation\": \"softmax\"}\n  ],\n  \"epochs\": 1,\n  \"predict\": "
      "3\n}\n\0optimizer=adam\0model.0.units=3  \"name\": \"tiny\",\n  \"model\"\xfb:2\0"
      "ddta.verify_checksums=fal-se"s;
  CHECK(FuzzInputError(input) ==
        "--set model.0.units=3  \"name\": \"tiny\",\\x0a  \"model\"\xfb:2: not UTF-8 (invalid "
        "UTF-8 byte at index 42: 0xFB)");
  CHECK(FuzzInputError("{}\0data.dir=\xff"s) ==
        "--set data.dir=\xff: not UTF-8 (invalid UTF-8 byte at index 9: 0xFF)");
  CHECK(FuzzInputError("{}\0seed=\xc3"s) ==
        "--set seed=\xc3: not UTF-8 (incomplete UTF-8 string; last byte: 0xC3)");
  // UTF-8 beyond ASCII is fine.
  CHECK(FuzzInputError("{}\0data.dir=d\xc3\xa4t\xc3\xa4"s) ==
        "CONFIG: data.train_images: no such file 'd\xc3\xa4t\xc3\xa4/train-images-idx3-ubyte'");
}

TEST_CASE("fuzz: optimizer parameters must be in range as float32", "[config]") {
  // Each was accepted as a double and then rounded out of its range: Adam's
  // bias correction divided by 1 - 1 = 0, and RMSprop divided by sqrt(v + 0).
  const std::string suffix = " as a float32 too (the optimizers compute in float32), got ";
  CHECK(FuzzInputError(R"({"optimizer": {"name": "adam", "beta_1": 0.99999999999}})") ==
        "CONFIG: optimizer.beta_1: must be in [0, 1)" + suffix +
            "0.99999999999, which is 1 as a float32");
  CHECK(FuzzInputError(R"({"optimizer": {"name": "rmsprop", "epsilon": 1e-50}})") ==
        "CONFIG: optimizer.epsilon: must be > 0" + suffix + "1e-50, which is 0 as a float32");
  CHECK(FuzzInputError(R"({"optimizer": {"name": "rmsprop", "epsilon": 1e-40}})") ==
        "CONFIG: optimizer.epsilon: must be > 0" + suffix +
            "1e-40, which is below the smallest normal float32, 1.17549e-38, and would be "
            "flushed to 0");
  CHECK(FuzzInputError(R"({"optimizer": {"name": "sgd", "learning_rate": 1e39}})") ==
        "CONFIG: optimizer.learning_rate: must be > 0" + suffix +
            "1e+39, which is too large for a float32");
  CHECK(FuzzInputError(R"({"optimizer": {"name": "adamw", "weight_decay": 1e-40}})") ==
        "CONFIG: optimizer.weight_decay: must be >= 0" + suffix +
            "1e-40, which is below the smallest normal float32, 1.17549e-38, and would be "
            "flushed to 0");
  // Normal float32 values near the limits are accepted.
  const mb::Config config = mb::ResolveConfig(
      {{"optimizer",
        {{"name", "adam"}, {"beta_1", 0.9999999}, {"epsilon", 1e-37}, {"learning_rate", 3e38}}}},
      kSource);
  CHECK(config.optimizer.beta_1 < 1.0f);
  CHECK(config.optimizer.epsilon > 0.0f);
  CHECK(config.optimizer.learning_rate == 3e38f);
  CHECK(mb::ResolveConfig({{"optimizer", {{"name", "sgd"}, {"momentum", 0}}}}, kSource)
            .optimizer.momentum == 0.0f);
}

TEST_CASE("fuzz: deeply nested values are rejected, not a stack overflow", "[config]") {
  // Copying a JSON value recurses once per level: 200000 levels overflowed
  // the stack, from the file and from a --set value.
  const std::string deep = NestedArrays(200000);
  const std::string message = "nests arrays or objects more than 32 levels deep";
  CHECK(FuzzInputError(R"({"optimizer": {"name": "sgd", "x": )" + deep + "}}") ==
        "CONFIG: optimizer: " + message);
  CHECK(FuzzInputError("{\"model\": [" + deep + "]}") == "CONFIG: model: " + message);
  CHECK(FuzzInputError("{}\0model="s + deep) == "CONFIG: model: " + message);
  // 32 levels are allowed (and then x is just an unknown key).
  CHECK(FuzzInputError("{\"x\": " + NestedArrays(32) + "}") == "CONFIG: x: unknown key");
  CHECK(FuzzInputError("{\"x\": " + NestedArrays(33) + "}") == "CONFIG: x: " + message);
}
