// Each schedule at hand-worked steps, from Keras' formulas
// (keras/src/optimizers/schedules/learning_rate_schedule.py), and one_cycle
// against the rates torch.optim.lr_scheduler.OneCycleLR (torch 1.13) gave
// at the same steps. Keras computes in float32, so "to float precision".
#include <catch2/catch.hpp>

#include <cmath>

#include "optim/learning_rate_schedule.h"

namespace mb {
namespace {

LearningRateSchedule Decay(ScheduleKind kind, double initial, double decay_steps) {
  LearningRateSchedule s;
  s.kind = kind;
  s.initial_learning_rate = initial;
  s.decay_steps = decay_steps;
  return s;
}

double At(const LearningRateSchedule& s, int64_t step) { return LearningRateAt(s, step, 0); }

TEST_CASE("cosine_decay, with alpha and with a warmup", "[schedule]") {
  LearningRateSchedule s = Decay(ScheduleKind::kCosineDecay, 0.002, 100);
  CHECK(At(s, 0) == Approx(0.002).epsilon(1e-7));
  // 0.002 * (1 + cos(pi / 4)) / 2
  CHECK(At(s, 25) == Approx(0.0017071067811865475).epsilon(1e-7));
  CHECK(At(s, 50) == Approx(0.001).epsilon(1e-7));
  // Past decay_steps it stays at alpha * initial: the 2-epoch check
  // (469 steps after epoch 1) records 0.
  CHECK(At(s, 100) == Approx(0.0).margin(1e-12));
  CHECK(At(s, 469) == Approx(0.0).margin(1e-12));
  s.alpha = 0.1;
  CHECK(At(s, 50) == Approx(0.002 * (0.9 * 0.5 + 0.1)).epsilon(1e-7));
  CHECK(At(s, 1000) == Approx(0.0002).epsilon(1e-7));

  LearningRateSchedule w = Decay(ScheduleKind::kCosineDecay, 0.0, 100);
  w.warmup_target = 0.01;
  w.warmup_steps = 10;
  CHECK(At(w, 0) == 0.0);
  CHECK(At(w, 5) == Approx(0.005).epsilon(1e-7));
  CHECK(At(w, 10) == Approx(0.01).epsilon(1e-7));
  CHECK(At(w, 60) == Approx(0.005).epsilon(1e-7));
  CHECK(At(w, 1000) == Approx(0.0).margin(1e-12));
}

TEST_CASE("exponential_decay and inverse_time_decay, smooth and staircase", "[schedule]") {
  LearningRateSchedule e = Decay(ScheduleKind::kExponentialDecay, 0.1, 100);
  e.decay_rate = 0.96;
  CHECK(At(e, 50) == Approx(0.1 * std::sqrt(0.96)).epsilon(1e-7));
  CHECK(At(e, 250) == Approx(0.1 * std::pow(0.96, 2.5)).epsilon(1e-7));
  e.staircase = true;
  CHECK(At(e, 50) == Approx(0.1).epsilon(1e-7));
  CHECK(At(e, 250) == Approx(0.09216).epsilon(1e-7));

  LearningRateSchedule t = Decay(ScheduleKind::kInverseTimeDecay, 0.1, 10);
  t.decay_rate = 0.5;
  CHECK(At(t, 25) == Approx(0.1 / 2.25).epsilon(1e-7));
  t.staircase = true;
  CHECK(At(t, 25) == Approx(0.05).epsilon(1e-7));
}

TEST_CASE("polynomial_decay, clamped and cycling", "[schedule]") {
  LearningRateSchedule p = Decay(ScheduleKind::kPolynomialDecay, 0.1, 100);
  p.end_learning_rate = 0.01;
  p.power = 0.5;
  CHECK(At(p, 36) == Approx(0.09 * 0.8 + 0.01).epsilon(1e-7));
  CHECK(At(p, 200) == Approx(0.01).epsilon(1e-7));
  p.cycle = true;
  CHECK(At(p, 0) == Approx(0.1).epsilon(1e-7));
  // The first multiple of decay_steps not below the step: 200.
  CHECK(At(p, 150) == Approx(0.09 * 0.5 + 0.01).epsilon(1e-7));
}

TEST_CASE("piecewise_constant_decay includes each boundary in the interval below", "[schedule]") {
  LearningRateSchedule s;
  s.kind = ScheduleKind::kPiecewiseConstantDecay;
  s.boundaries = {100, 200};
  s.values = {1.0, 0.5, 0.1};
  CHECK(At(s, 0) == 1.0);
  CHECK(At(s, 100) == 1.0);
  CHECK(At(s, 101) == 0.5);
  CHECK(At(s, 200) == 0.5);
  CHECK(At(s, 201) == 0.1);
}

TEST_CASE("one_cycle gives PyTorch's OneCycleLR rates", "[schedule]") {
  LearningRateSchedule s;
  s.kind = ScheduleKind::kOneCycle;
  s.max_lr = 0.01;
  // total_steps from the run: 235 (the speedrun's one epoch of batch 256).
  const auto at = [&](int64_t step) { return LearningRateAt(s, step, 235); };
  CHECK(at(0) == Approx(0.0003999999999999993).epsilon(1e-12));
  CHECK(at(1) == Approx(0.0004049030624798597).epsilon(1e-12));
  CHECK(at(50) == Approx(0.008252942920848938).epsilon(1e-12));
  CHECK(at(69) == Approx(0.009998774077829497).epsilon(1e-12));
  CHECK(at(70) == Approx(0.009999772048255069).epsilon(1e-12));
  CHECK(at(71) == Approx(0.009997948559003024).epsilon(1e-12));
  CHECK(at(100) == Approx(0.009175497897687677).epsilon(1e-12));
  CHECK(at(234) == Approx(4e-08).epsilon(1e-9));

  s.total_steps = 100;  // given: the run's steps do not matter
  s.three_phase = true;
  s.anneal_linear = true;
  CHECK(at(0) == Approx(0.0004).epsilon(1e-12));
  CHECK(at(1) == Approx(0.0007310344827586207).epsilon(1e-12));
  CHECK(at(50) == Approx(0.0030482758620689653).epsilon(1e-12));
  CHECK(at(69) == Approx(0.00029269365853658535).epsilon(1e-12));
  CHECK(at(71) == Approx(0.00027318341463414633).epsilon(1e-12));
  CHECK(at(99) == Approx(3.999999999997929e-08).epsilon(1e-9));
}

TEST_CASE("A constant schedule is its rate", "[schedule]") {
  LearningRateSchedule s;
  s.initial_learning_rate = 0.001f;
  CHECK(At(s, 0) == double{0.001f});
  CHECK(At(s, 1000000) == double{0.001f});
}

}  // namespace
}  // namespace mb
