// What every layer type shares: the buffers a forward and backward pass
// keep per layer, and what a pass is told about its input and the layer
// below. Each layer type (nn/dense_layer.h, nn/conv2d_layer.h, ...) is a
// struct with these functions, found by overloading (nn/model.cc calls them
// through std::visit):
//   LayerBufferSizes BufferSizes(const L&, bool backward)   per sample
//   size_t MultiplyAdds(const L&)                          per sample, forward
//   Activation OutputActivation(const L&)                  for the layer above
//   void Forward(const L&, size_t batch, const LayerInput&, LayerBuffers&,
//                const StepContext&)
//   void Backward(L&, size_t batch, const LayerInput&, LayerBuffers&,
//                 const LayerBelow&)
// and a member ForEachParameter(fn) that calls fn on each of its tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/activation.h"
#include "common/aligned_vector.h"
#include "kernels/sparse_gemm.h"
#include "kernels/vector_math.h"
#include "nn/parameter.h"

namespace mb {

// Per sample, in elements: what BuildWorkspace (nn/model.h) allocates for a
// layer.
struct LayerBufferSizes {
  size_t outputs = 0;     // a, and delta when training
  bool keeps_z = false;   // z, the pre-activation (GELU's derivative needs it)
  size_t scratch = 0;     // floats of the layer's own (dropout mask)
  size_t index = 0;       // uint32 of the layer's own (pooling's argmax)
};

struct LayerBuffers {
  AlignedVector<float> z;         // [capacity, outputs] pre-activation, or empty
  AlignedVector<float> a;         // [capacity, outputs] the output
  AlignedVector<float> delta;     // dLoss/d(pre-activation), same shape (training)
  AlignedVector<float> scratch;
  AlignedVector<uint32_t> index;
};

// A layer's input: the previous layer's output (or the batch) as floats,
// [batch, in], or, for a first dense layer on sparse data, the batch's
// compressed columns (kernels/sparse_gemm.h) instead.
struct LayerInput {
  const float* x = nullptr;
  const SparseBatch* sparse = nullptr;
};

// What a forward pass may depend on besides its input: whether it trains
// (dropout draws only then) and, to draw, the run's seed, the training step
// (counting from 1 over all epochs) and the layer's index in the model.
struct StepContext {
  bool training = false;
  uint64_t seed = 0;
  uint64_t step = 0;
  size_t layer = 0;
};

// The layer below, for a backward pass: it writes delta = dLoss/d(that
// layer's pre-activation), applying its activation's derivative (from z and
// a). delta is null below the first layer, where no gradient is needed.
struct LayerBelow {
  Activation activation = Activation::kLinear;
  const float* z = nullptr;
  const float* a = nullptr;
  float* delta = nullptr;
};

// The backward pass of a layer whose input's gradient is its own delta
// (flatten, activation): below.delta = delta through the activation below.
inline void PassDeltaDown(const float* delta, size_t n, const LayerBelow& below) {
  if (!below.delta) return;
  ActivationGradient(below.activation, below.z, below.a, delta, below.delta, n);
}

// The tensors of a layer with a kernel and a bias (dense, conv2d), and the
// parameter walk over them: kernel first, the optimizer's slot order.
struct KernelAndBias {
  Parameter kernel;
  Parameter bias;

  template <class Fn>
  void ForEachParameter(Fn&& fn) {
    fn(kernel);
    fn(bias);
  }
  template <class Fn>
  void ForEachParameter(Fn&& fn) const {
    fn(kernel);
    fn(bias);
  }
};

}  // namespace mb
