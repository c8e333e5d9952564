#include "nn/activation_layer.h"

#include <cstring>

#include "kernels/vector_math.h"

namespace mb {

ActivationLayer MakeActivationLayer(const FeatureShape& input, const LayerConfig& config) {
  return {input.size(), config.activation};
}

LayerBufferSizes BufferSizes(const ActivationLayer& layer, bool /*backward*/) {
  LayerBufferSizes sizes;
  sizes.outputs = layer.features;
  sizes.keeps_z = layer.activation == Activation::kGelu;
  return sizes;
}

void Forward(const ActivationLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& /*context*/) {
  const size_t n = batch * layer.features;
  if (!out.z.empty()) std::memcpy(out.z.data(), in.x, n * sizeof(float));
  std::memcpy(out.a.data(), in.x, n * sizeof(float));
  ActivationInPlace(layer.activation, out.a.data(), n);
}

// Its delta is already with respect to its input (its pre-activation).
void Backward(ActivationLayer& layer, size_t batch, const LayerInput& /*in*/, LayerBuffers& own,
              const LayerBelow& below) {
  PassDeltaDown(own.delta.data(), batch * layer.features, below);
}

}  // namespace mb
