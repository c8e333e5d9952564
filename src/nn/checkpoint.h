// The model's parameters as named tensors, for model.safetensors and
// init_from: layer i's kernel is "layers.{i}.kernel" with shape
// [inputs, units] (the Keras layout) and its bias "layers.{i}.bias" [units].
#pragma once

#include <string>

#include "nn/mlp.h"
#include "report/safetensors.h"

namespace mb {

TensorMap MlpToTensors(const Mlp& model);

// Copies the tensors into `model`, whose shapes come from the config. Every
// tensor must be present with exactly the model's shape and no other tensor
// may be present; otherwise InputError naming `source` and the tensor.
void LoadMlpFromTensors(const TensorMap& tensors, const std::string& source, Mlp& model);

}  // namespace mb
