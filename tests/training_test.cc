// End-to-end training on a slice of the real MNIST: the model must learn,
// and the same config and seed must give bitwise identical results, at any
// thread count, and with the same safetensors round trip as init_from.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "common/error.h"
#include "config/config.h"
#include "data/dataset.h"
#include "nn/checkpoint.h"
#include "nn/init.h"
#include "nn/softmax_cross_entropy.h"
#include "optim/learning_rate_schedule.h"
#include "optim/optimizer.h"
#include "report/safetensors.h"
#include "train/threads.h"
#include "train/trainer.h"

namespace mb {
namespace {

constexpr size_t kTrainSlice = 3000, kTestSlice = 1000;

// The real MNIST, loaded once, with its views cut down to small slices.
Dataset& SmallMnist() {
  static Dataset data = [] {
    Dataset d = LoadDataset(ResolveConfig(nlohmann::json::object(), "test").data, 0.0);
    d.train.count = kTrainSlice;
    d.test.count = kTestSlice;
    return d;
  }();
  return data;
}

// The same, with the next 1000 training images as its validation set, for
// what watches one (a target_accuracy).
Dataset& SmallMnistWithValidation() {
  static Dataset data = [] {
    Dataset d = LoadDataset(ResolveConfig(nlohmann::json::object(), "test").data, 0.0);
    d.validation = d.train;
    d.validation.images += kTrainSlice * d.features;
    d.validation.labels += kTrainSlice;
    d.validation.count = 1000;
    d.train.count = kTrainSlice;
    d.test.count = kTestSlice;
    return d;
  }();
  return data;
}

Config SmallConfig(nlohmann::json overrides = nlohmann::json::object()) {
  nlohmann::json doc = {{"model", {{{"units", 64}, {"activation", "relu"}},
                                   {{"units", 10}, {"activation", "softmax"}}}},
                        {"epochs", 2},
                        {"batch_size", 32},
                        {"seed", 5}};
  doc.merge_patch(overrides);
  return ResolveConfig(doc, "test");
}

// A small convnet with every layer type, on the same slice.
Config SmallConvnetConfig(double dropout = 0.25) {
  return SmallConfig({{"model",
                       {{{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 3},
                         {"activation", "relu"}},
                        {{"type", "max_pooling2d"}},
                        {{"type", "conv2d"}, {"filters", 8}, {"kernel_size", {3, 2}},
                         {"strides", 2}, {"padding", "same"}, {"activation", "tanh"}},
                        {{"type", "flatten"}},
                        {{"type", "dropout"}, {"rate", dropout}},
                        {{"units", 10}, {"activation", "softmax"}}}}});
}

// The speedrun's recipe (configs/speedrun_reference.json), small: pooling
// before activation layers, PyTorch's initialisation, normalised inputs,
// Adam with a one-cycle schedule, shuffled once.
Config SmallSpeedrunConfig() {
  const nlohmann::json init = {{"kernel_initializer", "pytorch_default"},
                               {"bias_initializer", "pytorch_default"}};
  nlohmann::json model = {{{"type", "conv2d"}, {"filters", 6}, {"kernel_size", 5}},
                          {{"type", "max_pooling2d"}},
                          {{"type", "activation"}, {"activation", "relu"}},
                          {{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 3}},
                          {{"type", "max_pooling2d"}},
                          {{"type", "activation"}, {"activation", "relu"}},
                          {{"type", "flatten"}},
                          {{"units", 32}, {"activation", "relu"}},
                          {{"units", 10}, {"activation", "softmax"}}};
  for (size_t layer : {0, 3, 7, 8}) model[layer].update(init);
  return SmallConfig(
      {{"model", model},
       {"data", {{"normalize", {{"mean", 0.1307}, {"std", 0.3081}}}}},
       {"optimizer", {{"name", "adam"}, {"beta_1", 0.7}, {"beta_2", 0.9}, {"epsilon", 1e-8},
                      {"learning_rate", {{"name", "one_cycle"}, {"max_lr", 0.01}}}}},
       {"shuffle", "once"}});
}

struct Outcome {
  std::vector<double> losses;
  double test_accuracy = 0;
  Model model;
};

Outcome Train(const Config& config, int threads, const Model* init = nullptr) {
  ConfigureThreads(threads);
  Dataset& data = SmallMnist();
  data.pixel_values = PixelValues(config.data.normalize);  // as LoadDataset records it
  Outcome outcome;
  outcome.model = BuildModel(data.image_shape(), config.model);
  if (init) {
    outcome.model = *init;
  } else {
    InitializeModel(outcome.model, config.seed);
  }
  Trainer trainer(config, data, outcome.model);
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    EpochProgress progress(epoch, config.epochs, trainer.steps_per_epoch(), false);
    outcome.losses.push_back(trainer.RunEpoch(epoch, progress)->loss);
  }
  outcome.test_accuracy = trainer.Evaluate(data.test).accuracy;
  data.pixel_values = PixelScale();
  return outcome;
}

bool SameWeights(const Model& a, const Model& b) {
  std::vector<const AlignedVector<float>*> values;
  ForEachParameter(a, [&](const Parameter& p) { values.push_back(&p.value); });
  size_t i = 0;
  bool same = true;
  ForEachParameter(b, [&](const Parameter& p) {
    same = same && i < values.size() && *values[i++] == p.value;
  });
  return same && i == values.size();
}

DenseLayer& DenseAt(Model& model, size_t l) { return std::get<DenseLayer>(model.layers[l]); }

TEST_CASE("A small MLP learns MNIST far above chance", "[train]") {
  const Outcome outcome = Train(SmallConfig(), 2);
  CHECK(outcome.losses[1] < outcome.losses[0]);
  CHECK(outcome.test_accuracy > 0.85);
}

TEST_CASE("Every optimizer learns", "[train]") {
  const char* name = GENERATE("sgd", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax",
                              "nadam", "lion");
  INFO(name);
  nlohmann::json optimizer = {{"name", name}};
  // Keras' defaults are slow starters for these three in two short epochs:
  // Adadelta's paper uses 1.0.
  if (std::string(name) == "sgd") optimizer["learning_rate"] = 0.1;
  if (std::string(name) == "adagrad") optimizer["learning_rate"] = 0.05;
  if (std::string(name) == "adadelta") optimizer["learning_rate"] = 1.0;
  const Outcome outcome = Train(SmallConfig({{"optimizer", optimizer}}), 2);
  CHECK(outcome.test_accuracy > 0.8);
}

TEST_CASE("Same config and seed: bitwise identical losses and weights", "[train]") {
  const Config config = SmallConfig();
  const Outcome first = Train(config, 2);
  const Outcome second = Train(config, 2);
  CHECK(first.losses == second.losses);
  CHECK(SameWeights(first.model, second.model));
  SECTION("a different seed gives different numbers") {
    const Outcome other = Train(SmallConfig({{"seed", 6}}), 2);
    CHECK(other.losses != first.losses);
  }
}

// Thread 1 builds the next batch during the step only with two threads and
// small upper layers; the test above shows the results are the same.
TEST_CASE("The next batch is built during the step when the upper layers are small",
          "[train]") {
  const Dataset& data = SmallMnist();
  auto overlapped = [&](const Config& config, int threads) {
    ConfigureThreads(threads);
    Model model = BuildModel(data.image_shape(), config.model);
    return Trainer(config, data, model).Description()["next_batch_built_during_step"];
  };
  CHECK(overlapped(SmallConfig(), 2) == true);
  CHECK(overlapped(SmallConfig(), 1) == false);
  // 32 x (64 x 4096 + 4096 x 10) multiply-adds above the first layer.
  const Config wide = SmallConfig({{"model", {{{"units", 64}, {"activation", "relu"}},
                                              {{"units", 4096}, {"activation", "relu"}},
                                              {{"units", 10}, {"activation", "softmax"}}}}});
  CHECK(overlapped(wide, 2) == false);
  ConfigureThreads(0);
}

TEST_CASE("Results do not depend on the thread count", "[train]") {
  const int model = GENERATE(0, 1, 2);
  INFO((model == 0 ? "dense" : model == 1 ? "convnet" : "speedrun"));
  Config config = model == 0 ? SmallConfig() : model == 1 ? SmallConvnetConfig()
                                                          : SmallSpeedrunConfig();
  config.epochs = 1;
  const Outcome one = Train(config, 1);
  const Outcome two = Train(config, 2);
  const Outcome four = Train(config, 4);
  CHECK(one.losses == two.losses);
  CHECK(one.losses == four.losses);
  CHECK(SameWeights(one.model, two.model));
  CHECK(SameWeights(one.model, four.model));
  ConfigureThreads(0);
}

TEST_CASE("shuffle \"once\" trains every epoch in epoch 1's order", "[train]") {
  // Each step's batch loss, epoch by epoch, at a rate too small to move a
  // weight: the loss then names the batch's samples.
  const auto batch_losses = [](const char* shuffle) {
    ConfigureThreads(2);
    const Config config = SmallConfig(
        {{"epochs", 3}, {"shuffle", nlohmann::json::parse(shuffle)},
         {"optimizer", {{"name", "sgd"}, {"learning_rate", 1e-30}}}});
    const Dataset& data = SmallMnist();
    Model model = BuildModel(data.image_shape(), config.model);
    InitializeModel(model, config.seed);
    Trainer trainer(config, data, model);
    std::vector<std::vector<double>> epochs(config.epochs);
    for (int epoch = 1; epoch <= config.epochs; ++epoch) {
      trainer.set_step_observer([&](size_t, const BatchLoss& loss, size_t) {
        epochs[epoch - 1].push_back(loss.loss_sum);
        return true;
      });
      EpochProgress progress(epoch, config.epochs, trainer.steps_per_epoch(), false);
      REQUIRE(trainer.RunEpoch(epoch, progress));
    }
    ConfigureThreads(0);
    return epochs;
  };
  const auto once = batch_losses(R"("once")");
  const auto every = batch_losses("true");
  const auto never = batch_losses("false");
  CHECK(once[0] == every[0]);  // epoch 1's shuffle
  CHECK(once[1] == once[0]);
  CHECK(once[2] == once[0]);
  CHECK(every[1] != every[0]);  // the rate really does not move the weights:
  CHECK(never[1] == never[0]);  // the same batches give the same losses
  CHECK(never[0] != once[0]);
}

TEST_CASE("data.normalize: the first layer reads (x / 255 - mean) / std", "[train]") {
  ConfigureThreads(2);
  Dataset& data = SmallMnist();
  const Config config = SmallConfig(
      {{"epochs", 1}, {"data", {{"normalize", {{"mean", 0.1307}, {"std", 0.3081}}}}}});
  data.pixel_values = PixelValues(config.data.normalize);
  Model model = BuildModel(data.image_shape(), config.model);
  InitializeModel(model, config.seed);
  Trainer trainer(config, data, model);
  // No pixel is 0 once normalised: the dense kernels, not the sparse ones.
  CHECK(trainer.Description()["first_layer_kernel"] == "dense");
  CHECK(trainer.Description()["input_density"] == 1.0);
  EpochProgress progress(1, 1, trainer.steps_per_epoch(), false);
  REQUIRE(trainer.RunEpoch(1, progress));
  const Evaluation evaluation = trainer.Evaluate(data.test);
  CHECK(evaluation.accuracy > 0.75);  // one epoch on 3000 images: measured 0.821
  // The test images normalised by hand, through the trained model: the
  // same bits as the trainer's evaluation (one batch of kTestSlice).
  REQUIRE(EvalBatchSize(model) == kTestSlice);
  ModelWorkspace ws = BuildWorkspace(model, kTestSlice, false, false);
  for (size_t i = 0; i < kTestSlice * data.features; ++i) {
    ws.input[i] = (static_cast<float>(data.test.images[i]) / 255.0f - 0.1307f) / 0.3081f;
  }
  ModelForward(model, kTestSlice, ws);
  const BatchLoss by_hand =
      SoftmaxCrossEntropy(ws.logits(), data.test.labels, kTestSlice, 10, 0.0f, nullptr);
  CHECK(by_hand.loss_sum / kTestSlice == evaluation.loss);
  CHECK(by_hand.correct == evaluation.correct);

  // A normalisation that keeps zeros zero still needs the dense kernels,
  // which read the normalised values (the sparse ones compute x / 255).
  const Config halved =
      SmallConfig({{"data", {{"normalize", {{"mean", 0.0}, {"std", 2.0}}}}}});
  data.pixel_values = PixelValues(halved.data.normalize);
  Model other = BuildModel(data.image_shape(), halved.model);
  const nlohmann::json description = Trainer(halved, data, other).Description();
  CHECK(description["first_layer_kernel"] == "dense");
  CHECK(description["input_density"] < 0.5);
  data.pixel_values = PixelScale();
  CHECK(Trainer(SmallConfig(), data, other).Description()["first_layer_kernel"] == "sparse");
  ConfigureThreads(0);
}

TEST_CASE("The speedrun's recipe, small, learns", "[train]") {
  const Outcome outcome = Train(SmallSpeedrunConfig(), 2);
  // Two epochs on 3000 images (measured 0.943).
  CHECK(outcome.test_accuracy > 0.9);
  ConfigureThreads(0);
}

TEST_CASE("A model saved to safetensors continues training identically", "[train]") {
  const bool convnet = GENERATE(false, true);
  INFO((convnet ? "convnet" : "dense"));
  Config config = convnet ? SmallConvnetConfig() : SmallConfig();
  config.epochs = 1;
  const Dataset& data = SmallMnist();
  Model initial = BuildModel(data.image_shape(), config.model);
  InitializeModel(initial, config.seed);
  const auto path = std::filesystem::temp_directory_path() / "mnistbench_training_test.safetensors";
  WriteSafetensors(path.string(), ModelToTensors(initial));
  Model loaded = BuildModel(data.image_shape(), config.model);
  LoadModelFromSafetensors(SafetensorsFile(path.string()), loaded);
  std::filesystem::remove(path);
  CHECK(SameWeights(initial, loaded));
  CHECK(Train(config, 2, &initial).losses == Train(config, 2, &loaded).losses);
}

// [whole-run]: left out of the sanitized build (tests/meson.build).
TEST_CASE("The book's convnet gives the same bits at 1, 2 and 4 threads", "[train][whole-run]") {
  // Ten steps of configs/convnet.json on its full shapes (the small convnet
  // above covers every layer type at other shapes).
  Config config = LoadConfig("configs/convnet.json", {});
  config.epochs = 1;
  Dataset& data = SmallMnist();
  const size_t saved = data.train.count;
  data.train.count = 640;
  std::vector<Outcome> outcomes;
  for (int threads : {1, 2, 4}) outcomes.push_back(Train(config, threads));
  data.train.count = saved;
  CHECK(outcomes[0].losses == outcomes[1].losses);
  CHECK(outcomes[0].losses == outcomes[2].losses);
  CHECK(SameWeights(outcomes[0].model, outcomes[1].model));
  CHECK(SameWeights(outcomes[0].model, outcomes[2].model));
  ConfigureThreads(0);
}

TEST_CASE("A convnet learns, and dropout acts in training only", "[train]") {
  const Outcome with_dropout = Train(SmallConvnetConfig(0.25), 2);
  const Outcome without = Train(SmallConvnetConfig(0.0), 2);
  // Two epochs on 3000 images (chance is 0.1; measured 0.775 and 0.792).
  CHECK(with_dropout.test_accuracy > 0.7);
  CHECK(without.test_accuracy > 0.7);
  CHECK(with_dropout.losses != without.losses);
  // Evaluation passes through the dropout layer: the trained model scores
  // the same, and the same each time, as the same weights without it.
  const Dataset& data = SmallMnist();
  const Config no_dropout = SmallConvnetConfig(0.0);
  Model copy = with_dropout.model;
  Trainer a(SmallConvnetConfig(0.25), data, copy);
  Model same = with_dropout.model;
  Trainer b(no_dropout, data, same);
  const Evaluation first = a.Evaluate(data.test);
  CHECK(first.accuracy == with_dropout.test_accuracy);
  CHECK(a.Evaluate(data.test).loss == first.loss);
  CHECK(b.Evaluate(data.test).loss == first.loss);
  ConfigureThreads(0);
}

TEST_CASE("A schedule sets every step's rate and each epoch records Keras' value", "[train]") {
  ConfigureThreads(2);
  const Dataset& data = SmallMnist();
  // 94 steps per epoch on the 3000-image slice.
  const Config cosine = SmallConfig(
      {{"optimizer", {{"name", "rmsprop"},
                      {"learning_rate", {{"name", "cosine_decay"},
                                         {"initial_learning_rate", 0.002},
                                         {"decay_steps", 100}}}}}});
  Model model = BuildModel(data.image_shape(), cosine.model);
  InitializeModel(model, cosine.seed);
  Trainer trainer(cosine, data, model);
  REQUIRE(trainer.steps_per_epoch() == 94);
  EpochProgress progress(1, 2, trainer.steps_per_epoch(), false);
  const auto first = trainer.RunEpoch(1, progress);
  REQUIRE(first);
  // Keras' CosineDecay at optimizer.iterations = 94: 0.002 (1 + cos(0.94 pi)) / 2.
  CHECK(first->learning_rate == Approx(0.002 * 0.5 * (1 + std::cos(0.94 * M_PI))).epsilon(1e-6));
  CHECK(first->learning_rate == static_cast<float>(first->learning_rate));
  const auto second = trainer.RunEpoch(2, progress);
  REQUIRE(second);
  CHECK(second->learning_rate == 0.0);  // past decay_steps

  // The schedule reaches the updates: a rate that does not decay
  // (exponential, rate 1) trains exactly as the constant rate, and a
  // decaying one does not.
  const auto run = [](const nlohmann::json& rate) {
    return Train(SmallConfig({{"epochs", 1}, {"optimizer", {{"name", "rmsprop"},
                                                            {"learning_rate", rate}}}}),
                 2)
        .losses;
  };
  const nlohmann::json flat = {{"name", "exponential_decay"}, {"initial_learning_rate", 0.001},
                               {"decay_steps", 10}, {"decay_rate", 1.0}};
  const nlohmann::json decaying = {{"name", "exponential_decay"}, {"initial_learning_rate", 0.001},
                                   {"decay_steps", 10}, {"decay_rate", 0.5}};
  CHECK(run(flat) == run(0.001));
  CHECK(run(decaying) != run(0.001));
  ConfigureThreads(0);
}

// A fraction of an epoch: the steps stop at max_steps, the epoch after the
// cut has none, and a schedule over the run ends where the run does.
TEST_CASE("max_steps ends the run part-way through an epoch", "[train]") {
  ConfigureThreads(2);
  const Dataset& data = SmallMnist();
  const Config config = SmallConfig(
      {{"epochs", 3},
       {"max_steps", 150},
       {"optimizer", {{"name", "adam"}, {"learning_rate", {{"name", "one_cycle"}, {"max_lr", 0.01}}}}}});
  Model model = BuildModel(data.image_shape(), config.model);
  InitializeModel(model, config.seed);
  Trainer trainer(config, data, model);
  REQUIRE(trainer.steps_per_epoch() == 94);
  CHECK(trainer.run_steps() == 150);
  CHECK(trainer.steps_in_epoch(1) == 94);
  CHECK(trainer.steps_in_epoch(2) == 56);
  CHECK(trainer.steps_in_epoch(3) == 0);
  EpochProgress progress(1, 3, 94, false);
  REQUIRE(trainer.RunEpoch(1, progress));
  const auto second = trainer.RunEpoch(2, progress);
  REQUIRE(second);
  CHECK(second->steps == 56);
  CHECK(trainer.steps_taken() == 150);
  // OneCycleLR spans the 150 steps, not the 282 of three epochs: its last
  // step (149) runs at max_lr / div_factor / final_div_factor.
  const LearningRateSchedule& schedule = config.optimizer.schedule;
  CHECK(LearningRateAt(schedule, 149, 150) == Approx(0.01 / 25 / 1e4).epsilon(1e-6));
  CHECK(second->learning_rate == static_cast<float>(LearningRateAt(schedule, 150, 150)));
  CHECK(second->learning_rate != static_cast<float>(LearningRateAt(schedule, 150, 282)));
  // More steps than the epochs hold: the epochs decide.
  const Config more = SmallConfig({{"epochs", 1}, {"max_steps", 1000}});
  Model other = BuildModel(data.image_shape(), more.model);
  CHECK(Trainer(more, data, other).run_steps() == 94);
  ConfigureThreads(0);
}

TEST_CASE("Conv kernels are stored as Keras stores them", "[train]") {
  const Config config = SmallConvnetConfig();
  Model model = BuildModel(FeatureShape::Image(28, 28, 1), config.model);
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensors;
  ForEachParameter(model, [&](const Parameter& p) { tensors.emplace_back(p.name, p.shape); });
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"layers.0.kernel", {3, 3, 1, 8}}, {"layers.0.bias", {8}},
      {"layers.2.kernel", {3, 2, 8, 8}}, {"layers.2.bias", {8}},
      // 13x13x8 pooled, then 7x7x8 with stride 2 and "same" padding.
      {"layers.5.kernel", {7 * 7 * 8, 10}}, {"layers.5.bias", {10}}};
  CHECK(tensors == expected);
  CHECK(model.ParameterCount() == 3 * 3 * 8 + 8 + 3 * 2 * 8 * 8 + 8 + 392 * 10 + 10);
}

