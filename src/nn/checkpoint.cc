#include "nn/checkpoint.h"

#include <cmath>
#include <set>
#include <sstream>

#include "common/error.h"

namespace mb {

namespace {

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
  // A NaN or infinite weight would only show as "diverged" after the first
  // epoch, with a run directory made for it: it is a bad input file.
  const std::vector<float>& values = it->second.data;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw InputError(source + ": tensor '" + name + "' holds " +
                       (std::isnan(values[i]) ? "NaN" : "an infinity") + " at element " +
                       std::to_string(i) + " (init_from needs finite weights)");
    }
  }
  destination.assign(values.begin(), values.end());
}

}  // namespace

TensorMap ModelToTensors(const Mlp& model) {
  TensorMap tensors;
  ForEachParameter(model, [&](const Parameter& p) {
    tensors[p.name] = Tensor{p.shape, {p.value.begin(), p.value.end()}};
  });
  return tensors;
}

void LoadModelFromTensors(const TensorMap& tensors, const std::string& source, Mlp& model) {
  std::set<std::string> names;
  ForEachParameter(model, [&](Parameter& p) {
    CopyTensor(tensors, source, p.name, p.shape, p.value);
    names.insert(p.name);
  });
  for (const auto& [name, tensor] : tensors) {
    if (names.count(name) == 0) {
      throw InputError(source + ": tensor '" + name + "' does not belong to the config's " +
                       std::to_string(model.layers.size()) + "-layer model");
    }
  }
}

}  // namespace mb
