// A model: the config's list of layers, each one of the types below, with
// one forward and one backward function per type (nn/<type>_layer.h), in
// the style of llm.c. This file holds what walks the list: the parameter
// walk, the workspace, and the forward and backward passes over a batch.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/aligned_vector.h"
#include "common/feature_shape.h"
#include "config/model_config.h"
#include "data/pixel_scale.h"
#include "kernels/sparse_gemm.h"
#include "nn/activation_layer.h"
#include "nn/conv2d_layer.h"
#include "nn/dense_layer.h"
#include "nn/dropout_layer.h"
#include "nn/flatten_layer.h"
#include "nn/layer.h"
#include "nn/max_pooling2d_layer.h"
#include "nn/parameter.h"

namespace mb {

using Layer = std::variant<DenseLayer, Conv2DLayer, MaxPooling2DLayer, FlattenLayer, DropoutLayer,
                           ActivationLayer>;

struct Model {
  FeatureShape input;  // one sample of the data
  std::vector<Layer> layers;
  // Each layer's output, per sample, as BuildModel checked it (the report's
  // layer summary shows them).
  std::vector<FeatureShape> output_shapes;

  size_t inputs() const { return input.size(); }
  // The last layer's units: one per class (the schema makes it dense).
  size_t outputs() const { return std::get<DenseLayer>(layers.back()).units; }
  size_t ParameterCount() const;
};

// Calls fn(Parameter&) for every tensor of the model (fn(const Parameter&)
// for a const model), in a fixed order: layer by layer, each layer's kernel
// before its bias. The order is the optimizer's slot order.
template <class M, class Fn>
void ForEachParameter(M& model, Fn&& fn) {
  for (auto& layer : model.layers) {
    std::visit([&](auto& typed) { typed.ForEachParameter(fn); }, layer);
  }
}

// The model's tensors in ForEachParameter's order, for the optimizer.
std::vector<Parameter*> ParameterList(Model& model);

// The layers of `layers` on samples of `input`, parameters and gradients
// zeroed (only described, without `allocate`: for budgeting memory). Throws
// InputError naming `source` and the layer when one cannot take its input
// (config/model_config.h).
Model BuildModel(const FeatureShape& input, const std::vector<LayerConfig>& layers,
                 const std::string& source = "model", bool allocate = true);

// Every intermediate of a forward and backward pass for batches of up to
// `capacity` samples, allocated once so the training loop never allocates.
struct ModelWorkspace {
  size_t capacity = 0;
  // The batch: either dense floats, or (when sparse_input is set) the
  // compressed columns of its non-zero pixels, which the first layer (then
  // dense) reads instead (see kernels/sparse_gemm.h).
  bool sparse_input = false;
  // What LoadBatch turns each pixel byte into (a Dataset's pixel_values);
  // the sparse batch computes PixelScale()'s values itself.
  std::array<float, 256> pixel_values = PixelScale();
  AlignedVector<float> input;  // [capacity, inputs]
  SparseBatch sparse;
  std::vector<LayerBuffers> layers;

  // The last layer's pre-softmax logits, and dLoss/dlogits (training).
  float* logits() { return layers.back().a.data(); }
  float* logits_gradient() { return layers.back().delta.data(); }
};

// With sparse_input the first layer reads batches in compressed form;
// without backward the workspace serves forward passes only (evaluation)
// and holds no gradient buffers.
ModelWorkspace BuildWorkspace(const Model& model, size_t capacity, bool sparse_input = false,
                              bool backward = true);

// For budgeting memory (on a model built without allocating): the bytes of
// one copy of every tensor of the model, one AlignedVector each (its values,
// its gradients and each optimizer slot are such a copy) ...
size_t TensorCopyBytes(const Model& model);
// ... and the bytes BuildWorkspace allocates, without the sparse batch
// (SparseBatchBytes), which grows when the first batch is built.
size_t WorkspaceBytes(const Model& model, size_t capacity, bool sparse_input, bool backward);

// Multiply-adds of one sample's forward pass through layers [begin, end).
size_t ForwardMultiplyAdds(const Model& model, size_t begin, size_t end);

// Fills each layer's output for the first `batch` rows of ws.input; the
// last layer's output is its pre-softmax logits. A convolution followed by
// a max pooling that it fuses with (nn/conv2d_layer.h) runs as one pass
// when both are in the range, and then leaves its own output unwritten. `context` says whether it
// trains (dropout) and which step it is; its layer index is set per layer.
void ModelForward(const Model& model, size_t batch, ModelWorkspace& ws,
                  StepContext context = {});
// The same for layers [begin, end) only, given the outputs of layer
// begin - 1 (or the batch, for begin = 0).
void ModelForwardLayers(const Model& model, size_t batch, ModelWorkspace& ws, size_t begin,
                        size_t end, StepContext context = {});

// Given ws.logits_gradient() = dLoss/dlogits, back-propagates through every
// layer and writes every parameter's gradient (a layer may apply its
// optimizer's fused update instead: nn/parameter.h).
void ModelBackward(Model& model, size_t batch, ModelWorkspace& ws);
// The same for layers [begin, end) only, from the last down, given the
// delta of layer end - 1; the delta of layer begin - 1 (when begin > 0) is
// written. Within the range, layers that only pass their delta down
// (flatten, activation layers) may be skipped, the layer above writing
// through them (the deltas of layers inside the range are scratch), and a
// first convolution may take its pooling's gradient directly.
void ModelBackwardLayers(Model& model, size_t batch, ModelWorkspace& ws, size_t begin,
                         size_t end);

// Loads samples [first, first + count) of `images` (uint8, `features` per
// sample), picked through `order` when it is not null, as the batch: into
// ws.sparse when ws.sparse_input is set, otherwise into ws.input as
// ws.pixel_values says (by default scaled to [0, 1] exactly as Keras'
// x.astype("float32") / 255 does).
void LoadBatch(const uint8_t* images, size_t features, const uint32_t* order, size_t first,
               size_t count, ModelWorkspace& ws);

}  // namespace mb
