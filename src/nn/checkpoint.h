// The model's parameters as named tensors, for model.safetensors and
// init_from: each Parameter under its name and shape (for a dense layer i,
// "layers.{i}.kernel" [inputs, units], the Keras layout, and
// "layers.{i}.bias" [units]).
#pragma once

#include <string>

#include "nn/model.h"
#include "report/safetensors.h"

namespace mb {

TensorMap ModelToTensors(const Model& model);

// Copies the tensors into `model`, whose shapes come from the config. Every
// tensor must be present with exactly the model's shape and finite values,
// and no other tensor may be present; otherwise InputError naming `source`
// and the tensor.
void LoadModelFromTensors(const TensorMap& tensors, const std::string& source, Model& model);

// The same from a file, with the same checks made on its header before any
// data is read; then each tensor is read straight into its parameter, so
// loading costs no memory beyond the model's.
void LoadModelFromSafetensors(const SafetensorsFile& file, Model& model);

}  // namespace mb
