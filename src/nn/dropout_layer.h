// Keras' Dropout, inverted: in training each input is kept with probability
// 1 - rate and scaled by 1 / (1 - rate), else zeroed; in evaluation the
// layer passes its input through. The mask of layer i at training step t
// comes from its own RNG stream, DropoutStream(i, t) (common/rng.h), drawn
// on one thread in element order, so it depends on neither the thread count
// nor the other layers.
#pragma once

#include <cstddef>

#include "common/feature_shape.h"
#include "config/model_config.h"
#include "nn/layer.h"

namespace mb {

struct DropoutLayer {
  size_t features = 0;
  float rate = 0.0f;

  template <class Fn>
  void ForEachParameter(Fn&&) const {}
};

DropoutLayer MakeDropoutLayer(const FeatureShape& input, const LayerConfig& config);

// The scratch holds the training step's mask: 0 or 1 / (1 - rate).
LayerBufferSizes BufferSizes(const DropoutLayer& layer, bool backward);
inline size_t MultiplyAdds(const DropoutLayer&) { return 0; }
inline Activation OutputActivation(const DropoutLayer&) { return Activation::kLinear; }

void Forward(const DropoutLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& context);
void Backward(DropoutLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& own,
              const LayerBelow& below);

}  // namespace mb
