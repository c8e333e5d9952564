// Keras' Activation: applies an activation to its input, element by element,
// as a layer of its own (so that pooling can come before a ReLU). Its
// pre-activation is its input, and the layer above applies the derivative
// (OutputActivation), as it does for a dense or conv2d layer's activation;
// the arithmetic is theirs (kernels/activation-inl.h), bit for bit.
#pragma once

#include <cstddef>

#include "common/feature_shape.h"
#include "config/model_config.h"
#include "nn/layer.h"

namespace mb {

struct ActivationLayer {
  size_t features = 0;
  Activation activation = Activation::kLinear;  // never softmax (the schema's rule)

  template <class Fn>
  void ForEachParameter(Fn&&) const {}
};

ActivationLayer MakeActivationLayer(const FeatureShape& input, const LayerConfig& config);

// z (a copy of the input) is kept for GELU's derivative only.
LayerBufferSizes BufferSizes(const ActivationLayer& layer, bool backward);
inline size_t MultiplyAdds(const ActivationLayer&) { return 0; }
inline Activation OutputActivation(const ActivationLayer& layer) { return layer.activation; }

void Forward(const ActivationLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& context);
void Backward(ActivationLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& own,
              const LayerBelow& below);

}  // namespace mb
