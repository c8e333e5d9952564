// One and two optimizer steps on a single weight, against values worked out
// by hand from Keras' formulas (see optim/optimizer.h): w = 1, g1 = 0.5,
// g2 = -0.25.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <omp.h>

#include "kernels/target.h"
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

// Keras' defaults for `kind` where they differ from OptimizerConfig's, which
// are RMSprop's (config.cc has them all), but the learning rate.
OptimizerConfig KerasDefaults(OptimizerKind kind) {
  OptimizerConfig c;
  c.kind = kind;
  if (kind == OptimizerKind::kAdadelta) c.rho = 0.95f;
  if (kind == OptimizerKind::kLion) c.beta_2 = 0.99f;
  return c;
}

// TwoSteps(config) against the hand-worked weights after each step.
void CheckTwoSteps(const OptimizerConfig& config, double w1, double w2) {
  const auto [after_first, after_second] = TwoSteps(config);
  CHECK(after_first == Approx(w1).epsilon(1e-7));
  CHECK(after_second == Approx(w2).epsilon(1e-7));
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

TEST_CASE("Adagrad: the accumulator starts at initial_accumulator_value", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdagrad;  // lr 0.001, initial_accumulator_value 0.1, epsilon 1e-7
  // a1 = 0.1 + 0.25 = 0.35;  w1 = 1 - 0.001 * 0.5 / sqrt(0.35 + 1e-7)
  // a2 = 0.35 + 0.0625 = 0.4125;  w2 = w1 + 0.001 * 0.25 / sqrt(0.4125 + 1e-7)
  CheckTwoSteps(c, 0.99915484587, 0.99954409529);
  CHECK(Optimizer::StateSlots(c) == 1);
}

TEST_CASE("Adadelta: the step scaled by the root of the accumulated deltas", "[optim]") {
  OptimizerConfig c = KerasDefaults(OptimizerKind::kAdadelta);  // rho 0.95, epsilon 1e-7
  c.learning_rate = 1.0f;  // the paper's form (Keras' default 0.001 barely moves w from 1)
  // a1 = 0.05 * 0.25 = 0.0125;  delta1 = -sqrt(0 + 1e-7) * 0.5 / sqrt(0.0125 + 1e-7)
  //   = -0.00141420791;  s1 = 0.05 * delta1^2 = 9.99992e-8;  w1 = 1 + delta1
  // a2 = 0.95 * 0.0125 + 0.05 * 0.0625 = 0.015;  delta2 = sqrt(s1 + 1e-7) * 0.25 /
  //   sqrt(0.015 + 1e-7) = 0.00091286606;  s2 = 0.95 * s1 + 0.05 * delta2^2;  w2 = w1 + delta2
  Parameter w = Scalar(1.0f);
  Optimizer optimizer(c, {&w});
  w.gradient[0] = 0.5f;
  optimizer.Step();
  CHECK(w.value[0] == Approx(0.99858579209).epsilon(1e-7));
  w.gradient[0] = -0.25f;
  optimizer.Step();
  CHECK(w.value[0] == Approx(0.99949865816).epsilon(1e-7));
  const OptimizerState state = optimizer.State();
  CHECK(state.tensors.at("w.accumulated_grad").data[0] == Approx(0.015).epsilon(1e-6));
  CHECK(state.tensors.at("w.accumulated_delta_var").data[0] ==
        Approx(1.36665462e-7).epsilon(1e-6));
  CHECK(Optimizer::StateSlots(c) == 2);
}

TEST_CASE("Adamax: the infinity norm and beta_1's bias correction", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdamax;  // lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7
  // m1 = 0.05, u1 = max(0, 0.5) = 0.5;  w1 = 1 - 0.001 * 0.05 / ((1 - 0.9) * (0.5 + 1e-7))
  // m2 = 0.05 + (-0.25 - 0.05) * 0.1 = 0.02, u2 = max(0.999 * 0.5, 0.25) = 0.4995;
  //   w2 = w1 - 0.001 * 0.02 / ((1 - 0.81) * (0.4995 + 1e-7))
  CheckTwoSteps(c, 0.99900000020, 0.99878926319);
  CHECK(Optimizer::StateSlots(c) == 2);
}

TEST_CASE("Nadam: Keras 3's momentum schedule u_t = beta_1 (1 - 0.5 * 0.96^t)", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kNadam;  // lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7
  // u1 = 0.468, u2 = 0.48528, u3 = 0.5018688;  P1 = u1, P2 = P1 u2 = 0.22711104, P3 = P2 u3
  // t=1: m = 0.05, v = 0.00025;  m_hat = u2 * 0.05 / (1 - P2) + (1 - u1) * 0.5 / (1 - P1)
  //   = 0.53139390;  v_hat = 0.00025 / (1 - 0.999) = 0.25;  w1 = 1 - m_hat * 0.001 / (0.5 + 1e-7)
  // t=2: m = 0.02, v = 0.00031225;  m_hat = u3 * 0.02 / (1 - P3) + (1 - u2) * -0.25 / (1 - P2)
  //   = -0.15516361;  v_hat = 0.00031225 / (1 - 0.999^2);
  //   w2 = w1 - m_hat * 0.001 / (sqrt(v_hat) + 1e-7)
  CheckTwoSteps(c, 0.99893721241, 0.99932980757);
  CHECK(Optimizer::StateSlots(c) == 2);
}

TEST_CASE("Lion: the sign of the interpolated momentum", "[optim]") {
  OptimizerConfig c = KerasDefaults(OptimizerKind::kLion);  // lr 0.001, beta_1 0.9, beta_2 0.99
  // t=1: sign(0.9 * 0 + 0.1 * 0.5) = 1: w1 = 1 - 0.001;  m1 = 0.01 * 0.5 = 0.005
  // t=2: sign(0.9 * 0.005 + 0.1 * -0.25 = -0.0205) = -1: w2 = w1 + 0.001 = 1
  CheckTwoSteps(c, 0.999, 1.0);
  CHECK(Optimizer::StateSlots(c) == 1);
}

TEST_CASE("Lion moves every weight by exactly lr, or not at all", "[optim]") {
  OptimizerConfig c;
  c.kind = OptimizerKind::kLion;
  c.learning_rate = 0.001f;
  // 19 elements: full vectors and a tail on every target. Gradients of
  // every size and sign, and zeros, which leave their weights alone.
  const std::vector<float> g = {0.5f,   -0.25f, 1e-30f, -1e-30f, 3e5f, -3e5f, 0.0f,
                                1e-6f,  -1e-6f, 2.0f,   -2.0f,   0.0f, 7.0f,  -7.0f,
                                0.125f, -0.125f, 1e-20f, -1e-20f, 0.0f};
  Parameter w = MakeParameter("w", {static_cast<int64_t>(g.size())}, {});
  w.value.assign(g.size(), 1.0f);
  w.gradient.assign(g.begin(), g.end());
  Optimizer optimizer(c, {&w});
  optimizer.Step();
  for (size_t i = 0; i < g.size(); ++i) {
    INFO("element " << i << ", gradient " << g[i]);
    const float expected = g[i] > 0 ? 1.0f - 0.001f : g[i] < 0 ? 1.0f + 0.001f : 1.0f;
    CHECK(w.value[i] == expected);  // bit for bit: lr * sign is lr itself
  }
  // A zero gradient now: the sign is the momentum's, m = 0.01 * g.
  const std::vector<float> after_first(w.value.begin(), w.value.end());
  w.gradient.assign(g.size(), 0.0f);
  optimizer.Step();
  for (size_t i = 0; i < g.size(); ++i) {
    INFO("element " << i);
    const float expected = g[i] > 0   ? after_first[i] - 0.001f
                           : g[i] < 0 ? after_first[i] + 0.001f
                                      : after_first[i];
    CHECK(w.value[i] == expected);
  }
}

// Keras 3's own test_correctness_with_golden (keras/src/optimizers/
// {adagrad,adadelta,adamax,nadam,lion}_test.py): ten weights at 1, one step
// with gradients 0.01, then steps with gradients 0.1, 0.2, ..., 1.0; Keras'
// values after each of the first five steps, to its tolerance (assertAllClose,
// rtol = atol = 5e-4). Here the first and last of the ten weights.
TEST_CASE("The new optimizers agree with Keras 3's golden values", "[optim]") {
  struct Golden {
    OptimizerKind kind;
    void (*set)(OptimizerConfig&);  // the parameters Keras' test sets
    std::vector<std::pair<double, double>> after;  // weights 0 and 9 after steps 1 to 5
  };
  const Golden goldens[] = {
      {OptimizerKind::kAdagrad,
       [](OptimizerConfig& c) {
         c.learning_rate = 0.2f, c.initial_accumulator_value = 0.3f, c.epsilon = 1e-6f;
       },
       {{0.9963, 0.9963}, {0.9604, 0.8209}, {0.9251, 0.6891}, {0.8903, 0.579}, {0.856, 0.4825}}},
      {OptimizerKind::kAdadelta,
       [](OptimizerConfig& c) { c.learning_rate = 1.0f, c.rho = 0.8f, c.epsilon = 1e-6f; },
       {{0.9978, 0.9978}, {0.9947, 0.9947}, {0.9915, 0.9915}, {0.9882, 0.9882}, {0.9849, 0.9849}}},
      {OptimizerKind::kAdamax,
       [](OptimizerConfig& c) {
         c.learning_rate = 0.2f, c.beta_1 = 0.85f, c.beta_2 = 0.95f, c.epsilon = 1e-6f;
       },
       {{0.8, 0.8}, {0.6827, 0.691}, {0.5333, 0.5466}, {0.368, 0.3848}, {0.1933, 0.2126}}},
      {OptimizerKind::kNadam,
       [](OptimizerConfig& c) {
         c.learning_rate = 0.5f, c.beta_1 = 0.5f, c.beta_2 = 0.67f, c.epsilon = 1e-5f;
       },
       {{0.4281, 0.4281}, {-0.1738, -0.1717}, {-0.7115, -0.7084}, {-1.2335, -1.2299},
        {-1.7492, -1.7454}}},
      {OptimizerKind::kLion, [](OptimizerConfig&) {},  // Keras' defaults
       {{0.999, 0.999}, {0.998, 0.998}, {0.997, 0.997}, {0.996, 0.996}, {0.995, 0.995}}},
  };
  for (const Golden& golden : goldens) {
    OptimizerConfig config = KerasDefaults(golden.kind);
    golden.set(config);
    Parameter x = MakeParameter("x", {10}, {});
    x.value.assign(10, 1.0f);
    Optimizer optimizer(config, {&x});
    x.gradient.assign(10, 0.01f);
    for (const auto& [first, last] : golden.after) {
      optimizer.Step();
      INFO("kind " << static_cast<int>(golden.kind) << " after step " << optimizer.steps());
      CHECK(std::abs(x.value[0] - first) <= 5e-4 + 5e-4 * std::abs(first));
      CHECK(std::abs(x.value[9] - last) <= 5e-4 + 5e-4 * std::abs(last));
      for (int i = 0; i < 10; ++i) x.gradient[i] = 0.1f * static_cast<float>(i + 1);
    }
  }
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

TEST_CASE("The new optimizers decay the weights before their update", "[optim]") {
  // lr 0.1, weight_decay 0.1: each step first w -= w * 0.1 * 0.1 (w = 0.99
  // before the first update, w1 * 0.99 before the second), then the update
  // worked out above, at lr 0.1.
  const std::tuple<const char*, OptimizerKind, double, double> cases[] = {
      // w1 = 0.99 - 0.1 * 0.5 / sqrt(0.35 + 1e-7);
      // w2 = w1 * 0.99 + 0.1 * 0.25 / sqrt(0.4125 + 1e-7)
      {"adagrad", OptimizerKind::kAdagrad, 0.90548458660, 0.93535468322},
      // w1 = 0.99 + 0.1 * delta1 (-0.00141420791);  w2 = w1 * 0.99 + 0.1 * delta2 (0.00091286606)
      {"adadelta", OptimizerKind::kAdadelta, 0.98985857921, 0.98005128002},
      // w1 = 0.99 - 0.1 * 0.05 / (0.1 * (0.5 + 1e-7));
      // w2 = w1 * 0.99 - 0.1 * 0.02 / (0.19 * (0.4995 + 1e-7))
      {"adamax", OptimizerKind::kAdamax, 0.89000002000, 0.86002631873},
      // w1 = 0.99 - 0.53139390 * 0.1 / (0.5 + 1e-7);
      // w2 = w1 * 0.99 + 0.15516361 * 0.1 / (sqrt(0.00031225 / 0.001999) + 1e-7)
      {"nadam", OptimizerKind::kNadam, 0.88372124092, 0.91414354461},
      // w1 = 0.99 - 0.1;  w2 = w1 * 0.99 + 0.1 = 0.9811
      {"lion", OptimizerKind::kLion, 0.89, 0.9811},
  };
  for (const auto& [name, kind, w1, w2] : cases) {
    INFO(name);
    OptimizerConfig c = KerasDefaults(kind);
    c.learning_rate = 0.1f;
    c.weight_decay = 0.1f;
    CheckTwoSteps(c, w1, w2);
  }
}

TEST_CASE("The new optimizers take clipping and a scheduled learning rate", "[optim]") {
  // One step on [0.5, -2] clipped to 0.3 against one on [0.3, -0.3]; and a
  // rate set before the step (as a schedule does) against the same rate
  // from the start: the same bits.
  const auto step = [](const OptimizerConfig& config, std::vector<float> g, float new_rate) {
    Parameter w = MakeParameter("w", {2}, {});
    w.value.assign({1.0f, -1.0f});
    w.gradient.assign(g.begin(), g.end());
    Optimizer optimizer(config, {&w});
    if (new_rate != 0) optimizer.set_learning_rate(new_rate);
    optimizer.Step();
    return std::vector<float>(w.value.begin(), w.value.end());
  };
  for (OptimizerKind kind : {OptimizerKind::kAdagrad, OptimizerKind::kAdadelta,
                             OptimizerKind::kAdamax, OptimizerKind::kNadam, OptimizerKind::kLion}) {
    INFO("kind " << static_cast<int>(kind));
    OptimizerConfig c = KerasDefaults(kind);
    const std::vector<float> unclipped = step(c, {0.3f, -0.3f}, 0);
    CHECK(unclipped != std::vector<float>{1.0f, -1.0f});
    OptimizerConfig clipped = c;
    clipped.clipvalue = 0.3f;
    CHECK(step(clipped, {0.5f, -2.0f}, 0) == unclipped);
    OptimizerConfig faster = c;
    faster.learning_rate = 0.01f;
    CHECK(step(c, {0.3f, -0.3f}, 0.01f) == step(faster, {0.3f, -0.3f}, 0));
  }
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

TEST_CASE("Every optimizer gives the same bits on every SIMD target and thread count",
          "[optim]") {
  // No update uses a fused multiply-add, so even the two numerics classes
  // agree. 137 x 131 elements: blocks for the team, and a tail of each
  // block and of the tensor on every target.
  const auto run = [](const OptimizerConfig& config) {
    Parameter w = MakeParameter("w", {137, 131}, {});
    for (size_t i = 0; i < w.size(); ++i) w.value[i] = std::cos(static_cast<float>(i));
    Optimizer optimizer(config, {&w});
    for (int step = 0; step < 4; ++step) {
      for (size_t i = 0; i < w.size(); ++i) {
        w.gradient[i] = 0.1f * std::sin(static_cast<float>(i * 3 + step * 17));
      }
      optimizer.Step();
    }
    // The weights and the state: a last-bit difference in a state tensor
    // can leave the weights alone for a few steps.
    std::vector<float> bits(w.value.begin(), w.value.end());
    for (const auto& [name, tensor] : optimizer.State().tensors) {
      bits.insert(bits.end(), tensor.data.begin(), tensor.data.end());
    }
    return bits;
  };
  std::vector<OptimizerConfig> configs;
  for (OptimizerKind kind :
       {OptimizerKind::kSgd, OptimizerKind::kRmsprop, OptimizerKind::kAdam, OptimizerKind::kAdamW,
        OptimizerKind::kAdagrad, OptimizerKind::kAdadelta, OptimizerKind::kAdamax,
        OptimizerKind::kNadam, OptimizerKind::kLion}) {
    OptimizerConfig c = KerasDefaults(kind);
    c.weight_decay = 0.01f;  // its pass too
    configs.push_back(c);
  }
  configs[0].momentum = 0.9f;
  configs[1].centered = true;
  std::vector<std::vector<float>> first;
  for (const std::string& target : CompiledTargetNames()) {
    if (!KernelTargetProblem(target).empty()) continue;  // the CPU lacks it
    PinKernelTarget(target);
    for (int threads : {1, 3}) {
      omp_set_num_threads(threads);
      for (size_t i = 0; i < configs.size(); ++i) {
        INFO(target << ", " << threads << " threads, optimizer " << i);
        const std::vector<float> bits = run(configs[i]);
        if (first.size() < configs.size()) {
          first.push_back(bits);
        } else {
          CHECK(std::memcmp(bits.data(), first[i].data(), bits.size() * sizeof(float)) == 0);
        }
      }
    }
  }
  PinKernelTarget("auto");
  omp_set_num_threads(omp_get_num_procs());
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
