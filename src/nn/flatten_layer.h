// Keras' Flatten: an image [height, width, channels] becomes a vector in
// that (channels-last) order, which is already how it lies in memory; the
// layer copies it so that every layer owns its output.
#pragma once

#include <cstddef>

#include "common/feature_shape.h"
#include "nn/layer.h"

namespace mb {

struct FlattenLayer {
  size_t features = 0;

  template <class Fn>
  void ForEachParameter(Fn&&) const {}
};

inline FlattenLayer MakeFlattenLayer(const FeatureShape& input) { return {input.size()}; }

LayerBufferSizes BufferSizes(const FlattenLayer& layer, bool backward);
inline size_t MultiplyAdds(const FlattenLayer&) { return 0; }
inline Activation OutputActivation(const FlattenLayer&) { return Activation::kLinear; }

void Forward(const FlattenLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& context);
void Backward(FlattenLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& own,
              const LayerBelow& below);

}  // namespace mb
