// Run-time dispatch of the optimizers' update passes (optimizer-inl.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "optim/optimizer.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "optim/optimizer-inl.h"

#if HWY_ONCE
#include <cmath>

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

Optimizer::Optimizer(const OptimizerConfig& config, const std::vector<size_t>& tensor_sizes)
    : config_(config) {
  const bool needs_first = config.kind != OptimizerKind::kSgd || config.momentum != 0.0f;
  const bool needs_second =
      config.kind == OptimizerKind::kAdam || config.kind == OptimizerKind::kAdamW;
  for (size_t size : tensor_sizes) {
    first_.emplace_back(needs_first ? size : 0, 0.0f);
    second_.emplace_back(needs_second ? size : 0, 0.0f);
  }
}

void Optimizer::BeginStep() {
  ++step_;
  if (config_.kind == OptimizerKind::kAdam || config_.kind == OptimizerKind::kAdamW) {
    adam_step_size_ = static_cast<float>(
        config_.learning_rate * std::sqrt(1.0 - PowerBySquaring(config_.beta_2, step_)) /
        (1.0 - PowerBySquaring(config_.beta_1, step_)));
  }
}

bool Optimizer::RmspropState(size_t tensor, float** velocity, float* learning_rate, float* rho,
                             float* epsilon) {
  if (config_.kind != OptimizerKind::kRmsprop) return false;
  *velocity = first_[tensor].data();
  *learning_rate = config_.learning_rate;
  *rho = config_.rho;
  *epsilon = config_.epsilon;
  return true;
}

void Optimizer::Update(size_t tensor, float* w, const float* g, size_t n) {
  const OptimizerConfig& c = config_;
  switch (c.kind) {
    case OptimizerKind::kSgd:
      if (c.momentum == 0.0f) {
        HWY_DYNAMIC_DISPATCH(SgdStep)(w, g, n, c.learning_rate);
      } else {
        HWY_DYNAMIC_DISPATCH(SgdMomentumStep)(w, g, first_[tensor].data(), n,
                                              c.learning_rate,
                                              c.momentum, c.nesterov);
      }
      return;
    case OptimizerKind::kRmsprop:
      HWY_DYNAMIC_DISPATCH(RmspropStep)(w, g, first_[tensor].data(), n, c.learning_rate,
                                        c.rho,
                                        c.epsilon);
      return;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW: {
      const float decay =
          c.kind == OptimizerKind::kAdamW ? c.weight_decay * c.learning_rate : 0.0f;
      HWY_DYNAMIC_DISPATCH(AdamStep)(w, g, first_[tensor].data(), second_[tensor].data(), n,
                                     adam_step_size_, c.beta_1, c.beta_2, c.epsilon, decay);
      return;
    }
  }
}

}  // namespace mb
#endif  // HWY_ONCE
