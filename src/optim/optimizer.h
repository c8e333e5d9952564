// The optimizers, with Keras' exact update formulas (Keras 3,
// keras/src/optimizers/*.py), one pass per parameter tensor; t is the step
// number, from 1:
//
//  sgd:      without momentum  w -= lr * g
//            with momentum     m = momentum * m - lr * g
//                              w += m                      (plain)
//                              w += momentum * m - lr * g  (nesterov)
//  rmsprop:  v = rho * v + (1 - rho) * g^2
//            w -= lr * g / sqrt(v + epsilon)     (epsilon inside the sqrt)
//            centered: a = rho * a + (1 - rho) * g, and v - a^2 under the sqrt;
//            momentum: m = momentum * m + (the step), w -= m
//  adam:     m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
//            w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)
//            amsgrad: v_hat = max(v_hat, v) takes v's place in the step
//  adamw:    adam with weight_decay 0.004 by default
//  adagrad:  a += g^2 (a starts at initial_accumulator_value)
//            w -= lr * g / sqrt(a + epsilon)
//  adadelta: a = rho * a + (1 - rho) * g^2
//            delta = -sqrt(s + epsilon) * g / sqrt(a + epsilon)
//            s = rho * s + (1 - rho) * delta^2;  w += lr * delta
//  adamax:   m += (g - m) * (1 - beta_1);  u = max(beta_2 * u, |g|)
//            w -= lr * m / ((1 - beta_1^t) * (u + epsilon))
//  nadam:    u_t = beta_1 * (1 - 0.5 * 0.96^t);  P_t = u_1 * ... * u_t
//            m, v as adam;  m_hat = u_{t+1} * m / (1 - P_{t+1}) + (1 - u_t) * g / (1 - P_t)
//            w -= m_hat * lr / (sqrt(v / (1 - beta_2^t)) + epsilon)
//  lion:     w -= lr * sign(beta_1 * m + (1 - beta_1) * g)   (sign: -1, 0 or +1)
//            m = beta_2 * m + (1 - beta_2) * g
//
// Every optimizer, as Keras 3 applies them: gradient clipping first (one of
// clipnorm: g *= clipnorm / max(|g|, clipnorm) per tensor; global_clipnorm:
// the same with the norm over all tensors; clipvalue: g = clip(g, -v, v)),
// then weight decay (w -= w * weight_decay * lr), then the update.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/aligned_vector.h"
#include "config/config.h"
#include "kernels/sparse_gemm.h"
#include "nn/parameter.h"
#include "report/safetensors.h"

namespace mb {

// Everything an optimizer carries from one step to the next, for a
// checkpoint: a resumed run restores it and continues bit for bit.
struct OptimizerState {
  // Each state tensor, named "{parameter}.{slot}" with Keras' variable
  // names ("layers.0.kernel.velocity"), in the parameter's shape.
  TensorMap tensors;
  // The step count, the current learning rate and any scalar an optimizer
  // keeps (nadam's "u_product"): numbers that JSON round-trips exactly
  // (integers, doubles, and floats widened to double).
  nlohmann::json scalars = nlohmann::json::object();
};

// Nadam's factors of step t, computed once per step (u_t and P_t as in the
// formulas above).
struct NadamFactors {
  float u_next = 0;                  // u_{t+1}
  float one_minus_product_next = 0;  // 1 - P_{t+1}
  float one_minus_u = 0;             // 1 - u_t
  float one_minus_product = 0;       // 1 - P_t
  float one_minus_beta_2_power = 0;  // 1 - beta_2^t
};

class Optimizer {
 public:
  // One state slot per parameter, in the list's order; the parameters must
  // outlive the optimizer. RMSprop without weight decay or clipping offers
  // each parameter its update fused into the kernel that computes the
  // gradient (Parameter::fused_update).
  Optimizer(const OptimizerConfig& config, std::vector<Parameter*> parameters);
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One step: advances t (and the factors that depend on it), then updates every
  // parameter from its gradient, except those whose backward pass applied
  // the fused update (their flag is cleared).
  void Step();

  int64_t steps() const { return step_; }

  // The rate the following steps use (a schedule's value at the next step:
  // optim/learning_rate_schedule.h), in the fused updates too.
  void set_learning_rate(float learning_rate);
  float learning_rate() const { return config_.learning_rate; }

  // A copy of the state, and its restoration into an optimizer built from
  // the same config over parameters of the same names and shapes. Restore
  // throws InputError naming `source` and the tensor or scalar when one is
  // missing, extra or of another shape.
  OptimizerState State() const;
  void Restore(const OptimizerState& state, const std::string& source);

  // The state slots the optimizer keeps per parameter, each the parameter's
  // size: 0 for plain SGD; 1 for SGD with momentum, RMSprop (one more each
  // for its momentum and centered), Adagrad and Lion; 2 for Adam and AdamW
  // (3 with amsgrad), Adadelta, Adamax and Nadam.
  static int StateSlots(const OptimizerConfig& config);

 private:
  void AdvanceStepFactors();
  void Update(size_t slot, float* weights, const float* gradients, size_t n);
  void ClipGradients();
  // The state vectors of `slot` with their Keras names; empty ones left out.
  std::vector<std::pair<std::string, AlignedVector<float>*>> SlotState(size_t slot);

  OptimizerConfig config_;
  std::vector<Parameter*> parameters_;
  // Per slot, in the order of SlotNames (optimizer.cc): momentum (sgd);
  // velocity, momentum, average gradient (rmsprop); m, v, v_hat
  // (adam/adamw); accumulator (adagrad); accumulated gradient and delta
  // (adadelta); m and the norm u (adamax); m, v (nadam); m (lion). Unused
  // ones are empty.
  std::vector<AlignedVector<float>> first_, second_, third_;
  // The updates offered fused (RMSprop only), one per tensor offered one;
  // reserved up front, as the parameters point into it.
  std::vector<SparseRmspropUpdate> fused_;
  int64_t step_ = 0;
  // The factors of step t (AdvanceStepFactors).
  float adam_step_size_ = 0;      // lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
  float adamax_correction_ = 0;   // 1 - beta_1^t
  NadamFactors nadam_;
  // Nadam's P_t, the product of every u so far: state that Keras keeps (its
  // u_product variable, updated once per step) and a checkpoint saves, as
  // the scalar "u_product". In double, as the other factors are computed.
  double u_product_ = 1.0;
};

}  // namespace mb
