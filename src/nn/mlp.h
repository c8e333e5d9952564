// A multi-layer perceptron of dense layers: its parameters, and one forward
// and one backward function over a batch, in the style of llm.c. All matrix
// products go through kernels/gemm.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/aligned_vector.h"
#include "config/config.h"
#include "kernels/activation.h"
#include "kernels/sparse_gemm.h"

namespace mb {

struct DenseLayer {
  size_t inputs = 0, units = 0;
  Activation activation = Activation::kLinear;
  AlignedVector<float> kernel;  // [inputs, units], the Keras layout
  AlignedVector<float> bias;    // [units]
};

struct Mlp {
  std::vector<DenseLayer> layers;

  size_t inputs() const { return layers.front().inputs; }
  size_t outputs() const { return layers.back().units; }
  size_t ParameterCount() const;
};

// Gradients with the shapes of the model's parameters.
struct MlpGradients {
  std::vector<AlignedVector<float>> kernel, bias;
};

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

// The layers' shapes from the config, parameters zeroed.
Mlp BuildMlp(size_t inputs, const std::vector<LayerConfig>& layers);
MlpGradients BuildGradients(const Mlp& model);
// With sparse_input the first layer reads batches in compressed form;
// without backward the workspace serves forward passes only (evaluation)
// and holds no gradient buffers.
MlpWorkspace BuildWorkspace(const Mlp& model, size_t capacity, bool sparse_input = false,
                            bool backward = true);

// Fills ws.a[l] (and ws.z[l] for GELU) for the first `batch` rows of
// ws.input. The last layer's output is its pre-softmax logits.
void MlpForward(const Mlp& model, size_t batch, MlpWorkspace& ws);
// The same for layers [begin, end) only, given the outputs of layer
// begin - 1 (or the batch, for begin = 0).
void MlpForwardLayers(const Mlp& model, size_t batch, MlpWorkspace& ws, size_t begin,
                      size_t end);

// Given ws.delta.back() = dLoss/dlogits, back-propagates through every
// layer and writes all parameter gradients. With `first_kernel_update` and
// sparse input, the first layer's kernel is updated by RMSprop inside the
// weight-gradient kernel instead (the last use of that kernel in the step);
// returns whether that happened, in which case grads.kernel[0] is stale.
bool MlpBackward(const Mlp& model, size_t batch, MlpWorkspace& ws, MlpGradients& grads,
                 const SparseRmspropUpdate* first_kernel_update = nullptr);
// The same for layers [begin, end) only, from the last down, given
// ws.delta[end - 1]; every layer above 0 also writes the previous layer's
// delta.
bool MlpBackwardLayers(const Mlp& model, size_t batch, MlpWorkspace& ws, MlpGradients& grads,
                       const SparseRmspropUpdate* first_kernel_update, size_t begin,
                       size_t end);

// Loads samples [first, first + count) of `images` (uint8, `features` per
// sample), picked through `order` when it is not null, as the batch: into
// ws.sparse when ws.sparse_input is set, otherwise into ws.input. Pixels are
// scaled to [0, 1] exactly as Keras' x.astype("float32") / 255 does.
void LoadBatch(const uint8_t* images, size_t features, const uint32_t* order, size_t first,
               size_t count, MlpWorkspace& ws);

}  // namespace mb
