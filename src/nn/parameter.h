// A trainable tensor of a model: its values and gradient, how it starts, and
// what the optimizer may do inside the kernel that computes its gradient.
// Every layer owns its tensors as Parameters, and ForEachParameter
// (nn/model.h) is the one walk over a model's tensors: initialisation, the
// optimizer step, the finiteness check, counting and checkpoints all use it,
// so a new layer type declares its tensors once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/aligned_vector.h"
#include "config/model_config.h"
#include "kernels/sparse_gemm.h"

namespace mb {

// How a tensor's values are drawn (nn/init.h): the scheme, its fans as Keras
// computes them, and the RNG stream (common/rng.h) it draws from.
struct ParameterInit {
  Initializer scheme = Initializer::kZeros;
  size_t fan_in = 0, fan_out = 0;
  uint64_t rng_stream = 0;
};

// The fan_in a layer's bias [units] is drawn with: Keras' (units), or for
// pytorch_default the layer's own fan_in, as torch.nn.Linear and Conv2d
// bound their bias by the weight's fan_in.
inline size_t BiasFanIn(Initializer scheme, size_t layer_fan_in, size_t units) {
  return scheme == Initializer::kPytorchDefault ? layer_fan_in : units;
}

struct Parameter {
  std::string name;            // "layers.0.kernel": its name in model.safetensors
  std::vector<int64_t> shape;  // the Keras layout
  AlignedVector<float> value;
  AlignedVector<float> gradient;  // same size; written by the backward pass
  ParameterInit init;
  // Added to the loss (nn/regularization.h); the optimizer offers no fused
  // update to a regularized tensor, whose gradient needs the term first.
  Regularizer regularizer;
  // An update the optimizer offers to apply inside the kernel that computes
  // this tensor's gradient, while the gradient is in registers (set by the
  // optimizer's constructor; null when it offers none). A backward pass
  // that applies it sets updated_in_backward, and the optimizer's step then
  // leaves the tensor alone (and clears the flag).
  const SparseRmspropUpdate* fused_update = nullptr;
  bool updated_in_backward = false;

  size_t size() const { return value.size(); }
  // The element count its shape describes (allocated or not).
  size_t ShapeSize() const {
    size_t n = 1;
    for (int64_t extent : shape) n *= static_cast<size_t>(extent);
    return n;
  }
};

// A parameter of `shape`, values and gradient zeroed; without `allocate`
// only its description, for budgeting memory before anything is allocated.
inline Parameter MakeParameter(std::string name, std::vector<int64_t> shape,
                               ParameterInit init, bool allocate = true) {
  size_t size = 1;
  for (int64_t extent : shape) size *= static_cast<size_t>(extent);
  Parameter p;
  p.name = std::move(name);
  p.shape = std::move(shape);
  if (allocate) {
    p.value.assign(size, 0.0f);
    p.gradient.assign(size, 0.0f);
  }
  p.init = init;
  return p;
}

}  // namespace mb
