// Run-time dispatch of the optimizers' update passes (optimizer-inl.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "optim/optimizer.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "optim/optimizer-inl.h"

#if HWY_ONCE
#include <algorithm>
#include <array>
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

// Which of the three state vectors (first_, second_, third_) `config` uses.
std::array<bool, 3> UsedSlots(const OptimizerConfig& config) {
  switch (config.kind) {
    case OptimizerKind::kSgd: return {config.momentum != 0.0f, false, false};
    case OptimizerKind::kRmsprop: return {true, config.momentum != 0.0f, config.centered};
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW: return {true, true, config.amsgrad};
    case OptimizerKind::kAdagrad:
    case OptimizerKind::kLion: return {true, false, false};
    case OptimizerKind::kAdadelta:
    case OptimizerKind::kAdamax:
    case OptimizerKind::kNadam: return {true, true, false};
  }
  return {true, true, true};
}

// Keras 3's variable names for what the three state vectors hold.
std::array<const char*, 3> SlotNames(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kRmsprop: return {"velocity", "momentum", "average_gradient"};
    case OptimizerKind::kAdagrad: return {"accumulator", "", ""};
    case OptimizerKind::kAdadelta: return {"accumulated_grad", "accumulated_delta_var", ""};
    case OptimizerKind::kAdamax: return {"momentum", "norm", ""};
    default: return {"momentum", "velocity", "velocity_hat"};  // sgd, adam(w), nadam, lion
  }
}

}  // namespace

HWY_EXPORT(SgdStep);
HWY_EXPORT(SgdMomentumStep);
HWY_EXPORT(RmspropStep);
HWY_EXPORT(AdamStep);
HWY_EXPORT(RmspropOptionsStep);
HWY_EXPORT(WeightDecayStep);
HWY_EXPORT(AdagradStep);
HWY_EXPORT(AdadeltaStep);
HWY_EXPORT(AdamaxStep);
HWY_EXPORT(NadamStep);
HWY_EXPORT(LionStep);

int Optimizer::StateSlots(const OptimizerConfig& config) {
  const std::array<bool, 3> used = UsedSlots(config);
  return used[0] + used[1] + used[2];
}

Optimizer::Optimizer(const OptimizerConfig& config, std::vector<Parameter*> parameters)
    : config_(config), parameters_(std::move(parameters)) {
  const std::array<bool, 3> used = UsedSlots(config);
  // Adagrad's accumulators start at initial_accumulator_value, all else at 0.
  const float first_value =
      config.kind == OptimizerKind::kAdagrad ? config.initial_accumulator_value : 0.0f;
  for (const Parameter* p : parameters_) {
    first_.emplace_back(used[0] ? p->size() : 0, first_value);
    second_.emplace_back(used[1] ? p->size() : 0, 0.0f);
    third_.emplace_back(used[2] ? p->size() : 0, 0.0f);
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
  AdvanceStepFactors();
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

// The factors of step t = step_ that do not depend on the element, in
// double from the float32 parameters and rounded to float32 once, as
// adam's step size: 1 - beta^t in float32 would lose up to 1e-5 of itself
// to cancellation (1 - 0.999^2). Powers by repeated squaring, and a fixed
// order of IEEE operations in double (the build sets -ffp-contract=off):
// the same bits on every machine.
void Optimizer::AdvanceStepFactors() {
  const OptimizerConfig& c = config_;
  const auto one_minus_power = [&](double base) {
    return static_cast<float>(1.0 - PowerBySquaring(base, step_));
  };
  switch (c.kind) {
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW:
      adam_step_size_ = static_cast<float>(c.learning_rate *
                                           std::sqrt(1.0 - PowerBySquaring(c.beta_2, step_)) /
                                           (1.0 - PowerBySquaring(c.beta_1, step_)));
      return;
    case OptimizerKind::kAdamax: adamax_correction_ = one_minus_power(c.beta_1); return;
    case OptimizerKind::kNadam: {
      // u_t = beta_1 * (1 - 0.5 * 0.96^t), Keras 3's integral power of its
      // float32 0.96 (Keras 2's 0.96^(0.004 t) is gone).
      const auto u = [&](int64_t t) {
        return double{c.beta_1} * (1.0 - 0.5 * PowerBySquaring(double{0.96f}, t));
      };
      // Keras multiplies its u_product variable by u_t once per step,
      // before updating the variables.
      u_product_ *= u(step_);
      const double u_next = u(step_ + 1);
      nadam_.u_next = static_cast<float>(u_next);
      nadam_.one_minus_product_next = static_cast<float>(1.0 - u_product_ * u_next);
      nadam_.one_minus_u = static_cast<float>(1.0 - u(step_));
      nadam_.one_minus_product = static_cast<float>(1.0 - u_product_);
      nadam_.one_minus_beta_2_power = one_minus_power(c.beta_2);
      return;
    }
    default: return;
  }
}

std::vector<std::pair<std::string, AlignedVector<float>*>> Optimizer::SlotState(size_t slot) {
  const std::array<const char*, 3> names = SlotNames(config_.kind);
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
  if (config_.kind == OptimizerKind::kNadam) state.scalars["u_product"] = u_product_;
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
  std::set<std::string> known = {"steps", "learning_rate"};
  if (config_.kind == OptimizerKind::kNadam) {
    u_product_ = scalar("u_product").get<double>();
    known.insert("u_product");
  }
  for (const auto& item : state.scalars.items()) {
    if (!known.count(item.key())) {
      throw InputError(source + ": optimizer scalar " + item.key() + " does not belong to this " +
                       "optimizer");
    }
  }
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
    case OptimizerKind::kAdagrad:
      HWY_DYNAMIC_DISPATCH(AdagradStep)(w, g, first_[slot].data(), n, c.learning_rate,
                                        c.epsilon);
      return;
    case OptimizerKind::kAdadelta:
      HWY_DYNAMIC_DISPATCH(AdadeltaStep)(w, g, first_[slot].data(), second_[slot].data(), n,
                                         c.learning_rate, c.rho, c.epsilon);
      return;
    case OptimizerKind::kAdamax:
      HWY_DYNAMIC_DISPATCH(AdamaxStep)(w, g, first_[slot].data(), second_[slot].data(), n,
                                       c.learning_rate, c.beta_1, c.beta_2, c.epsilon,
                                       adamax_correction_);
      return;
    case OptimizerKind::kNadam:
      HWY_DYNAMIC_DISPATCH(NadamStep)(w, g, first_[slot].data(), second_[slot].data(), n,
                                      c.learning_rate, c.beta_1, c.beta_2, c.epsilon, nadam_);
      return;
    case OptimizerKind::kLion:
      HWY_DYNAMIC_DISPATCH(LionStep)(w, g, first_[slot].data(), n, c.learning_rate, c.beta_1,
                                     c.beta_2);
      return;
  }
}

}  // namespace mb
#endif  // HWY_ONCE
