#include "optim/optimizer.h"

#include <cmath>

namespace mb {

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
    const double t = static_cast<double>(step_);
    adam_step_size_ = static_cast<float>(config_.learning_rate *
                                         std::sqrt(1.0 - std::pow(config_.beta_2, t)) /
                                         (1.0 - std::pow(config_.beta_1, t)));
  }
}

void Optimizer::Update(size_t tensor, float* w, const float* g, size_t n) {
  const float lr = config_.learning_rate;
  switch (config_.kind) {
    case OptimizerKind::kSgd: {
      if (config_.momentum == 0.0f) {
        for (size_t i = 0; i < n; ++i) w[i] -= lr * g[i];
        return;
      }
      const float mu = config_.momentum;
      float* m = first_[tensor].data();
      for (size_t i = 0; i < n; ++i) {
        m[i] = mu * m[i] - lr * g[i];
        w[i] += config_.nesterov ? mu * m[i] - lr * g[i] : m[i];
      }
      return;
    }
    case OptimizerKind::kRmsprop: {
      const float rho = config_.rho, eps = config_.epsilon;
      float* v = first_[tensor].data();
      for (size_t i = 0; i < n; ++i) {
        v[i] = rho * v[i] + (1.0f - rho) * g[i] * g[i];
        w[i] -= lr * g[i] / std::sqrt(v[i] + eps);
      }
      return;
    }
    case OptimizerKind::kAdamW:
    case OptimizerKind::kAdam: {
      const float b1 = config_.beta_1, b2 = config_.beta_2, eps = config_.epsilon;
      const float decay = config_.kind == OptimizerKind::kAdamW ? config_.weight_decay * lr : 0.0f;
      const float step_size = adam_step_size_;
      float* m = first_[tensor].data();
      float* v = second_[tensor].data();
      for (size_t i = 0; i < n; ++i) {
        if (decay != 0.0f) w[i] -= w[i] * decay;
        m[i] += (g[i] - m[i]) * (1.0f - b1);
        v[i] += (g[i] * g[i] - v[i]) * (1.0f - b2);
        w[i] -= step_size * m[i] / (std::sqrt(v[i]) + eps);
      }
      return;
    }
  }
}

}  // namespace mb
