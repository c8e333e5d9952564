#include "nn/flatten_layer.h"

#include <cstring>

#include "kernels/vector_math.h"

namespace mb {

LayerBufferSizes BufferSizes(const FlattenLayer& layer, bool /*backward*/) {
  LayerBufferSizes sizes;
  sizes.outputs = layer.features;
  return sizes;
}

void Forward(const FlattenLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& /*context*/) {
  std::memcpy(out.a.data(), in.x, batch * layer.features * sizeof(float));
}

void Backward(FlattenLayer& layer, size_t batch, const LayerInput& /*in*/, LayerBuffers& own,
              const LayerBelow& below) {
  if (!below.delta) return;
  const size_t n = batch * layer.features;
  std::memcpy(below.delta, own.delta.data(), n * sizeof(float));
  ActivationGradientInPlace(below.activation, below.z, below.a, below.delta, n);
}

}  // namespace mb
