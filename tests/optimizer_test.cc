// One and two optimizer steps on a single weight, against values worked out
// by hand from Keras' formulas (see optim/optimizer.h): w = 1, g1 = 0.5,
// g2 = -0.25.
#include <catch2/catch.hpp>

#include <cmath>
#include <tuple>
#include <vector>

#include <omp.h>

#include "optim/optimizer.h"

namespace mb {
namespace {

Parameter Scalar(float value) {
  Parameter p = MakeParameter("w", {1}, {});
  p.value[0] = value;
  return p;
}

// Returns w after each of the two steps.
std::pair<float, float> TwoSteps(const OptimizerConfig& config) {
  Parameter w = Scalar(1.0f);
  Optimizer optimizer(config, {&w});
  w.gradient[0] = 0.5f;
  optimizer.Step();
  const float after_first = w.value[0];
  w.gradient[0] = -0.25f;
  optimizer.Step();
  return {after_first, w.value[0]};
}

TEST_CASE("RMSprop: epsilon inside the square root, Keras defaults", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kRmsprop;  // lr 0.001, rho 0.9, epsilon 1e-7
  // v1 = 0.1 * 0.25 = 0.025;  w1 = 1 - 0.001 * 0.5 / sqrt(0.025 + 1e-7)
  // v2 = 0.9 * 0.025 + 0.1 * 0.0625 = 0.02875;  w2 = w1 + 0.001 * 0.25 / sqrt(0.02875 + 1e-7)
  const auto [w1, w2] = TwoSteps(c);
  CHECK(w1 == Approx(0.99683772866).epsilon(1e-7));
  CHECK(w2 == Approx(0.99831214566).epsilon(1e-7));
}

TEST_CASE("Adam: bias-corrected step size", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdam;
  // t=1: m = 0.05, v = 0.00025, step = 0.001 * sqrt(0.001) / 0.1;  w1 = 1 - step * m / (sqrt(v) + 1e-7)
  const auto [w1, w2] = TwoSteps(c);
  CHECK(w1 == Approx(0.99900000632).epsilon(1e-7));
  CHECK(w2 == Approx(0.99873367079).epsilon(1e-7));
}

TEST_CASE("AdamW: decoupled weight decay before the Adam step", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdamW;
  c.weight_decay = 0.004f;
  // w1 = 1 - 1 * 0.004 * 0.001 - (the Adam step above)
  const auto [w1, w2] = TwoSteps(c);
  CHECK(w1 == Approx(0.99899600632).epsilon(1e-7));
  CHECK(w2 == Approx(0.99872567481).epsilon(1e-7));
}

TEST_CASE("SGD with and without momentum, plain and Nesterov", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kSgd;
  c.learning_rate = 0.01f;
  SECTION("no momentum: w -= lr * g") {
    const auto [w1, w2] = TwoSteps(c);
    CHECK(w1 == Approx(0.995).epsilon(1e-7));
    CHECK(w2 == Approx(0.9975).epsilon(1e-7));
  }
  SECTION("momentum 0.9: m1 = -0.005, m2 = -0.002") {
    c.momentum = 0.9f;
    const auto [w1, w2] = TwoSteps(c);
    CHECK(w1 == Approx(0.995).epsilon(1e-7));
    CHECK(w2 == Approx(0.993).epsilon(1e-7));
  }
  SECTION("Nesterov: w += momentum * m - lr * g") {
    c.momentum = 0.9f;
    c.nesterov = true;
    const auto [w1, w2] = TwoSteps(c);
    CHECK(w1 == Approx(0.9905).epsilon(1e-7));
    CHECK(w2 == Approx(0.9912).epsilon(1e-7));
  }
}

TEST_CASE("Each tensor keeps its own state", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kRmsprop;
  Parameter a = Scalar(1.0f), b = Scalar(1.0f);
  Optimizer optimizer(c, {&a, &b});
  a.gradient[0] = 0.5f;
  b.gradient[0] = 0.0f;
  optimizer.Step();
  const float a_after_first = a.value[0];
  a.gradient[0] = 0.0f;
  b.gradient[0] = 0.5f;
  optimizer.Step();
  // b saw its first non-zero gradient at step 2 with v = 0 before: as a's first step.
  CHECK(b.value[0] == a_after_first);
}

TEST_CASE("RMSprop offers its update fused; a tensor updated in backward is skipped once",
          "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kRmsprop;
  Parameter w = Scalar(1.0f);
  Optimizer optimizer(c, {&w});
  REQUIRE(w.fused_update != nullptr);
  CHECK(w.fused_update->W == w.value.data());
  CHECK(w.fused_update->learning_rate == c.learning_rate);
  CHECK(w.fused_update->rho == c.rho);
  CHECK(w.fused_update->epsilon == c.epsilon);
  w.gradient[0] = 0.5f;
  w.updated_in_backward = true;  // as a kernel that applied fused_update would
  optimizer.Step();
  CHECK(w.value[0] == 1.0f);
  CHECK_FALSE(w.updated_in_backward);
  optimizer.Step();
  CHECK(w.value[0] == Approx(0.99683772866).epsilon(1e-7));
  CHECK(optimizer.steps() == 2);

  c.kind = OptimizerKind::kAdam;
  Parameter u = Scalar(1.0f);
  Optimizer adam(c, {&u});
  CHECK(u.fused_update == nullptr);
}

TEST_CASE("RMSprop offers no fused update to a regularized tensor", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kRmsprop;
  Parameter regularized = Scalar(1.0f), plain = Scalar(1.0f);
  regularized.regularizer.l2 = 0.01;
  Optimizer optimizer(c, {&regularized, &plain});
  CHECK(regularized.fused_update == nullptr);
  REQUIRE(plain.fused_update != nullptr);
  CHECK(plain.fused_update->W == plain.value.data());
  optimizer.set_learning_rate(0.01f);
  CHECK(plain.fused_update->learning_rate == 0.01f);
}

TEST_CASE("RMSprop's momentum and centered options, as Keras 3", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kRmsprop;
  c.momentum = 0.9f;
  // v1 = 0.025, increment1 = 0.001 * 0.5 / sqrt(0.025 + 1e-7), m1 = increment1;
  // v2 = 0.02875, m2 = 0.9 m1 - 0.001 * 0.25 / sqrt(0.02875 + 1e-7);  w -= m each step
  auto [w1, w2] = TwoSteps(c);
  CHECK(w1 == Approx(0.99683772866).epsilon(1e-7));
  CHECK(w2 == Approx(0.99546610146).epsilon(1e-7));
  c.momentum = 0.0f;
  c.centered = true;
  // a1 = 0.05: w1 = 1 - 0.0005 / sqrt(0.025 - 0.0025 + 1e-7);
  // a2 = 0.02: w2 = w1 + 0.00025 / sqrt(0.02875 - 0.0004 + 1e-7)
  std::tie(w1, w2) = TwoSteps(c);
  CHECK(w1 == Approx(0.99666667407).epsilon(1e-7));
  CHECK(w2 == Approx(0.99815145613).epsilon(1e-7));
  CHECK(Optimizer::StateSlots(c) == 2);
  c.momentum = 0.5f;
  CHECK(Optimizer::StateSlots(c) == 3);
}

TEST_CASE("Adam's amsgrad divides by the largest v so far", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdam;
  c.amsgrad = true;
  // g2 = 0.01 makes v fall (0.00025 to 0.00024985): amsgrad keeps 0.00025.
  Parameter w = Scalar(1.0f);
  Optimizer optimizer(c, {&w});
  w.gradient[0] = 0.5f;
  optimizer.Step();
  CHECK(w.value[0] == Approx(0.99900000632).epsilon(1e-7));
  w.gradient[0] = 0.01f;
  optimizer.Step();
  CHECK(w.value[0] == Approx(0.99831540478).epsilon(1e-7));  // plain Adam: 0.99831519931
  CHECK(Optimizer::StateSlots(c) == 3);
}

TEST_CASE("Weight decay for every optimizer, before its update", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kSgd;
  c.learning_rate = 0.1f;
  c.weight_decay = 0.1f;
  // w = 1 - 1 * 0.1 * 0.1 = 0.99, then w -= 0.1 * 0.5: 0.94
  Parameter w = Scalar(1.0f);
  Optimizer optimizer(c, {&w});
  w.gradient[0] = 0.5f;
  optimizer.Step();
  CHECK(w.value[0] == Approx(0.94).epsilon(1e-7));
  // RMSprop with weight decay offers no fused update: the decay comes first.
  OptimizerConfig r;
  r.weight_decay = 0.01f;
  Parameter v = Scalar(1.0f);
  const Optimizer rmsprop(r, {&v});
  CHECK(v.fused_update == nullptr);
}

TEST_CASE("clipnorm, global_clipnorm and clipvalue clip as Keras does", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kSgd;
  c.learning_rate = 1.0f;
  const auto step = [&](std::vector<std::vector<float>> gradients) {
    std::vector<Parameter> tensors;
    for (const auto& g : gradients) {
      Parameter p = MakeParameter("w", {static_cast<int64_t>(g.size())}, {});
      p.gradient.assign(g.begin(), g.end());
      tensors.push_back(std::move(p));
    }
    std::vector<Parameter*> list;
    for (Parameter& p : tensors) list.push_back(&p);
    Optimizer optimizer(c, list);
    optimizer.Step();
    std::vector<std::vector<float>> weights;  // w = -clipped g from 0
    for (const Parameter& p : tensors) weights.emplace_back(p.value.begin(), p.value.end());
    return weights;
  };
  c.clipnorm = 1.0f;  // per tensor: [3, 4] has norm 5; [0.3] is below 1 and stays
  auto w = step({{3, 4}, {0.3f}});
  CHECK(w[0][0] == Approx(-0.6).epsilon(1e-7));
  CHECK(w[0][1] == Approx(-0.8).epsilon(1e-7));
  CHECK(w[1][0] == Approx(-0.3).epsilon(1e-7));
  c.clipnorm.reset();
  c.global_clipnorm = 1.0f;  // [3] and [4] together have norm 5
  w = step({{3}, {4}});
  CHECK(w[0][0] == Approx(-0.6).epsilon(1e-7));
  CHECK(w[1][0] == Approx(-0.8).epsilon(1e-7));
  c.global_clipnorm.reset();
  c.clipvalue = 0.5f;
  w = step({{2, -3, 0.1f}});
  CHECK(w[0] == std::vector<float>{-0.5f, 0.5f, -0.1f});
}

TEST_CASE("A new learning rate reaches the plain step and the fused update", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kRmsprop;
  Parameter w = Scalar(1.0f);
  Optimizer optimizer(c, {&w});
  REQUIRE(w.fused_update != nullptr);
  optimizer.set_learning_rate(0.01f);
  CHECK(optimizer.learning_rate() == 0.01f);
  CHECK(w.fused_update->learning_rate == 0.01f);
  // v1 = 0.025;  w1 = 1 - 0.01 * 0.5 / sqrt(0.025 + 1e-7)
  w.gradient[0] = 0.5f;
  optimizer.Step();
  CHECK(w.value[0] == Approx(0.96837728656).epsilon(1e-7));
}

TEST_CASE("A tensor split across threads gets every element's update", "[optim]") {
  const size_t rows = 137, cols = 131;  // blocks and vectors both leave tails
  std::vector<float> g(rows * cols);
  for (size_t i = 0; i < g.size(); ++i) g[i] = std::sin(static_cast<float>(i)) * 0.1f;
  OptimizerConfig c;
  c.kind = OptimizerKind::kRmsprop;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    Parameter w = MakeParameter(
        "w", {static_cast<int64_t>(rows), static_cast<int64_t>(cols)}, {});
    w.value.assign(rows * cols, 1.0f);
    w.gradient.assign(g.begin(), g.end());
    Optimizer optimizer(c, {&w});
    optimizer.Step();
    size_t wrong = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      const float v = 0.1f * g[i] * g[i];
      wrong += w.value[i] != Approx(1.0f - 0.001f * g[i] / std::sqrt(v + 1e-7f)).epsilon(1e-6);
    }
    INFO("threads " << threads);
    CHECK(wrong == 0);
  }
  omp_set_num_threads(omp_get_num_procs());
}

}  // namespace
}  // namespace mb