TEST_CASE("Weights that are NaN or infinite are refused, naming the tensor", "[train]") {
  const Config config = SmallConfig();
  Model model = BuildModel(FeatureShape::Image(28, 28, 1), config.model);
  InitializeModel(model, config.seed);
  for (const float bad : {std::nanf(""), -INFINITY}) {
    TensorMap tensors = ModelToTensors(model);
    tensors["layers.1.kernel"].data[7] = bad;
    Model loaded = BuildModel(FeatureShape::Image(28, 28, 1), config.model);
    CHECK_THROWS_MATCHES(
        LoadModelFromTensors(tensors, "init.safetensors", loaded), InputError,
        Catch::Message(std::string("init.safetensors: tensor 'layers.1.kernel' holds ") +
                       (std::isnan(bad) ? "NaN" : "an infinity") +
                       " at element 7 (init_from needs finite weights)"));
  }
}

TEST_CASE("RMSprop fused into the sparse weight gradient equals the separate pass", "[train]") {
  const Config config = SmallConfig();
  const Dataset& data = SmallMnist();
  Model fused_model = BuildModel(data.image_shape(), config.model);
  InitializeModel(fused_model, config.seed);
  Model separate_model = fused_model;
  const size_t batch = 64;
  ModelWorkspace ws = BuildWorkspace(fused_model, batch, /*sparse_input=*/true);
  Optimizer fused_optimizer(config.optimizer, ParameterList(fused_model));
  Optimizer separate_optimizer(config.optimizer, ParameterList(separate_model));
  REQUIRE(DenseAt(fused_model, 0).kernel.fused_update != nullptr);
  DenseAt(separate_model, 0).kernel.fused_update = nullptr;  // declined: the separate pass
  for (size_t step = 0; step < 3; ++step) {  // a few steps, so the velocity matters
    for (Model* model : {&fused_model, &separate_model}) {
      LoadBatch(data.train.images, data.features, nullptr, step * batch, batch, ws);
      ModelForward(*model, batch, ws);
      SoftmaxCrossEntropy(ws.logits(), data.train.labels + step * batch, batch, 10,
                          1.0f / batch, ws.logits_gradient());
      ModelBackward(*model, batch, ws);
      REQUIRE(DenseAt(*model, 0).kernel.updated_in_backward == (model == &fused_model));
      (model == &fused_model ? fused_optimizer : separate_optimizer).Step();
      CHECK_FALSE(DenseAt(*model, 0).kernel.updated_in_backward);
    }
  }
  CHECK(SameWeights(fused_model, separate_model));
}

