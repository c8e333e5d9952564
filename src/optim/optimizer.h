// The optimizers, with Keras' exact update formulas (Keras 3,
// keras/src/optimizers/*.py), one pass per parameter tensor:
//
//  sgd:     without momentum  w -= lr * g
//           with momentum     m = momentum * m - lr * g
//                             w += m                      (plain)
//                             w += momentum * m - lr * g  (nesterov)
//  rmsprop: v = rho * v + (1 - rho) * g^2
//           w -= lr * g / sqrt(v + epsilon)     (epsilon inside the sqrt)
//  adam:    t = step number (from 1)
//           m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
//           w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)
//  adamw:   w -= w * weight_decay * lr, then the adam update
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/aligned_vector.h"

#include "config/config.h"

namespace mb {

class Optimizer {
 public:
  // One state slot per parameter tensor, sized by `tensor_sizes`.
  Optimizer(const OptimizerConfig& config, const std::vector<size_t>& tensor_sizes);

  // Starts the next step (advances t and Adam's bias corrections); then
  // call Update once for every tensor.
  void BeginStep();
  void Update(size_t tensor, float* weights, const float* gradients, size_t n);

  int64_t steps() const { return step_; }

  // For a kernel that applies the update itself (kernels/sparse_gemm.h):
  // RMSprop's hyper-parameters and tensor `tensor`'s velocity, or false when
  // the optimizer is not RMSprop.
  bool RmspropState(size_t tensor, float** velocity, float* learning_rate, float* rho,
                    float* epsilon);

 private:
  OptimizerConfig config_;
  // Per tensor: momentum (sgd), velocity (rmsprop), or m and v (adam/adamw).
  std::vector<AlignedVector<float>> first_, second_;
  int64_t step_ = 0;
  float adam_step_size_ = 0;  // lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
};

}  // namespace mb
