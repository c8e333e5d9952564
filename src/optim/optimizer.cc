// Run-time dispatch of the optimizers' update passes (optimizer-inl.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "optim/optimizer.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "optim/optimizer-inl.h"

#if HWY_ONCE
#include <cmath>
#include <utility>

#include "optim/optimizer.h"

namespace mb {

namespace {

// base^exponent by repeated squaring: the same bits on every machine, where
// the C library's pow differs between libm versions and CPUs. Its relative
// error grows to about exponent * 2^-53, 1e-10 after 10^6 steps: far below
// the float32 the step size is rounded to.
double PowerBySquaring(double base, int64_t exponent) {
  double result = 1.0;
  for (; exponent > 0; exponent >>= 1, base *= base) {
    if (exponent & 1) result *= base;
  }
  return result;
}

}  // namespace

HWY_EXPORT(SgdStep);
HWY_EXPORT(SgdMomentumStep);
HWY_EXPORT(RmspropStep);
HWY_EXPORT(AdamStep);

int Optimizer::StateSlots(const OptimizerConfig& config) {
  switch (config.kind) {
    case OptimizerKind::kSgd: return config.momentum != 0.0f ? 1 : 0;
    case OptimizerKind::kRmsprop: return 1;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW: return 2;
  }
  return 2;
}

Optimizer::Optimizer(const OptimizerConfig& config, std::vector<Parameter*> parameters)
    : config_(config), parameters_(std::move(parameters)) {
  const bool needs_first = StateSlots(config) >= 1;
  const bool needs_second = StateSlots(config) >= 2;
  for (const Parameter* p : parameters_) {
    first_.emplace_back(needs_first ? p->size() : 0, 0.0f);
    second_.emplace_back(needs_second ? p->size() : 0, 0.0f);
  }
  if (config.kind == OptimizerKind::kRmsprop) {
    fused_.reserve(parameters_.size());  // the parameters point into it
    for (size_t slot = 0; slot < parameters_.size(); ++slot) {
      Parameter& p = *parameters_[slot];
      fused_.push_back({p.value.data(), first_[slot].data(), config.learning_rate, config.rho,
                        config.epsilon});
      p.fused_update = &fused_.back();
    }
  }
}

void Optimizer::set_learning_rate(float learning_rate) {
  config_.learning_rate = learning_rate;
  for (SparseRmspropUpdate& fused : fused_) fused.learning_rate = learning_rate;
}

void Optimizer::Step() {
  ++step_;
  if (config_.kind == OptimizerKind::kAdam || config_.kind == OptimizerKind::kAdamW) {
    adam_step_size_ = static_cast<float>(
        config_.learning_rate * std::sqrt(1.0 - PowerBySquaring(config_.beta_2, step_)) /
        (1.0 - PowerBySquaring(config_.beta_1, step_)));
  }
  for (size_t slot = 0; slot < parameters_.size(); ++slot) {
    Parameter& p = *parameters_[slot];
    if (p.updated_in_backward) {
      p.updated_in_backward = false;
      continue;
    }
    Update(slot, p.value.data(), p.gradient.data(), p.size());
  }
}

void Optimizer::Update(size_t slot, float* w, const float* g, size_t n) {
  const OptimizerConfig& c = config_;
  switch (c.kind) {
    case OptimizerKind::kSgd:
      if (c.momentum == 0.0f) {
        HWY_DYNAMIC_DISPATCH(SgdStep)(w, g, n, c.learning_rate);
      } else {
        HWY_DYNAMIC_DISPATCH(SgdMomentumStep)(w, g, first_[slot].data(), n,
                                              c.learning_rate,
                                              c.momentum, c.nesterov);
      }
      return;
    case OptimizerKind::kRmsprop:
      HWY_DYNAMIC_DISPATCH(RmspropStep)(w, g, first_[slot].data(), n, c.learning_rate,
                                        c.rho,
                                        c.epsilon);
      return;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW: {
      const float decay =
          c.kind == OptimizerKind::kAdamW ? c.weight_decay * c.learning_rate : 0.0f;
      HWY_DYNAMIC_DISPATCH(AdamStep)(w, g, first_[slot].data(), second_[slot].data(), n,
                                     adam_step_size_, c.beta_1, c.beta_2, c.epsilon, decay);
      return;
    }
  }
}

}  // namespace mb
#endif  // HWY_ONCE
