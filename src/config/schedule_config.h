// A learning rate that changes with the training step: Keras' schedules
// (keras.optimizers.schedules) by their names and parameters, and PyTorch's
// OneCycleLR. The schema reads them here; optim/learning_rate_schedule.h
// evaluates them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace mb {

namespace schema {
class ObjectReader;
}

enum class ScheduleKind : uint8_t {
  kConstant,
  kCosineDecay,
  kExponentialDecay,
  kPiecewiseConstantDecay,
  kPolynomialDecay,
  kInverseTimeDecay,
  kOneCycle,
};

struct LearningRateSchedule {
  ScheduleKind kind = ScheduleKind::kConstant;
  double initial_learning_rate = 0.001;  // the constant rate, or where a decay starts
  double decay_steps = 1;
  double decay_rate = 0;                 // exponential_decay, inverse_time_decay
  bool staircase = false;                // exponential_decay, inverse_time_decay
  double alpha = 0;                      // cosine_decay
  std::optional<double> warmup_target;   // cosine_decay
  double warmup_steps = 0;               // cosine_decay
  std::vector<double> boundaries, values;  // piecewise_constant_decay
  double end_learning_rate = 1e-4;       // polynomial_decay
  double power = 1;                      // polynomial_decay
  bool cycle = false;                    // polynomial_decay
  // one_cycle, with PyTorch's OneCycleLR names; no total_steps: the run's.
  double max_lr = 0;
  std::optional<int64_t> total_steps;
  double pct_start = 0.3;
  bool anneal_linear = false;  // anneal_strategy "linear" (default "cos")
  double div_factor = 25;
  double final_div_factor = 1e4;
  bool three_phase = false;
};

// Reads the optimizer's "learning_rate" when it is an object: a schedule,
// its "name" and parameters with their defaults, recorded resolved.
LearningRateSchedule ReadSchedule(schema::ObjectReader& optimizer);

}  // namespace mb
