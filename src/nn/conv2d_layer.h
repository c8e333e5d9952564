// Keras' Conv2D on channels-last images: y = act(conv(x, W) + b), a
// cross-correlation, through the im2col products of kernels/conv2d.h.
#pragma once

#include <cstddef>

#include "common/feature_shape.h"
#include "config/model_config.h"
#include "kernels/conv2d.h"
#include "nn/layer.h"
#include "nn/max_pooling2d_layer.h"
#include "nn/parameter.h"

namespace mb {

// kernel [kernel_h, kernel_w, in, filters], the Keras layout; bias [filters].
struct Conv2DLayer : KernelAndBias {
  WindowShape window;  // its geometry on one sample (window.batch = 1)
  size_t filters = 0;
  Activation activation = Activation::kLinear;
  // The part of its output the next layer reads (SetReadExtent): a valid
  // max pooling may stop short of the last row and column, which the
  // forward pass then need not compute. {0, 0}: all of it.
  OutputExtent read;
};

// Layer `index` of the model, on the image `input`. Keras' fans: fan_in =
// kh * kw * in, fan_out = kh * kw * filters (the bias's: BiasFanIn); RNG
// streams as a dense layer's.
Conv2DLayer MakeConv2DLayer(size_t index, const FeatureShape& input, const LayerConfig& config,
                            bool allocate);

// Sets layer.read from the max pooling after it: the rows and columns its
// windows cover. Outputs outside are then zero (kernels/conv2d.h), which
// leaves the pooling and every gradient as they were.
void SetReadExtent(Conv2DLayer& layer, const MaxPooling2DLayer& pool);

LayerBufferSizes BufferSizes(const Conv2DLayer& layer, bool backward);
size_t MultiplyAdds(const Conv2DLayer& layer);
inline Activation OutputActivation(const Conv2DLayer& layer) { return layer.activation; }

void Forward(const Conv2DLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& context);

// Whether ForwardPooled can take `layer` followed by `pool`
// (kernels/conv2d_max_pooling2d.h: a linear or ReLU convolution, disjoint
// windows). The layer's own output is not written: a ReLU's derivative
// comes from the pooled output instead (nn/model.cc).
bool FusesWithMaxPooling(const Conv2DLayer& layer, const MaxPooling2DLayer& pool);
// The forward passes of `layer` and of `pool` on its output in one, which
// fills pool_out (the pooled output and its argmax) as the pooling layer's
// Forward would (a ReLU's argmax may differ where the output is 0), and
// leaves the convolution's own output unwritten: its backward pass does
// not read it. With `activated`, an activation layer's
// output after the pooling too (act of the pooled output; the layer must
// keep no pre-activation).
void ForwardPooled(const Conv2DLayer& layer, const MaxPooling2DLayer& pool, size_t batch,
                   const LayerInput& in, LayerBuffers& pool_out,
                   Activation act = Activation::kLinear, LayerBuffers* activated = nullptr);
void Backward(Conv2DLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& own,
              const LayerBelow& below);
// Whether BackwardPooled can take `layer` followed by `pool`
// (kernels/conv2d_max_pooling2d.h: a linear or ReLU convolution, disjoint
// windows, a small patch).
bool FoldsPoolingBackward(const Conv2DLayer& layer, const MaxPooling2DLayer& pool);
// The backward passes of `pool` and of `layer` below it in one, for a first
// layer (no input gradient): the kernel's and bias's gradients from the
// pooling's (pool_buffers: its delta, argmax and output), as Backward of
// both would give them, without writing the layer's own delta.
void BackwardPooled(Conv2DLayer& layer, const MaxPooling2DLayer& pool, size_t batch,
                    const LayerInput& in, const LayerBuffers& pool_buffers);

}  // namespace mb
