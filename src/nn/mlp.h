// A multi-layer perceptron of dense layers: its parameters, and one forward
// and one backward function over a batch, in the style of llm.c. All matrix
// products go through kernels/gemm.h (kernels/sparse_gemm.h for a first
// layer on sparse input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/activation.h"
#include "common/aligned_vector.h"
#include "config/config.h"
#include "kernels/sparse_gemm.h"
#include "nn/parameter.h"

namespace mb {

struct DenseLayer {
  size_t inputs = 0, units = 0;
  Activation activation = Activation::kLinear;
  Parameter kernel;  // [inputs, units], the Keras layout
  Parameter bias;    // [units]
};

struct Mlp {
  std::vector<DenseLayer> layers;

  size_t inputs() const { return layers.front().inputs; }
  size_t outputs() const { return layers.back().units; }
  size_t ParameterCount() const;
};

// Calls fn(Parameter&) for every tensor of the model (fn(const Parameter&)
// for a const model), in a fixed order: layer by layer, each layer's kernel
// before its bias. The order is the optimizer's slot order.
template <class Model, class Fn>
void ForEachParameter(Model& model, Fn&& fn) {
  for (auto& layer : model.layers) {
    fn(layer.kernel);
    fn(layer.bias);
  }
}

// The model's tensors in ForEachParameter's order, for the optimizer.
std::vector<Parameter*> ParameterList(Mlp& model);

// Every intermediate of a forward and backward pass for batches of up to
// `capacity` samples, allocated once so the training loop never allocates.
struct MlpWorkspace {
  size_t capacity = 0;
  // The batch: either dense floats, or (when sparse_input is set) the
  // compressed columns of its non-zero pixels, which the first layer's
  // kernels read instead (see kernels/sparse_gemm.h).
  bool sparse_input = false;
  AlignedVector<float> input;                   // [capacity, inputs]
  SparseBatch sparse;
  std::vector<AlignedVector<float>> z;          // per layer [capacity, units]; GELU layers only
  std::vector<AlignedVector<float>> a;          // per layer [capacity, units]; the last holds logits
  std::vector<AlignedVector<float>> delta;      // per layer: dLoss/dz, [capacity, units] (training)
};

// The layers' shapes from the config, parameters and gradients zeroed.
// Layer l's kernel draws its initial values from RNG stream kInitStream + 2l
// and its bias from kInitStream + 2l + 1 (nn/init.h).
Mlp BuildMlp(size_t inputs, const std::vector<LayerConfig>& layers);
// With sparse_input the first layer reads batches in compressed form;
// without backward the workspace serves forward passes only (evaluation)
// and holds no gradient buffers.
MlpWorkspace BuildWorkspace(const Mlp& model, size_t capacity, bool sparse_input = false,
                            bool backward = true);

// For budgeting memory before the model is built, from its layers on
// `inputs` features: the bytes of one copy of every tensor of the model, one
// AlignedVector each (its values, its gradients and each optimizer slot are
// such a copy) ...
size_t TensorCopyBytes(size_t inputs, const std::vector<LayerConfig>& layers);
// ... and the bytes BuildWorkspace allocates, without the sparse batch
// (SparseBatchBytes), which grows when the first batch is built.
size_t WorkspaceBytes(size_t inputs, const std::vector<LayerConfig>& layers, size_t capacity,
                      bool sparse_input, bool backward);

// Fills ws.a[l] (and ws.z[l] for GELU) for the first `batch` rows of
// ws.input. The last layer's output is its pre-softmax logits.
void MlpForward(const Mlp& model, size_t batch, MlpWorkspace& ws);
// The same for layers [begin, end) only, given the outputs of layer
// begin - 1 (or the batch, for begin = 0).
void MlpForwardLayers(const Mlp& model, size_t batch, MlpWorkspace& ws, size_t begin,
                      size_t end);

// Given ws.delta.back() = dLoss/dlogits, back-propagates through every
// layer and writes every parameter's gradient. A first layer on sparse
// input applies its kernel's fused_update, when the optimizer offered one,
// inside the weight-gradient kernel instead (the last use of that kernel in
// the step), and marks the kernel updated_in_backward; its gradient is then
// stale.
void MlpBackward(Mlp& model, size_t batch, MlpWorkspace& ws);
// The same for layers [begin, end) only, from the last down, given
// ws.delta[end - 1]; every layer above 0 also writes the previous layer's
// delta.
void MlpBackwardLayers(Mlp& model, size_t batch, MlpWorkspace& ws, size_t begin, size_t end);

// Loads samples [first, first + count) of `images` (uint8, `features` per
// sample), picked through `order` when it is not null, as the batch: into
// ws.sparse when ws.sparse_input is set, otherwise into ws.input. Pixels are
// scaled to [0, 1] exactly as Keras' x.astype("float32") / 255 does.
void LoadBatch(const uint8_t* images, size_t features, const uint32_t* order, size_t first,
               size_t count, MlpWorkspace& ws);

}  // namespace mb
