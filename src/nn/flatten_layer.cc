#include "nn/flatten_layer.h"

#include <cstring>

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
  PassDeltaDown(own.delta.data(), batch * layer.features, below);
}

}  // namespace mb
