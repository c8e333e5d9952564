// Finite-difference checks of the analytic gradients: the softmax
// cross-entropy with respect to the logits, and every parameter of a
// three-layer MLP whose hidden layers use each activation in turn (so the
// activation derivatives fused into the input-gradient product are covered).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/rng.h"
#include "nn/init.h"
#include "nn/mlp.h"
#include "nn/softmax_cross_entropy.h"

namespace mb {
namespace {

constexpr size_t kBatch = 4, kInputs = 5, kClasses = 3;
const uint8_t kLabels[kBatch] = {0, 2, 1, 2};

double MeanLoss(const Mlp& model, MlpWorkspace& ws) {
  MlpForward(model, kBatch, ws);
  return SoftmaxCrossEntropy(ws.a.back().data(), kLabels, kBatch, kClasses, 0.0f, nullptr)
             .loss_sum / kBatch;
}

// Central difference; with float forward passes a step of 1e-3 balances
// truncation against rounding error.
double NumericGradient(const Mlp& model, MlpWorkspace& ws, float& parameter) {
  const float saved = parameter;
  const float h = 1e-3f;
  parameter = saved + h;
  const double up = MeanLoss(model, ws);
  parameter = saved - h;
  const double down = MeanLoss(model, ws);
  parameter = saved;
  return (up - down) / (2.0 * h);
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
  std::vector<LayerConfig> layers(3);
  layers[0] = {6, activation, Initializer::kGlorotUniform, Initializer::kGlorotUniform};
  layers[1] = {4, activation, Initializer::kGlorotUniform, Initializer::kGlorotUniform};
  layers[2] = {kClasses, Activation::kSoftmax, Initializer::kGlorotUniform,
               Initializer::kGlorotUniform};
  Mlp model = BuildMlp(kInputs, layers);
  InitializeModel(model, 3);
  MlpWorkspace ws = BuildWorkspace(model, kBatch);
  Rng rng(11);
  for (float& x : ws.input) x = static_cast<float>(2.0 * rng.UniformDouble() - 1.0);

  MlpForward(model, kBatch, ws);
  SoftmaxCrossEntropy(ws.a.back().data(), kLabels, kBatch, kClasses, 1.0f / kBatch,
                      ws.delta.back().data());
  MlpBackward(model, kBatch, ws);

  // Every tensor the walk lists, and the walk lists each layer's two.
  size_t tensors = 0;
  ForEachParameter(model, [&](Parameter& p) {
    ++tensors;
    for (size_t i = 0; i < p.size(); ++i) {
      INFO(p.name << " " << i);
      CHECK(p.gradient[i] == Approx(NumericGradient(model, ws, p.value[i])).margin(2e-4).epsilon(1e-2));
    }
  });
  CHECK(tensors == 2 * layers.size());
}

TEST_CASE("glorot_uniform stays within Keras' limit with the right spread", "[nn]") {
  std::vector<float> w(784 * 512);
  Rng rng(1, kInitStream);
  FillInitializer(Initializer::kGlorotUniform, 784, 512, rng, w.data(), w.size());
  const double limit = std::sqrt(6.0 / (784 + 512));
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
  // The mean of 401,408 draws has a standard error of limit / sqrt(3 * 401408) ~ 1e-3 limit.
  CHECK(std::fabs(mean) < 5e-3 * limit);
  // U(-a, a) has variance a^2 / 3.
  CHECK(variance == Approx(limit * limit / 3).epsilon(0.01));
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

}  // namespace
}  // namespace mb