TEST_CASE("Evaluation counts every test image in its confusion matrix", "[train]") {
  const Outcome trained = Train(SmallConfig({{"epochs", 1}}), 2);
  const Dataset& data = SmallMnist();
  Model model = trained.model;
  Trainer trainer(SmallConfig(), data, model);
  const Evaluation test = trainer.Evaluate(data.test);
  REQUIRE(test.classes == 10);
  REQUIRE(test.confusion.size() == 100);
  uint64_t diagonal = 0;
  std::vector<uint64_t> per_label(10, 0);
  for (size_t label = 0; label < 10; ++label) {
    for (size_t predicted = 0; predicted < 10; ++predicted) {
      per_label[label] += test.confusion[label * 10 + predicted];
    }
    diagonal += test.confusion[label * 10 + label];
  }
  std::vector<uint64_t> expected(10, 0);
  for (size_t i = 0; i < data.test.count; ++i) ++expected[data.test.labels[i]];
  CHECK(per_label == expected);
  CHECK(diagonal == test.correct);
  CHECK(test.samples == data.test.count);
  CHECK(test.accuracy == static_cast<double>(test.correct) / static_cast<double>(test.samples));
  ConfigureThreads(0);
}

TEST_CASE("Training stops at target_accuracy, checked every N steps", "[train]") {
  ConfigureThreads(2);
  const Config config =
      SmallConfig({{"epochs", 3}, {"validation_split", 0.1}, {"target_accuracy", 0.8},
                   {"target_every_steps", 10}});
  const Dataset& data = SmallMnistWithValidation();
  Model model = BuildModel(data.image_shape(), config.model);
  InitializeModel(model, config.seed);
  Trainer trainer(config, data, model);
  EpochProgress progress(1, config.epochs, trainer.steps_per_epoch(), false);
  const std::optional<EpochRecord> record = trainer.RunEpoch(1, progress);
  REQUIRE(record);
  REQUIRE(trainer.target_hit());
  const TargetHit& hit = *trainer.target_hit();
  CHECK(hit.epoch == 1);
  CHECK(hit.step % 10 == 0);
  // The epoch ended at the check that reached it.
  CHECK(record->steps == hit.step);
  CHECK(hit.step < trainer.steps_per_epoch());
  CHECK(hit.accuracy >= 0.8);
  // The accuracy is the validation set's at that point, as Evaluate
  // measures it; the test set never stops a run.
  CHECK(trainer.Evaluate(data.validation).accuracy == hit.accuracy);
  CHECK(trainer.Evaluate(data.test).accuracy != hit.accuracy);
}

