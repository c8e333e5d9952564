#include "optim/learning_rate_schedule.h"

#include <algorithm>
#include <cmath>

namespace mb {

namespace {

constexpr double kPi = 3.14159265358979323846;

double CosineDecayed(double step, double decay_steps, double from, double alpha) {
  const double cosine = 0.5 * (1.0 + std::cos(kPi * (step / decay_steps)));
  return from * ((1.0 - alpha) * cosine + alpha);
}

double CosineDecay(const LearningRateSchedule& s, double step) {
  if (!s.warmup_target) {
    return CosineDecayed(std::min(step, s.decay_steps), s.decay_steps, s.initial_learning_rate,
                         s.alpha);
  }
  step = std::min(step, s.decay_steps + s.warmup_steps);
  if (step < s.warmup_steps) {
    return (*s.warmup_target - s.initial_learning_rate) * (step / s.warmup_steps) +
           s.initial_learning_rate;
  }
  return CosineDecayed(step - s.warmup_steps, s.decay_steps, *s.warmup_target, s.alpha);
}

double PolynomialDecay(const LearningRateSchedule& s, double step) {
  double decay_steps = s.decay_steps;
  if (s.cycle) {
    decay_steps *= step == 0 ? 1.0 : std::ceil(step / s.decay_steps);
  } else {
    step = std::min(step, decay_steps);
  }
  return (s.initial_learning_rate - s.end_learning_rate) *
             std::pow(1.0 - step / decay_steps, s.power) +
         s.end_learning_rate;
}

double PiecewiseConstantDecay(const LearningRateSchedule& s, double step) {
  for (size_t i = 0; i < s.boundaries.size(); ++i) {
    if (step <= s.boundaries[i]) return s.values[i];
  }
  return s.values.back();
}

// PyTorch's OneCycleLR.get_lr() at step_num = step: the phase that holds the
// step (or the last), annealed from its start to its end rate.
double OneCycle(const LearningRateSchedule& s, double step, int64_t run_steps) {
  const double total = static_cast<double>(s.total_steps.value_or(run_steps));
  const double initial = s.max_lr / s.div_factor;
  const double minimum = initial / s.final_div_factor;
  struct Phase {
    double end_step, start_lr, end_lr;
  };
  const double up_end = s.pct_start * total - 1.0;
  const Phase two[] = {{up_end, initial, s.max_lr}, {total - 1.0, s.max_lr, minimum}};
  const Phase three[] = {{up_end, initial, s.max_lr},
                         {2.0 * s.pct_start * total - 2.0, s.max_lr, initial},
                         {total - 1.0, initial, minimum}};
  const Phase* phases = s.three_phase ? three : two;
  const size_t count = s.three_phase ? 3 : 2;
  double start_step = 0;
  for (size_t i = 0; i < count; ++i) {
    const Phase& phase = phases[i];
    if (step <= phase.end_step || i + 1 == count) {
      const double pct = (step - start_step) / (phase.end_step - start_step);
      if (s.anneal_linear) return (phase.end_lr - phase.start_lr) * pct + phase.start_lr;
      return phase.end_lr +
             (phase.start_lr - phase.end_lr) / 2.0 * (std::cos(kPi * pct) + 1.0);
    }
    start_step = phase.end_step;
  }
  return minimum;
}

}  // namespace

double LearningRateAt(const LearningRateSchedule& s, int64_t step_count, int64_t run_steps) {
  const auto step = static_cast<double>(step_count);
  switch (s.kind) {
    case ScheduleKind::kConstant: return s.initial_learning_rate;
    case ScheduleKind::kCosineDecay: return CosineDecay(s, step);
    case ScheduleKind::kExponentialDecay: {
      const double p = s.staircase ? std::floor(step / s.decay_steps) : step / s.decay_steps;
      return s.initial_learning_rate * std::pow(s.decay_rate, p);
    }
    case ScheduleKind::kInverseTimeDecay: {
      const double p = s.staircase ? std::floor(step / s.decay_steps) : step / s.decay_steps;
      return s.initial_learning_rate / (1.0 + s.decay_rate * p);
    }
    case ScheduleKind::kPolynomialDecay: return PolynomialDecay(s, step);
    case ScheduleKind::kPiecewiseConstantDecay: return PiecewiseConstantDecay(s, step);
    case ScheduleKind::kOneCycle: return OneCycle(s, step, run_steps);
  }
  return s.initial_learning_rate;
}

}  // namespace mb
