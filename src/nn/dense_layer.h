// Keras' Dense: y = act(x W + b) over a batch of vectors, through the
// products of kernels/gemm.h, or kernels/sparse_gemm.h when it is the first
// layer and reads the batch's compressed non-zero pixels.
#pragma once

#include <cstddef>

#include "common/feature_shape.h"
#include "config/model_config.h"
#include "nn/layer.h"
#include "nn/parameter.h"

namespace mb {

// kernel [inputs, units], the Keras layout; bias [units].
struct DenseLayer : KernelAndBias {
  size_t inputs = 0, units = 0;
  Activation activation = Activation::kLinear;
};

// Layer `index` of the model, on `input` (read flattened). Its kernel draws
// its initial values from RNG stream kInitStream + 2 index, its bias from
// kInitStream + 2 index + 1 (nn/init.h).
DenseLayer MakeDenseLayer(size_t index, const FeatureShape& input, const LayerConfig& config,
                          bool allocate);

LayerBufferSizes BufferSizes(const DenseLayer& layer, bool backward);
size_t MultiplyAdds(const DenseLayer& layer);
inline Activation OutputActivation(const DenseLayer& layer) { return layer.activation; }

void Forward(const DenseLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& context);
// On sparse input, applies the kernel's fused_update (when the optimizer
// offered one) inside the weight-gradient kernel and marks the kernel
// updated_in_backward; its gradient is then stale.
void Backward(DenseLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& own,
              const LayerBelow& below);

}  // namespace mb