TEST_CASE("An unreachable target_accuracy is checked after every epoch", "[train]") {
  ConfigureThreads(2);
  const Config config =
      SmallConfig({{"epochs", 1}, {"validation_split", 0.1}, {"target_accuracy", 1.0}});
  const Dataset& data = SmallMnistWithValidation();
  Model model = BuildModel(data.image_shape(), config.model);
  InitializeModel(model, config.seed);
  Trainer trainer(config, data, model);
  EpochProgress progress(1, config.epochs, trainer.steps_per_epoch(), false);
  const std::optional<EpochRecord> record = trainer.RunEpoch(1, progress);
  REQUIRE(record);
  CHECK(record->steps == trainer.steps_per_epoch());
  CHECK_FALSE(trainer.target_hit());
}

// The kernels split columns among threads in whole cache lines; a buffer that
// started mid-line had both cores writing the line at every chunk boundary
// (false sharing: the fused RMSprop weight gradient ran 1.5x slower on 2
// threads). glibc's own large allocations start 16 bytes past a page.
TEST_CASE("Parameters, gradients, workspaces and optimizer state start on a cache line",
          "[train]") {
  auto aligned = [](const float* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; };
  const Config config = SmallConfig();
  Model model = BuildModel(FeatureShape::Image(28, 28, 1), config.model);
  const ModelWorkspace ws = BuildWorkspace(model, 128, /*sparse_input=*/true);
  for (size_t l = 0; l < model.layers.size(); ++l) {
    INFO("layer " << l);
    CHECK(aligned(ws.layers[l].a.data()));
    CHECK(aligned(ws.layers[l].delta.data()));
  }
  const Optimizer optimizer(config.optimizer, ParameterList(model));
  ForEachParameter(model, [&](const Parameter& p) {
    INFO(p.name);
    CHECK(aligned(p.value.data()));
    CHECK(aligned(p.gradient.data()));
    REQUIRE(p.fused_update != nullptr);
    CHECK(aligned(p.fused_update->velocity));
  });
}

}  // namespace
}  // namespace mb
