// Finite-difference checks of the analytic gradients: the softmax
// cross-entropy with respect to the logits, every parameter of a three-layer
// MLP whose hidden layers use each activation in turn (so the activation
// derivatives fused into the input-gradient product are covered), and every
// parameter of small convnets through each layer type.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <variant>
#include <vector>

#include "common/rng.h"
#include "nn/init.h"
#include "nn/model.h"
#include "nn/regularization.h"
#include "nn/softmax_cross_entropy.h"
#include "layer_configs.h"

namespace mb {
namespace {

constexpr size_t kBatch = 4, kInputs = 5, kClasses = 3;
const uint8_t kLabels[kBatch] = {0, 2, 1, 2};

// A training pass (dropout draws), always the same step: the same mask.
constexpr StepContext kTraining{/*training=*/true, /*seed=*/5, /*step=*/3, 0};

double MeanLoss(const Model& model, ModelWorkspace& ws) {
  ModelForward(model, kBatch, ws, kTraining);
  return SoftmaxCrossEntropy(ws.logits(), kLabels, kBatch, kClasses, 0.0f, nullptr).loss_sum /
             kBatch +
         RegularizationLoss(model);
}

// Where the loss is not differentiable: which input each max-pooling output
// took, which ReLU outputs are positive, in the last forward pass, and the
// signs of the weights an L1 regularizer sees. A first ReLU convolution
// fused with its pooling writes no output of its own: the signs of every
// max pooling's outputs stand in for it.
std::vector<uint32_t> Kinks(const Model& model, const ModelWorkspace& ws) {
  std::vector<uint32_t> kinks;
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const LayerBuffers& buffers = ws.layers[l];
    kinks.insert(kinks.end(), buffers.index.begin(), buffers.index.end());
    if (std::holds_alternative<MaxPooling2DLayer>(model.layers[l])) {
      for (float a : buffers.a) kinks.push_back(a > 0.0f);
    }
    const Activation act =
        std::visit([](const auto& layer) { return OutputActivation(layer); }, model.layers[l]);
    if (act == Activation::kRelu) {
      for (float a : buffers.a) kinks.push_back(a > 0.0f);
    }
  }
  ForEachParameter(model, [&](const Parameter& p) {
    if (p.regularizer.l1 == 0) return;
    for (float w : p.value) kinks.push_back(w > 0.0f);
  });
  return kinks;
}

// Central difference; with float forward passes a step of 1e-3 balances
// truncation against rounding error. Nothing when a max-pooling choice or a
// ReLU flips within the step: the difference then measures the jump, not
// the gradient.
std::optional<double> NumericGradient(const Model& model, ModelWorkspace& ws,
                                      float& parameter) {
  const float saved = parameter;
  const float h = 1e-3f;
  parameter = saved + h;
  const double up = MeanLoss(model, ws);
  const std::vector<uint32_t> kinks_up = Kinks(model, ws);
  parameter = saved - h;
  const double down = MeanLoss(model, ws);
  parameter = saved;
  if (Kinks(model, ws) != kinks_up) return std::nullopt;
  return (up - down) / (2.0 * h);
}

// A forward and backward pass of `model` on random inputs, the same each
// time; the gradients are in the model, the intermediates in the workspace.
ModelWorkspace ForwardBackward(Model& model) {
  ModelWorkspace ws = BuildWorkspace(model, kBatch);
  Rng rng(11);
  for (float& x : ws.input) x = static_cast<float>(2.0 * rng.UniformDouble() - 1.0);
  ModelForward(model, kBatch, ws, kTraining);
  SoftmaxCrossEntropy(ws.logits(), kLabels, kBatch, kClasses, 1.0f / kBatch,
                      ws.logits_gradient());
  ModelBackward(model, kBatch, ws);
  return ws;
}

// Forward and backward passes of models with the same parameter list,
// all with models[0]'s initial weights (from `seed`).
std::vector<ModelWorkspace> ForwardBackwardFromSameWeights(std::vector<Model>& models,
                                                           uint64_t seed) {
  InitializeModel(models[0], seed);
  std::vector<const Parameter*> initial;
  ForEachParameter(models[0], [&](const Parameter& p) { initial.push_back(&p); });
  for (size_t m = 1; m < models.size(); ++m) {
    size_t tensor = 0;
    ForEachParameter(models[m], [&](Parameter& p) { p.value = initial[tensor++]->value; });
  }
  std::vector<ModelWorkspace> workspaces;
  for (Model& m : models) workspaces.push_back(ForwardBackward(m));
  return workspaces;
}

// Every gradient of `a` bitwise that of `b`, tensor by tensor.
void CheckSameGradients(const Model& a, const Model& b) {
  std::vector<const Parameter*> gradients;
  ForEachParameter(a, [&](const Parameter& p) { gradients.push_back(&p); });
  size_t tensor = 0;
  ForEachParameter(b, [&](const Parameter& p) {
    INFO(p.name);
    REQUIRE(tensor < gradients.size());
    const auto& expected = gradients[tensor++]->gradient;
    REQUIRE(p.gradient.size() == expected.size());
    CHECK(std::memcmp(p.gradient.data(), expected.data(), p.gradient.size() * sizeof(float)) ==
          0);
  });
  CHECK(tensor == gradients.size());
}

// Checks every gradient of `model` (on random inputs) against finite
// differences; returns how many tensors the walk listed. At most 10% of the
// elements may sit on a kink (NumericGradient).
size_t CheckGradients(Model& model) {
  InitializeModel(model, 3);
  ModelWorkspace ws = ForwardBackward(model);
  AddRegularizationGradients(model);

  size_t tensors = 0, checked = 0, on_kinks = 0;
  ForEachParameter(model, [&](Parameter& p) {
    ++tensors;
    for (size_t i = 0; i < p.size(); ++i) {
      INFO(p.name << " " << i);
      const std::optional<double> numeric = NumericGradient(model, ws, p.value[i]);
      if (!numeric) {
        ++on_kinks;
        continue;
      }
      ++checked;
      CHECK(p.gradient[i] == Approx(*numeric).margin(2e-4).epsilon(1e-2));
    }
  });
  INFO(on_kinks << " of " << checked + on_kinks << " on kinks");
  CHECK(on_kinks * 10 <= checked + on_kinks);
  return tensors;
}

TEST_CASE("Softmax cross-entropy gradient matches finite differences", "[nn]") {
  Rng rng(7);
  std::vector<float> logits(kBatch * kClasses);
  for (float& z : logits) z = static_cast<float>(4.0 * rng.UniformDouble() - 2.0);
  std::vector<float> grad(logits.size());
  SoftmaxCrossEntropy(logits.data(), kLabels, kBatch, kClasses, 1.0f / kBatch, grad.data());
  auto loss = [&] {
    return SoftmaxCrossEntropy(logits.data(), kLabels, kBatch, kClasses, 0.0f, nullptr)
               .loss_sum / kBatch;
  };
  for (size_t i = 0; i < logits.size(); ++i) {
    const float saved = logits[i];
    logits[i] = saved + 1e-3f;
    const double up = loss();
    logits[i] = saved - 1e-3f;
    const double down = loss();
    logits[i] = saved;
    CHECK(grad[i] == Approx((up - down) / 2e-3).margin(1e-4));
  }
}

TEST_CASE("Softmax cross-entropy is stable for huge logits", "[nn]") {
  const float logits[3] = {1000.0f, -1000.0f, 999.0f};
  const uint8_t label = 2;
  float grad[3];
  const BatchLoss loss = SoftmaxCrossEntropy(logits, &label, 1, 3, 1.0f, grad);
  CHECK(loss.loss_sum == Approx(std::log1p(std::exp(-1.0)) + 1.0));
  CHECK(loss.correct == 0);
  CHECK(std::isfinite(grad[0]));
  CHECK(grad[2] == Approx(1.0 / (1.0 + std::exp(1.0)) - 1.0));
}

TEST_CASE("MLP parameter gradients match finite differences for every activation", "[nn]") {
  const Activation activation = GENERATE(Activation::kLinear, Activation::kRelu,
                                         Activation::kTanh, Activation::kSigmoid,
                                         Activation::kGelu);
  INFO("activation " << ActivationName(activation));
  const std::vector<LayerConfig> layers = {
      test::Dense(6, activation, Initializer::kGlorotUniform),
      test::Dense(4, activation, Initializer::kGlorotUniform),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  Model model = BuildModel(FeatureShape::Vector(kInputs), layers);
  // Every tensor the walk lists, and the walk lists each layer's two.
  CHECK(CheckGradients(model) == 2 * layers.size());
}

TEST_CASE("L1 and L2 regularizers: their loss terms and gradients", "[nn]") {
  std::vector<LayerConfig> layers = {
      test::Dense(6, Activation::kTanh, Initializer::kGlorotUniform),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  layers[0].kernel_regularizer = {0.01, 0.02};
  layers[1].bias_regularizer = {0.0, 0.5};
  Model model = BuildModel(FeatureShape::Vector(kInputs), layers);
  InitializeModel(model, 3);
  // By hand: 0.01 sum |K0| + 0.02 sum K0^2 + 0.5 sum b1^2.
  const Parameter& k0 = std::get<DenseLayer>(model.layers[0]).kernel;
  const Parameter& b1 = std::get<DenseLayer>(model.layers[1]).bias;
  double expected = 0;
  for (float w : k0.value) expected += 0.01 * std::fabs(w) + 0.02 * double{w} * w;
  for (float w : b1.value) expected += 0.5 * double{w} * w;
  CHECK(RegularizationLoss(model) == Approx(expected).epsilon(1e-12));
  CHECK(HasRegularization(model));
  CHECK(CheckGradients(model) == 4);
}

TEST_CASE("Convnet gradients match finite differences through every layer type", "[nn]") {
  const Activation activation = GENERATE(Activation::kLinear, Activation::kRelu,
                                         Activation::kTanh, Activation::kGelu);
  // Strides and "same" padding, and pooling windows that overlap or are cut
  // off by the border.
  const size_t stride = GENERATE(1, 2);
  const Padding padding = GENERATE(Padding::kValid, Padding::kSame);
  INFO("activation " << ActivationName(activation) << ", stride " << stride << ", padding "
                     << kPaddingNames[static_cast<int>(padding)]);
  const std::vector<LayerConfig> layers = {
      test::Conv2D(3, 3, 2, activation, stride, padding, Initializer::kGlorotUniform),
      test::MaxPooling2D(2, 1, padding),
      test::Conv2D(2, 2, 2, activation, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::MaxPooling2D(3, 2, Padding::kSame),
      test::Flatten(),
      test::Dropout(0.25),
      test::Dense(5, activation, Initializer::kGlorotUniform),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  Model model = BuildModel(FeatureShape::Image(7, 6, 2), layers);
  CHECK(CheckGradients(model) == 8);
}

// A second ReLU convolution that runs forward by Winograd's F(2x2, 3x3),
// its last output row and column never read by the pooling after it (as
// the book convnet's 11x11 pooled to 5x5): they stay zero, and every
// gradient is as the finite differences say. (A linear one would run fused
// with its pooling instead, by direct sums.)
// A ReLU convolution in the middle of the model fused with its 2x2 pooling
// (Winograd's tiles pooled in the output transform, the pooling's backward
// pass taking the ReLU's derivative from the pooled output), with a row and
// column the pooling drops.
TEST_CASE("A Winograd convolution fused with its pooling has true gradients", "[nn]") {
  const Activation activation = Activation::kRelu;
  const Padding padding = GENERATE(Padding::kValid, Padding::kSame);
  INFO("padding " << kPaddingNames[static_cast<int>(padding)]);
  const std::vector<LayerConfig> layers = {
      test::Conv2D(16, 3, 3, activation, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::Conv2D(9, 3, 3, activation, 1, padding, Initializer::kGlorotUniform),
      test::MaxPooling2D(2, 2),
      test::Flatten(),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  // 11x11 -> 9x9x16 -> 7x7x9 (valid) or 9x9x9 (same) -> pooled 3x3 or 4x4.
  Model model = BuildModel(FeatureShape::Image(11, 11, 1), layers);
  const auto& conv = std::get<Conv2DLayer>(model.layers[1]);
  const auto& pool = std::get<MaxPooling2DLayer>(model.layers[2]);
  REQUIRE(FusesWithMaxPooling(conv, pool));
  CHECK(WinogradSaves(conv.window, activation, {2 * pool.window.out_h, 2 * pool.window.out_w}, 2));
  CHECK(CheckGradients(model) == 6);
}

// The book convnet's third convolution in small: 3x3 outputs of a 5x5 input
// on 16 channels, one tile of Winograd's F(3x3, 3x3) forward (whose
// transforms round more than F(2x2)'s), the backward passes as for any
// convolution. (Linear, so that no checked point sits on a ReLU's kink.)
TEST_CASE("A convolution by Winograd's F(3x3, 3x3) has true gradients", "[nn]") {
  const Activation activation = Activation::kLinear;
  const std::vector<LayerConfig> layers = {
      test::Conv2D(16, 3, 3, Activation::kRelu, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::Conv2D(8, 3, 3, activation, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::Flatten(),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  // 7x7 -> 5x5x16 -> 3x3x8.
  Model model = BuildModel(FeatureShape::Image(7, 7, 1), layers);
  const auto& conv = std::get<Conv2DLayer>(model.layers[1]);
  CHECK(WinogradTileSize(conv.window, activation, conv.read) == 3);
  CHECK(CheckGradients(model) == 6);
}

// A pooling that does not fuse (overlapping 3x3 windows at stride 2) reads
// the Winograd convolution's output in memory: the row and column it drops
// are not computed, and stay zero. (Linear: with a ReLU too, a tenth of the
// checked points sat on kinks.)
TEST_CASE("A Winograd convolution whose pooling drops a row and column has true gradients",
          "[nn]") {
  const Activation activation = Activation::kLinear;
  const std::vector<LayerConfig> layers = {
      test::Conv2D(16, 3, 3, Activation::kRelu, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::Conv2D(9, 3, 3, activation, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::MaxPooling2D(3, 2),
      test::Flatten(),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  // 12x12 -> 10x10x16 -> 8x8x9 -> pooled 3x3, whose windows cover 7x7.
  Model model = BuildModel(FeatureShape::Image(12, 12, 1), layers);
  const auto& conv = std::get<Conv2DLayer>(model.layers[1]);
  const size_t read = 7;
  REQUIRE_FALSE(FusesWithMaxPooling(conv, std::get<MaxPooling2DLayer>(model.layers[2])));
  CHECK((conv.read.h == read && conv.read.w == read));
  CHECK(WinogradTileSize(conv.window, activation, conv.read) == 2);
  CHECK(CheckGradients(model) == 6);
  ModelWorkspace ws = ForwardBackward(model);
  const size_t side = conv.window.out_h, filters = conv.filters;
  size_t nonzero = 0;
  for (size_t n = 0; n < kBatch; ++n) {
    for (size_t i = 0; i < side; ++i) {
      for (size_t f = 0; f < filters; ++f) {
        INFO("sample " << n << ", row and column " << i << ", filter " << f);
        CHECK(ws.layers[1].a[((n * side + read) * side + i) * filters + f] == 0.0f);
        CHECK(ws.layers[1].a[((n * side + i) * side + read) * filters + f] == 0.0f);
        nonzero += ws.layers[1].a[((n * side + i) * side + i) * filters + f] != 0.0f;
      }
    }
  }
  CHECK(nonzero > 0);  // the output was written
}

TEST_CASE("Activation layers: gradients, and the fused activation's bits", "[nn]") {
  const Activation activation = GENERATE(Activation::kLinear, Activation::kRelu,
                                         Activation::kTanh, Activation::kSigmoid,
                                         Activation::kGelu);
  INFO("activation " << ActivationName(activation));
  const Activation linear = Activation::kLinear;
  // The speedrun's order, pooling before the activation, and one on the data.
  const std::vector<LayerConfig> pooled_first = {
      test::ActivationOf(activation),
      test::Conv2D(3, 3, 2, linear, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::MaxPooling2D(2, 1),
      test::ActivationOf(activation),
      test::Flatten(),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  Model model = BuildModel(FeatureShape::Image(7, 6, 2), pooled_first);
  CHECK(CheckGradients(model) == 4);

  // A layer's own activation and an activation layer after it compute the
  // same bits, forward and backward.
  const std::vector<LayerConfig> fused = {
      test::Conv2D(3, 3, 2, activation, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::Flatten(),
      test::Dense(5, activation, Initializer::kGlorotUniform),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  const std::vector<LayerConfig> split = {
      test::Conv2D(3, 3, 2, linear, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::ActivationOf(activation),
      test::Flatten(),
      test::Dense(5, linear, Initializer::kGlorotUniform),
      test::ActivationOf(activation),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  std::vector<Model> models = {BuildModel(FeatureShape::Image(7, 6, 2), fused),
                               BuildModel(FeatureShape::Image(7, 6, 2), split)};
  const std::vector<ModelWorkspace> workspaces = ForwardBackwardFromSameWeights(models, 3);
  CHECK(workspaces[0].layers[0].a == workspaces[1].layers[1].a);
  CHECK(workspaces[0].layers.back().a == workspaces[1].layers.back().a);
  CheckSameGradients(models[0], models[1]);
}

// The book convnet's first layer: a ReLU convolution whose max pooling
// folds into its weight gradient runs forward fused with the pooling, the
// ReLU applied after it. The pooled outputs and every gradient are bitwise
// those of the same convolution linear, then a ReLU layer, then the
// pooling, which fuse with nothing; finite differences agree; and a
// backward range that would split the fold is refused.
TEST_CASE("A first ReLU convolution fused with its pooling has the bits of the layers apart",
          "[nn]") {
  const Activation relu = Activation::kRelu, linear = Activation::kLinear;
  const std::vector<LayerConfig> fused = {
      test::Conv2D(5, 3, 3, relu, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::MaxPooling2D(2, 2),
      test::Flatten(),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  const std::vector<LayerConfig> apart = {
      test::Conv2D(5, 3, 3, linear, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::ActivationOf(relu),
      test::MaxPooling2D(2, 2),
      test::Flatten(),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  const FeatureShape input = FeatureShape::Image(10, 9, 1);
  std::vector<Model> models = {BuildModel(input, fused), BuildModel(input, apart)};
  CHECK(CheckGradients(models[0]) == 4);
  std::vector<ModelWorkspace> workspaces = ForwardBackwardFromSameWeights(models, 7);
  // Fused: the convolution's own output was never written.
  const auto& own = workspaces[0].layers[0].a;
  CHECK(std::count(own.begin(), own.end(), 0.0f) == static_cast<long>(own.size()));
  const auto& pooled = workspaces[0].layers[1].a;
  CHECK(pooled == workspaces[1].layers[2].a);
  CHECK(std::count(pooled.begin(), pooled.end(), 0.0f) > 0);  // the ReLU cut some
  CHECK(std::count(pooled.begin(), pooled.end(), 0.0f) < static_cast<long>(pooled.size()));
  CHECK(workspaces[0].layers.back().a == workspaces[1].layers.back().a);
  CheckSameGradients(models[0], models[1]);
  CHECK_THROWS_AS(ModelBackwardLayers(models[0], kBatch, workspaces[0], 1, 4), std::logic_error);
}

// A backward pass writes through layers that only pass their delta down
// (flatten, activation layers over linear ones) into the delta of the
// lowest of them: the same gradients, bitwise, as running each layer's
// backward pass on its own (a range of one layer never skips any), and
// through two activations in a row, where only one can be skipped.
TEST_CASE("Backward passes skip the layers that only pass their delta down, same bits",
          "[nn]") {
  const Activation linear = Activation::kLinear;
  const std::vector<LayerConfig> layers = {
      test::Conv2D(3, 3, 2, linear, 1, Padding::kValid, Initializer::kGlorotUniform),
      test::ActivationOf(Activation::kRelu),
      test::ActivationOf(Activation::kTanh),
      test::MaxPooling2D(2, 1),
      test::ActivationOf(Activation::kRelu),
      test::Flatten(),
      test::Dense(5, linear, Initializer::kGlorotUniform),
      test::ActivationOf(Activation::kGelu),
      test::Flatten(),
      test::Dense(kClasses, Activation::kSoftmax, Initializer::kGlorotUniform)};
  Model model = BuildModel(FeatureShape::Image(7, 6, 2), layers);
  CHECK(CheckGradients(model) == 6);

  InitializeModel(model, 5);
  ForwardBackward(model);
  std::vector<std::vector<float>> skipping;
  ForEachParameter(model, [&](const Parameter& p) {
    skipping.emplace_back(p.gradient.begin(), p.gradient.end());
  });
  ModelWorkspace ws = ForwardBackward(model);
  for (size_t l = model.layers.size(); l-- > 0;) ModelBackwardLayers(model, kBatch, ws, l, l + 1);
  size_t tensor = 0;
  ForEachParameter(model, [&](const Parameter& p) {
    INFO(p.name);
    CHECK(std::memcmp(p.gradient.data(), skipping[tensor++].data(),
                      p.gradient.size() * sizeof(float)) == 0);
  });
}

// w (200,000 draws or more) looks like U(-limit, limit): within it,
// reaching it, with the mean and variance of the uniform distribution.
void CheckUniform(const std::vector<float>& w, double limit) {
  double sum = 0, sum_sq = 0, largest = 0;
  for (float x : w) {
    largest = std::max(largest, double{std::fabs(x)});
    sum += x;
    sum_sq += double{x} * x;
  }
  CHECK(largest <= limit);
  CHECK(largest > 0.999 * limit);
  const double mean = sum / w.size();
  const double variance = sum_sq / w.size() - mean * mean;
  // The mean of n draws has a standard error of limit / sqrt(3 n): about 1e-3 limit here.
  CHECK(std::fabs(mean) < 5e-3 * limit);
  // U(-a, a) has variance a^2 / 3.
  CHECK(variance == Approx(limit * limit / 3).epsilon(0.01));
}

TEST_CASE("glorot_uniform stays within Keras' limit with the right spread", "[nn]") {
  std::vector<float> w(784 * 512);
  Rng rng(1, kInitStream);
  FillInitializer(Initializer::kGlorotUniform, 784, 512, rng, w.data(), w.size());
  CheckUniform(w, std::sqrt(6.0 / (784 + 512)));
}

TEST_CASE("he_normal is a normal truncated at two standard deviations", "[nn]") {
  std::vector<float> w(100000);
  Rng rng(2);
  FillInitializer(Initializer::kHeNormal, 200, 10, rng, w.data(), w.size());
  const double stddev = std::sqrt(2.0 / 200) / 0.87962566103423978;
  double sum_sq = 0, largest = 0;
  for (float x : w) {
    largest = std::max(largest, double{std::fabs(x)});
    sum_sq += double{x} * x;
  }
  CHECK(largest <= 2 * stddev * 1.000001);
  // After Keras' rescaling the variance is 2 / fan_in.
  CHECK(sum_sq / w.size() == Approx(2.0 / 200).epsilon(0.02));
}

TEST_CASE("pytorch_default is U(+-1/sqrt(fan_in)), the bias bounded as its kernel", "[nn]") {
  std::vector<float> w(800 * 256);
  Rng rng(3, kInitStream);
  FillInitializer(Initializer::kPytorchDefault, 800, 256, rng, w.data(), w.size());
  CheckUniform(w, 1.0 / std::sqrt(800.0));

  // In a model: torch.nn.Conv2d and Linear bound the bias by the kernel's
  // fan_in (kh * kw * in, inputs), not by the bias's length as Keras' fans
  // would; each tensor draws from its own stream, as every initialiser does.
  std::vector<LayerConfig> layers = {
      test::Conv2D(24, 5, 5, Activation::kRelu), test::Flatten(),
      test::Dense(kClasses, Activation::kSoftmax)};
  for (LayerConfig& layer : layers) {
    layer.kernel_initializer = layer.bias_initializer = Initializer::kPytorchDefault;
  }
  Model model = BuildModel(FeatureShape::Image(9, 9, 2), layers);
  InitializeModel(model, 7);
  // The dense layer reads the 5x5x24 = 600 outputs of the convolution.
  const std::vector<double> limits = {1 / std::sqrt(5.0 * 5 * 2), 1 / std::sqrt(5.0 * 5 * 2),
                                      1 / std::sqrt(600.0), 1 / std::sqrt(600.0)};
  size_t tensor = 0;
  ForEachParameter(model, [&](const Parameter& p) {
    INFO(p.name);
    const double bound = limits[tensor++];
    double most = 0;
    for (float x : p.value) most = std::max(most, double{std::fabs(x)});
    CHECK(most <= bound);
    CHECK(most > 0.7 * bound);
    std::vector<float> again(p.size());
    Rng stream(7, p.init.rng_stream);
    FillInitializer(Initializer::kPytorchDefault, p.init.fan_in, p.init.fan_out, stream,
                    again.data(), again.size());
    CHECK(std::equal(again.begin(), again.end(), p.value.begin()));
  });
}

}  // namespace
}  // namespace mb
