// The learning rate of each training step, from a schedule of
// config/schedule_config.h, with Keras' formulas
// (keras/src/optimizers/schedules/learning_rate_schedule.py) and, for
// one_cycle, PyTorch's OneCycleLR. `step` counts the optimizer's updates
// already applied, as Keras' optimizer.iterations does: the first update
// uses step 0, and after an epoch the rate Keras' History logs is the one
// at the steps taken so far.
//
//  cosine_decay:  s = min(step, decay_steps);  lr0 * ((1 - alpha) * c + alpha),
//                 c = (1 + cos(pi * s / decay_steps)) / 2; with a warmup_target,
//                 first a linear ramp from lr0 to it over warmup_steps
//  exponential_decay:  lr0 * decay_rate^(step / decay_steps)   (floored: staircase)
//  inverse_time_decay: lr0 / (1 + decay_rate * step / decay_steps)   (likewise)
//  polynomial_decay:   (lr0 - end) * (1 - s / decay_steps)^power + end, s as above,
//                      or with cycle decay_steps * ceil(step / decay_steps)
//  piecewise_constant_decay:  values[i] for boundaries[i-1] < step <= boundaries[i]
//  one_cycle:  from max_lr / div_factor up to max_lr over pct_start of the steps,
//              then down to max_lr / div_factor / final_div_factor (cosine or linear)
//
// Evaluated in double; the optimizers take it rounded to float32.
#pragma once

#include <cstdint>

#include "config/schedule_config.h"

namespace mb {

// `run_steps`: the run's steps in all, one_cycle's total_steps when the
// config gives none.
double LearningRateAt(const LearningRateSchedule& schedule, int64_t step, int64_t run_steps);

}  // namespace mb
