// Keras' MaxPooling2D on channels-last images (kernels/max_pooling2d.h).
#pragma once

#include <cstddef>

#include "common/feature_shape.h"
#include "config/model_config.h"
#include "kernels/conv2d.h"
#include "nn/layer.h"

namespace mb {

struct MaxPooling2DLayer {
  WindowShape window;  // its geometry on one sample (window.batch = 1)

  template <class Fn>
  void ForEachParameter(Fn&&) const {}
};

MaxPooling2DLayer MakeMaxPooling2DLayer(const FeatureShape& input, const LayerConfig& config);

// The index buffer holds each output's argmax, for the backward pass.
LayerBufferSizes BufferSizes(const MaxPooling2DLayer& layer, bool backward);
inline size_t MultiplyAdds(const MaxPooling2DLayer&) { return 0; }
inline Activation OutputActivation(const MaxPooling2DLayer&) { return Activation::kLinear; }

void Forward(const MaxPooling2DLayer& layer, size_t batch, const LayerInput& in,
             LayerBuffers& out, const StepContext& context);
void Backward(MaxPooling2DLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& own,
              const LayerBelow& below);

}  // namespace mb
