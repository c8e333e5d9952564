#include "nn/max_pooling2d_layer.h"

#include "kernels/max_pooling2d.h"
#include "kernels/vector_math.h"

namespace mb {

MaxPooling2DLayer MakeMaxPooling2DLayer(const FeatureShape& input, const LayerConfig& config) {
  MaxPooling2DLayer layer;
  layer.window = MakeWindowShape(1, input.height, input.width, input.channels, config.window_h,
                                 config.window_w, config.stride_h, config.stride_w,
                                 config.padding);
  return layer;
}

LayerBufferSizes BufferSizes(const MaxPooling2DLayer& layer, bool /*backward*/) {
  LayerBufferSizes sizes;
  sizes.outputs = layer.window.rows() * layer.window.channels;
  sizes.index = sizes.outputs;
  return sizes;
}

void Forward(const MaxPooling2DLayer& layer, size_t batch, const LayerInput& in,
             LayerBuffers& out, const StepContext& /*context*/) {
  WindowShape s = layer.window;
  s.batch = batch;
  MaxPooling2DForward(s, in.x, out.a.data(), out.index.data());
}

void Backward(MaxPooling2DLayer& layer, size_t batch, const LayerInput& /*in*/,
              LayerBuffers& own, const LayerBelow& below) {
  if (!below.delta) return;
  WindowShape s = layer.window;
  s.batch = batch;
  MaxPooling2DBackward(s, own.delta.data(), own.index.data(), below.delta);
  ActivationGradientInPlace(below.activation, below.z, below.a, below.delta,
                            batch * s.height * s.width * s.channels);
}

}  // namespace mb
