#include "nn/conv2d_layer.h"

#include <string>

#include "common/rng.h"
#include "kernels/conv2d_max_pooling2d.h"
#include "kernels/vector_math.h"

namespace mb {

namespace {

WindowShape OnBatch(const WindowShape& window, size_t batch) {
  WindowShape s = window;
  s.batch = batch;
  return s;
}

}  // namespace

Conv2DLayer MakeConv2DLayer(size_t index, const FeatureShape& input, const LayerConfig& config,
                            bool allocate) {
  Conv2DLayer layer;
  layer.window = MakeWindowShape(1, input.height, input.width, input.channels, config.window_h,
                                 config.window_w, config.stride_h, config.stride_w,
                                 config.padding);
  layer.filters = static_cast<size_t>(config.filters);
  layer.activation = config.activation;
  const std::string prefix = "layers." + std::to_string(index) + ".";
  const size_t taps = config.window_h * config.window_w;
  layer.kernel = MakeParameter(
      prefix + "kernel",
      {static_cast<int64_t>(config.window_h), static_cast<int64_t>(config.window_w),
       static_cast<int64_t>(input.channels), static_cast<int64_t>(layer.filters)},
      {config.kernel_initializer, taps * input.channels, taps * layer.filters,
       kInitStream + 2 * index},
      allocate);
  layer.bias = MakeParameter(
      prefix + "bias", {static_cast<int64_t>(layer.filters)},
      {config.bias_initializer,
       BiasFanIn(config.bias_initializer, taps * input.channels, layer.filters), layer.filters,
       kInitStream + 2 * index + 1},
      allocate);
  layer.kernel.regularizer = config.kernel_regularizer;
  layer.bias.regularizer = config.bias_regularizer;
  return layer;
}

void SetReadExtent(Conv2DLayer& layer, const MaxPooling2DLayer& pool) {
  const WindowShape& p = pool.window;
  if (p.out_h == 0 || p.out_w == 0) return;
  // The last window's far edge, less the padding before the first.
  const size_t h = (p.out_h - 1) * p.stride_h + p.kernel_h - p.pad_top;
  const size_t w = (p.out_w - 1) * p.stride_w + p.kernel_w - p.pad_left;
  layer.read = ReadExtentOf(layer.window, {h, w});
}

LayerBufferSizes BufferSizes(const Conv2DLayer& layer, bool /*backward*/) {
  LayerBufferSizes sizes;
  sizes.outputs = layer.window.rows() * layer.filters;
  sizes.keeps_z = layer.activation == Activation::kGelu;
  return sizes;
}

size_t MultiplyAdds(const Conv2DLayer& layer) {
  return layer.window.rows() * layer.window.patch() * layer.filters;
}

void Forward(const Conv2DLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& /*context*/) {
  Conv2DForward(OnBatch(layer.window, batch), layer.filters, in.x, layer.kernel.value.data(),
                layer.bias.value.data(), layer.activation, out.z.empty() ? nullptr : out.z.data(),
                out.a.data(), layer.read);
}

bool FusesWithMaxPooling(const Conv2DLayer& layer, const MaxPooling2DLayer& pool) {
  return FusesWithMaxPooling(layer.window, layer.activation, pool.window);
}

void ForwardPooled(const Conv2DLayer& layer, const MaxPooling2DLayer& pool, size_t batch,
                   const LayerInput& in, LayerBuffers& pool_out, Activation act,
                   LayerBuffers* activated) {
  Conv2DMaxPooling2DForward(OnBatch(layer.window, batch), layer.filters, in.x,
                            layer.kernel.value.data(), layer.bias.value.data(), layer.activation,
                            OnBatch(pool.window, batch), pool_out.a.data(),
                            pool_out.index.data(), act,
                            activated ? activated->a.data() : nullptr);
}

void Backward(Conv2DLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& own,
              const LayerBelow& below) {
  const WindowShape s = OnBatch(layer.window, batch);
  Conv2DBackwardWeights(s, layer.filters, in.x, own.delta.data(), layer.kernel.gradient.data(),
                        layer.bias.gradient.data());
  if (!below.delta) return;
  Conv2DBackwardInput(s, layer.filters, own.delta.data(), layer.kernel.value.data(),
                      below.delta);
  ActivationGradientInPlace(below.activation, below.z, below.a, below.delta,
                            batch * s.height * s.width * s.channels);
}

bool FoldsPoolingBackward(const Conv2DLayer& layer, const MaxPooling2DLayer& pool) {
  return FoldsMaxPoolingBackward(layer.window, layer.activation, pool.window);
}

void BackwardPooled(Conv2DLayer& layer, const MaxPooling2DLayer& pool, size_t batch,
                    const LayerInput& in, const LayerBuffers& pool_buffers) {
  const bool relu = layer.activation == Activation::kRelu;
  Conv2DMaxPooling2DBackwardWeights(OnBatch(layer.window, batch), layer.filters, in.x,
                                    OnBatch(pool.window, batch), pool_buffers.delta.data(),
                                    pool_buffers.index.data(),
                                    relu ? pool_buffers.a.data() : nullptr,
                                    layer.kernel.gradient.data(), layer.bias.gradient.data());
}

}  // namespace mb
