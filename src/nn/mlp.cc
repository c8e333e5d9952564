#include "nn/mlp.h"

#include <array>
#include <cstring>
#include <string>

#include "common/rng.h"
#include "data/pixel_scale.h"
#include "kernels/gemm.h"
#include "kernels/sparse_gemm.h"

namespace mb {

size_t Mlp::ParameterCount() const {
  size_t count = 0;
  ForEachParameter(*this, [&](const Parameter& p) { count += p.size(); });
  return count;
}

std::vector<Parameter*> ParameterList(Mlp& model) {
  std::vector<Parameter*> list;
  ForEachParameter(model, [&](Parameter& p) { list.push_back(&p); });
  return list;
}

Mlp BuildMlp(size_t inputs, const std::vector<LayerConfig>& layers) {
  Mlp model;
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerConfig& config = layers[l];
    DenseLayer layer;
    layer.inputs = inputs;
    layer.units = static_cast<size_t>(config.units);
    layer.activation = config.activation;
    const std::string prefix = "layers." + std::to_string(l) + ".";
    const auto in = static_cast<int64_t>(layer.inputs);
    const auto units = static_cast<int64_t>(layer.units);
    // Keras' fans: a kernel [in, out] has fan_in = in, fan_out = out; a
    // bias [n] has fan_in = fan_out = n.
    layer.kernel = MakeParameter(
        prefix + "kernel", {in, units},
        {config.kernel_initializer, layer.inputs, layer.units, kInitStream + 2 * l});
    layer.bias = MakeParameter(
        prefix + "bias", {units},
        {config.bias_initializer, layer.units, layer.units, kInitStream + 2 * l + 1});
    inputs = layer.units;
    model.layers.push_back(std::move(layer));
  }
  return model;
}

MlpWorkspace BuildWorkspace(const Mlp& model, size_t capacity, bool sparse_input,
                            bool backward) {
  MlpWorkspace ws;
  ws.capacity = capacity;
  ws.sparse_input = sparse_input;
  if (!sparse_input) ws.input.assign(capacity * model.inputs(), 0.0f);
  for (const DenseLayer& layer : model.layers) {
    const size_t size = capacity * layer.units;
    ws.z.emplace_back(layer.activation == Activation::kGelu ? size : 0, 0.0f);
    ws.a.emplace_back(size, 0.0f);
    ws.delta.emplace_back(backward ? size : 0, 0.0f);
  }
  return ws;
}

size_t TensorCopyBytes(size_t inputs, const std::vector<LayerConfig>& layers) {
  size_t bytes = 0;
  for (const LayerConfig& layer : layers) {
    const auto units = static_cast<size_t>(layer.units);
    bytes += AlignedAllocationBytes(inputs * units * sizeof(float)) +  // kernel
             AlignedAllocationBytes(units * sizeof(float));           // bias
    inputs = units;
  }
  return bytes;
}

size_t WorkspaceBytes(size_t inputs, const std::vector<LayerConfig>& layers, size_t capacity,
                      bool sparse_input, bool backward) {
  size_t bytes = sparse_input ? 0 : AlignedAllocationBytes(capacity * inputs * sizeof(float));
  for (const LayerConfig& layer : layers) {
    const size_t per_layer = (layer.activation == Activation::kGelu ? 1 : 0)  // z
                             + 1                                             // a
                             + (backward ? 1 : 0);                           // delta
    bytes += per_layer * AlignedAllocationBytes(capacity * static_cast<size_t>(layer.units) *
                                                sizeof(float));
  }
  return bytes;
}

void MlpForward(const Mlp& model, size_t batch, MlpWorkspace& ws) {
  MlpForwardLayers(model, batch, ws, 0, model.layers.size());
}

void MlpForwardLayers(const Mlp& model, size_t batch, MlpWorkspace& ws, size_t begin,
                      size_t end) {
  const float* x = begin == 0 ? ws.input.data() : ws.a[begin - 1].data();
  for (size_t l = begin; l < end; ++l) {
    const DenseLayer& layer = model.layers[l];
    float* z = ws.z[l].empty() ? nullptr : ws.z[l].data();
    if (l == 0 && ws.sparse_input) {
      SparseDenseForward(ws.sparse, layer.kernel.value.data(), layer.bias.value.data(),
                         layer.units, layer.activation, z, ws.a[l].data());
    } else {
      DenseForward(batch, layer.inputs, layer.units, x, layer.kernel.value.data(),
                   layer.bias.value.data(), layer.activation, z, ws.a[l].data());
    }
    x = ws.a[l].data();
  }
}

void MlpBackward(Mlp& model, size_t batch, MlpWorkspace& ws) {
  MlpBackwardLayers(model, batch, ws, 0, model.layers.size());
}

void MlpBackwardLayers(Mlp& model, size_t batch, MlpWorkspace& ws, size_t begin, size_t end) {
  for (size_t l = end; l-- > begin;) {
    DenseLayer& layer = model.layers[l];
    if (l == 0 && ws.sparse_input) {
      layer.kernel.updated_in_backward = SparseDenseBackwardWeights(
          ws.sparse, ws.delta[l].data(), layer.units, layer.kernel.gradient.data(),
          layer.bias.gradient.data(), layer.kernel.fused_update);
    } else {
      const float* x = l == 0 ? ws.input.data() : ws.a[l - 1].data();
      DenseBackwardWeights(batch, layer.inputs, layer.units, x, ws.delta[l].data(),
                           layer.kernel.gradient.data(), layer.bias.gradient.data());
    }
    if (l == 0) break;  // no gradient is needed for the input pixels
    const DenseLayer& previous = model.layers[l - 1];
    const float* z_prev = ws.z[l - 1].empty() ? nullptr : ws.z[l - 1].data();
    DenseBackwardInput(batch, layer.inputs, layer.units, ws.delta[l].data(),
                       layer.kernel.value.data(), previous.activation, z_prev,
                       ws.a[l - 1].data(), ws.delta[l - 1].data());
  }
}

void LoadBatch(const uint8_t* images, size_t features, const uint32_t* order, size_t first,
               size_t count, MlpWorkspace& ws) {
  if (ws.sparse_input) {
    BuildSparseBatch(images, features, order, first, count, ws.sparse);
    return;
  }
  const std::array<float, 256>& pixel_scale = PixelScale();
  for (size_t i = 0; i < count; ++i) {
    const size_t sample = order ? order[first + i] : first + i;
    const uint8_t* src = images + sample * features;
    float* dst = ws.input.data() + i * features;
    for (size_t f = 0; f < features; ++f) dst[f] = pixel_scale[src[f]];
  }
}

}  // namespace mb
