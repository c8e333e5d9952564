#include "nn/dropout_layer.h"

#include <cstring>

#include "common/rng.h"
#include "kernels/vector_math.h"

namespace mb {

DropoutLayer MakeDropoutLayer(const FeatureShape& input, const LayerConfig& config) {
  return {input.size(), static_cast<float>(config.rate)};
}

LayerBufferSizes BufferSizes(const DropoutLayer& layer, bool backward) {
  LayerBufferSizes sizes;
  sizes.outputs = layer.features;
  sizes.scratch = backward ? layer.features : 0;
  return sizes;
}

void Forward(const DropoutLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& context) {
  const size_t n = batch * layer.features;
  if (!context.training || layer.rate == 0.0f) {
    std::memcpy(out.a.data(), in.x, n * sizeof(float));
    return;
  }
  // Keras keeps an element when its uniform draw is >= rate.
  const float scale = 1.0f / (1.0f - layer.rate);
  Rng rng(context.seed, DropoutStream(context.layer, context.step));
  float* mask = out.scratch.data();
  for (size_t i = 0; i < n; ++i) mask[i] = rng.UniformFloat() >= layer.rate ? scale : 0.0f;
  for (size_t i = 0; i < n; ++i) out.a[i] = in.x[i] * mask[i];
}

void Backward(DropoutLayer& layer, size_t batch, const LayerInput& /*in*/, LayerBuffers& own,
              const LayerBelow& below) {
  if (!below.delta) return;
  const size_t n = batch * layer.features;
  if (layer.rate == 0.0f) {
    std::memcpy(below.delta, own.delta.data(), n * sizeof(float));
  } else {
    for (size_t i = 0; i < n; ++i) below.delta[i] = own.delta[i] * own.scratch[i];
  }
  ActivationGradientInPlace(below.activation, below.z, below.a, below.delta, n);
}

}  // namespace mb
