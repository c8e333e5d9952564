#include "nn/checkpoint.h"

#include <sstream>

#include "common/error.h"

namespace mb {

namespace {

std::string KernelName(size_t layer) { return "layers." + std::to_string(layer) + ".kernel"; }
std::string BiasName(size_t layer) { return "layers." + std::to_string(layer) + ".bias"; }

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::ostringstream text;
  text << '[';
  for (size_t i = 0; i < shape.size(); ++i) text << (i ? ", " : "") << shape[i];
  text << ']';
  return text.str();
}

void CopyTensor(const TensorMap& tensors, const std::string& source, const std::string& name,
                const std::vector<int64_t>& shape, AlignedVector<float>& destination) {
  const auto it = tensors.find(name);
  if (it == tensors.end()) {
    throw InputError(source + ": tensor '" + name + "' is missing (the config's model needs " +
                     ShapeText(shape) + ")");
  }
  if (it->second.shape != shape) {
    throw InputError(source + ": tensor '" + name + "' has shape " +
                     ShapeText(it->second.shape) + " but the config's model needs " +
                     ShapeText(shape));
  }
  destination.assign(it->second.data.begin(), it->second.data.end());
}

}  // namespace

TensorMap MlpToTensors(const Mlp& model) {
  TensorMap tensors;
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const DenseLayer& layer = model.layers[l];
    const auto inputs = static_cast<int64_t>(layer.inputs);
    const auto units = static_cast<int64_t>(layer.units);
    tensors[KernelName(l)] = Tensor{{inputs, units}, {layer.kernel.begin(), layer.kernel.end()}};
    tensors[BiasName(l)] = Tensor{{units}, {layer.bias.begin(), layer.bias.end()}};
  }
  return tensors;
}

void LoadMlpFromTensors(const TensorMap& tensors, const std::string& source, Mlp& model) {
  for (size_t l = 0; l < model.layers.size(); ++l) {
    DenseLayer& layer = model.layers[l];
    const auto inputs = static_cast<int64_t>(layer.inputs);
    const auto units = static_cast<int64_t>(layer.units);
    CopyTensor(tensors, source, KernelName(l), {inputs, units}, layer.kernel);
    CopyTensor(tensors, source, BiasName(l), {units}, layer.bias);
  }
  if (tensors.size() != 2 * model.layers.size()) {
    for (const auto& [name, tensor] : tensors) {
      bool known = false;
      for (size_t l = 0; l < model.layers.size() && !known; ++l) {
        known = name == KernelName(l) || name == BiasName(l);
      }
      if (!known) {
        throw InputError(source + ": tensor '" + name + "' does not belong to the config's " +
                         std::to_string(model.layers.size()) + "-layer model");
      }
    }
  }
}

}  // namespace mb
