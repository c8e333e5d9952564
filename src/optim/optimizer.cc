// Run-time dispatch of the optimizers' update passes (optimizer-inl.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "optim/optimizer.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "optim/optimizer-inl.h"

#if HWY_ONCE
#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "common/error.h"
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
HWY_EXPORT(RmspropOptionsStep);
HWY_EXPORT(WeightDecayStep);

int Optimizer::StateSlots(const OptimizerConfig& config) {
  switch (config.kind) {
    case OptimizerKind::kSgd: return config.momentum != 0.0f ? 1 : 0;
    case OptimizerKind::kRmsprop:
      return 1 + (config.momentum != 0.0f ? 1 : 0) + (config.centered ? 1 : 0);
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW: return config.amsgrad ? 3 : 2;
  }
  return 2;
}

Optimizer::Optimizer(const OptimizerConfig& config, std::vector<Parameter*> parameters)
    : config_(config), parameters_(std::move(parameters)) {
  const bool rmsprop = config.kind == OptimizerKind::kRmsprop;
  const bool needs_first = StateSlots(config) >= 1;
  const bool needs_second = rmsprop ? config.momentum != 0.0f : StateSlots(config) >= 2;
  const bool needs_third = rmsprop ? config.centered : config.amsgrad;
  for (const Parameter* p : parameters_) {
    first_.emplace_back(needs_first ? p->size() : 0, 0.0f);
    second_.emplace_back(needs_second ? p->size() : 0, 0.0f);
    third_.emplace_back(needs_third ? p->size() : 0, 0.0f);
  }
  // The fused kernel applies RMSprop alone: weight decay and clipping need
  // the whole gradient, or the weights, before the update.
  const bool plain_update = config.weight_decay == 0.0f && !config.clipnorm &&
                            !config.clipvalue && !config.global_clipnorm &&
                            config.momentum == 0.0f && !config.centered;
  if (config.kind == OptimizerKind::kRmsprop && plain_update) {
    fused_.reserve(parameters_.size());  // the parameters point into it
    for (size_t slot = 0; slot < parameters_.size(); ++slot) {
      Parameter& p = *parameters_[slot];
      if (p.regularizer.active()) continue;  // its gradient is not final in the kernel
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
  ClipGradients();
  for (size_t slot = 0; slot < parameters_.size(); ++slot) {
    Parameter& p = *parameters_[slot];
    if (p.updated_in_backward) {
      p.updated_in_backward = false;
      continue;
    }
    if (config_.weight_decay != 0.0f) {
      HWY_DYNAMIC_DISPATCH(WeightDecayStep)(p.value.data(), p.size(), config_.weight_decay,
                                            config_.learning_rate);
    }
    Update(slot, p.value.data(), p.gradient.data(), p.size());
  }
}

std::vector<std::pair<std::string, AlignedVector<float>*>> Optimizer::SlotState(size_t slot) {
  // Keras' variable names for what first_, second_ and third_ hold.
  const char* names[3] = {"momentum", "velocity", "velocity_hat"};
  if (config_.kind == OptimizerKind::kRmsprop) {
    names[0] = "velocity", names[1] = "momentum", names[2] = "average_gradient";
  }
  std::vector<std::pair<std::string, AlignedVector<float>*>> state;
  AlignedVector<float>* vectors[3] = {&first_[slot], &second_[slot], &third_[slot]};
  for (int i = 0; i < 3; ++i) {
    if (!vectors[i]->empty()) state.emplace_back(names[i], vectors[i]);
  }
  return state;
}

OptimizerState Optimizer::State() const {
  OptimizerState state;
  for (size_t slot = 0; slot < parameters_.size(); ++slot) {
    const Parameter& p = *parameters_[slot];
    for (const auto& [name, values] : const_cast<Optimizer*>(this)->SlotState(slot)) {
      state.tensors[p.name + "." + name] = {p.shape, {values->begin(), values->end()}};
    }
  }
  state.scalars["steps"] = step_;
  state.scalars["learning_rate"] = double{config_.learning_rate};
  return state;
}

void Optimizer::Restore(const OptimizerState& state, const std::string& source) {
  std::set<std::string> expected;
  for (size_t slot = 0; slot < parameters_.size(); ++slot) {
    const Parameter& p = *parameters_[slot];
    for (const auto& [slot_name, values] : SlotState(slot)) {
      const std::string name = p.name + "." + slot_name;
      expected.insert(name);
      const auto found = state.tensors.find(name);
      if (found == state.tensors.end()) {
        throw InputError(source + ": optimizer state " + name + " is missing");
      }
      if (found->second.shape != p.shape || found->second.data.size() != values->size()) {
        throw InputError(source + ": optimizer state " + name +
                         " does not have the shape of parameter " + p.name);
      }
      std::copy(found->second.data.begin(), found->second.data.end(), values->begin());
    }
  }
  for (const auto& [name, tensor] : state.tensors) {
    if (!expected.count(name)) {
      throw InputError(source + ": optimizer state " + name + " does not belong to this " +
                       "optimizer and model");
    }
  }
  const auto scalar = [&](const char* name) -> const nlohmann::json& {
    const auto found = state.scalars.find(name);
    if (found == state.scalars.end() || !found->is_number()) {
      throw InputError(source + ": optimizer scalar " + name + " is missing or not a number");
    }
    return *found;
  };
  const nlohmann::json& steps = scalar("steps");
  if (!steps.is_number_integer() || steps.get<int64_t>() < 0) {
    throw InputError(source + ": optimizer scalar steps is not a count of steps");
  }
  step_ = steps.get<int64_t>();
  set_learning_rate(static_cast<float>(scalar("learning_rate").get<double>()));
}

// Keras 3's _clip_gradients, in float32 as Keras computes it, with the
// norms summed in double in element order on one thread: the same on every
// machine and thread count.
void Optimizer::ClipGradients() {
  const auto squared_norm = [](const Parameter& p) {
    double sum = 0;
    for (float g : p.gradient) sum += double{g} * double{g};
    return sum;
  };
  if (config_.clipnorm) {
    // clip_by_norm: g * clipnorm / max(norm, clipnorm), always evaluated.
    const float clip = *config_.clipnorm;
    for (Parameter* p : parameters_) {
      const float norm = static_cast<float>(std::sqrt(squared_norm(*p)));
      const float divisor = std::max(norm, clip);
      for (float& g : p->gradient) g = g * clip / divisor;
    }
  } else if (config_.global_clipnorm) {
    // clip_by_global_norm: every g * clip * min(1 / norm, 1 / clip), the
    // norm over all tensors.
    const float clip = *config_.global_clipnorm;
    double sum = 0;
    for (const Parameter* p : parameters_) sum += squared_norm(*p);
    const float norm = static_cast<float>(std::sqrt(sum));
    const float scale = clip * std::min(1.0f / norm, 1.0f / clip);
    for (Parameter* p : parameters_) {
      for (float& g : p->gradient) g *= scale;
    }
  } else if (config_.clipvalue) {
    const float clip = *config_.clipvalue;
    for (Parameter* p : parameters_) {
      for (float& g : p->gradient) g = std::min(std::max(g, -clip), clip);
    }
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
      if (c.momentum != 0.0f || c.centered) {
        HWY_DYNAMIC_DISPATCH(RmspropOptionsStep)(
            w, g, first_[slot].data(), second_[slot].empty() ? nullptr : second_[slot].data(),
            third_[slot].empty() ? nullptr : third_[slot].data(), n, c.learning_rate, c.rho,
            c.epsilon, c.momentum);
      } else {
        HWY_DYNAMIC_DISPATCH(RmspropStep)(w, g, first_[slot].data(), n, c.learning_rate, c.rho,
                                          c.epsilon);
      }
      return;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW: {
      HWY_DYNAMIC_DISPATCH(AdamStep)(w, g, first_[slot].data(), second_[slot].data(),
                                     third_[slot].empty() ? nullptr : third_[slot].data(), n,
                                     adam_step_size_, c.beta_1, c.beta_2, c.epsilon);
      return;
    }
  }
}

}  // namespace mb
#endif  // HWY_ONCE
