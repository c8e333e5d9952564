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

// Checks that `tensors` (a map of name -> something with a `shape`: TensorMap or
// SafetensorsFile::tensors()) holds every tensor of the model with exactly
// its shape and no other.
template <class Tensors>
void CheckTensorsFitModel(const Tensors& tensors, const std::string& source, const Model& model) {
  std::set<std::string> names;
  ForEachParameter(model, [&](const Parameter& p) {
    const auto it = tensors.find(p.name);
    if (it == tensors.end()) {
      throw InputError(source + ": tensor '" + p.name +
                       "' is missing (the config's model needs " + ShapeText(p.shape) + ")");
    }
    if (it->second.shape != p.shape) {
      throw InputError(source + ": tensor '" + p.name + "' has shape " +
                       ShapeText(it->second.shape) + " but the config's model needs " +
                       ShapeText(p.shape));
    }
    names.insert(p.name);
  });
  for (const auto& [name, tensor] : tensors) {
    if (names.count(name) == 0) {
      throw InputError(source + ": tensor '" + name + "' does not belong to the config's " +
                       std::to_string(model.layers.size()) + "-layer model");
    }
  }
}

// A NaN or infinite weight would only show as "diverged" after the first
// epoch, with a run directory made for it: it is a bad input file.
void RequireFinite(const Parameter& p, const std::string& source) {
  for (size_t i = 0; i < p.size(); ++i) {
    if (!std::isfinite(p.value[i])) {
      throw InputError(source + ": tensor '" + p.name + "' holds " +
                       (std::isnan(p.value[i]) ? "NaN" : "an infinity") + " at element " +
                       std::to_string(i) + " (init_from needs finite weights)");
    }
  }
}

}  // namespace

TensorMap ModelToTensors(const Model& model) {
  TensorMap tensors;
  ForEachParameter(model, [&](const Parameter& p) {
    tensors[p.name] = Tensor{p.shape, {p.value.begin(), p.value.end()}};
  });
  return tensors;
}

void LoadModelFromTensors(const TensorMap& tensors, const std::string& source, Model& model) {
  CheckTensorsFitModel(tensors, source, model);
  ForEachParameter(model, [&](Parameter& p) {
    const std::vector<float>& data = tensors.at(p.name).data;
    p.value.assign(data.begin(), data.end());
    RequireFinite(p, source);
  });
}

void LoadModelFromSafetensors(const SafetensorsFile& file, Model& model) {
  CheckTensorsFitModel(file.tensors(), file.path(), model);
  ForEachParameter(model, [&](Parameter& p) {
    file.ReadTensor(p.name, p.value.data());
    RequireFinite(p, file.path());
  });
}

}  // namespace mb
