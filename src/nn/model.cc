#include "nn/model.h"

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/team.h"
#include "kernels/sparse_gemm.h"
#include "kernels/vector_math.h"

namespace mb {

namespace {

// The one place that maps a layer type of the schema to its layer.
Layer MakeLayer(size_t index, const FeatureShape& input, const LayerConfig& config,
                bool allocate) {
  switch (config.type) {
    case LayerType::kDense: return MakeDenseLayer(index, input, config, allocate);
    case LayerType::kConv2D: return MakeConv2DLayer(index, input, config, allocate);
    case LayerType::kMaxPooling2D: return MakeMaxPooling2DLayer(input, config);
    case LayerType::kFlatten: return MakeFlattenLayer(input);
    case LayerType::kDropout: return MakeDropoutLayer(input, config);
    case LayerType::kActivation: return MakeActivationLayer(input, config);
  }
  return MakeFlattenLayer(input);
}

// Layer l's buffers per sample, as BuildWorkspace allocates them and
// WorkspaceBytes counts them.
LayerBufferSizes SizesOf(const Model& model, size_t l, bool backward) {
  return std::visit([&](const auto& typed) { return BufferSizes(typed, backward); },
                    model.layers[l]);
}

Activation OutputActivationOf(const Layer& layer) {
  return std::visit([](const auto& typed) { return OutputActivation(typed); }, layer);
}

LayerInput InputOf(const ModelWorkspace& ws, size_t l) {
  if (l > 0) return {ws.layers[l - 1].a.data(), nullptr};
  if (ws.sparse_input) return {nullptr, &ws.sparse};
  return {ws.input.data(), nullptr};
}

}  // namespace

size_t Model::ParameterCount() const {
  size_t count = 0;
  ForEachParameter(*this, [&](const Parameter& p) { count += p.size(); });
  return count;
}

std::vector<Parameter*> ParameterList(Model& model) {
  std::vector<Parameter*> list;
  ForEachParameter(model, [&](Parameter& p) { list.push_back(&p); });
  return list;
}

Model BuildModel(const FeatureShape& input, const std::vector<LayerConfig>& layers,
                 const std::string& source, bool allocate) {
  Model model;
  model.input = input;
  model.output_shapes = LayerOutputShapes(layers, input, source);
  for (size_t l = 0; l < layers.size(); ++l) {
    model.layers.push_back(
        MakeLayer(l, l == 0 ? input : model.output_shapes[l - 1], layers[l], allocate));
  }
  for (size_t l = 0; l + 1 < model.layers.size(); ++l) {
    auto* conv = std::get_if<Conv2DLayer>(&model.layers[l]);
    const auto* pool = std::get_if<MaxPooling2DLayer>(&model.layers[l + 1]);
    if (conv && pool) SetReadExtent(*conv, *pool);
  }
  return model;
}

ModelWorkspace BuildWorkspace(const Model& model, size_t capacity, bool sparse_input,
                              bool backward) {
  ModelWorkspace ws;
  ws.capacity = capacity;
  ws.sparse_input = sparse_input;
  if (!sparse_input) ws.input.assign(capacity * model.inputs(), 0.0f);
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const LayerBufferSizes sizes = SizesOf(model, l, backward);
    LayerBuffers& buffers = ws.layers.emplace_back();
    buffers.z.assign(sizes.keeps_z ? capacity * sizes.outputs : 0, 0.0f);
    buffers.a.assign(capacity * sizes.outputs, 0.0f);
    buffers.delta.assign(backward ? capacity * sizes.outputs : 0, 0.0f);
    buffers.scratch.assign(capacity * sizes.scratch, 0.0f);
    buffers.index.assign(capacity * sizes.index, 0u);
  }
  return ws;
}

size_t TensorCopyBytes(const Model& model) {
  size_t bytes = 0;
  ForEachParameter(model, [&](const Parameter& p) {
    bytes += AlignedAllocationBytes(p.ShapeSize() * sizeof(float));
  });
  return bytes;
}

size_t WorkspaceBytes(const Model& model, size_t capacity, bool sparse_input, bool backward) {
  const auto floats = [capacity](size_t per_sample) {
    return AlignedAllocationBytes(capacity * per_sample * sizeof(float));
  };
  size_t bytes = sparse_input ? 0 : floats(model.inputs());
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const LayerBufferSizes sizes = SizesOf(model, l, backward);
    bytes += (sizes.keeps_z ? floats(sizes.outputs) : 0) + floats(sizes.outputs) +
             (backward ? floats(sizes.outputs) : 0) + floats(sizes.scratch) +
             AlignedAllocationBytes(capacity * sizes.index * sizeof(uint32_t));
  }
  return bytes;
}

size_t ForwardMultiplyAdds(const Model& model, size_t begin, size_t end) {
  size_t total = 0;
  for (size_t l = begin; l < end; ++l) {
    total += std::visit([](const auto& typed) { return MultiplyAdds(typed); }, model.layers[l]);
  }
  return total;
}

void ModelForward(const Model& model, size_t batch, ModelWorkspace& ws, StepContext context) {
  ModelForwardLayers(model, batch, ws, 0, model.layers.size(), context);
}

// Whether the first layer is a convolution whose max pooling (layer 1)
// folds into its weight gradient (nn/conv2d_layer.h): then nothing reads
// the convolution's delta, and a ReLU's derivative comes from the pooled
// output (the book convnet's first layer).
bool FirstConvFoldsPooling(const Model& model) {
  if (model.layers.size() < 2) return false;
  const auto* conv = std::get_if<Conv2DLayer>(&model.layers[0]);
  const auto* pool = std::get_if<MaxPooling2DLayer>(&model.layers[1]);
  return conv && pool && FoldsPoolingBackward(*conv, *pool);
}

// Whether max pooling layer l takes the derivative of a ReLU convolution
// below it (layer l - 1) from its own output: fused with the pooling
// (ForwardConvPooled), the convolution writes no output of its own to take
// it from. At a window's argmax relu'(z) is (pooled output > 0), and the
// window's other pixels get no gradient, so masking the pooled gradient so
// before spreading it gives the bits of the derivative taken after (and
// does so for an unfused ReLU convolution as well).
bool PoolTakesReluDerivative(const Model& model, size_t l) {
  if (l == 0) return false;
  const auto* pool = std::get_if<MaxPooling2DLayer>(&model.layers[l]);
  const auto* conv = std::get_if<Conv2DLayer>(&model.layers[l - 1]);
  return pool && conv && conv->activation == Activation::kRelu &&
         FusesWithMaxPooling(*conv, *pool);
}

// Runs layer l and the max pooling l + 1 after it as one pass when they fuse
// (nn/conv2d_layer.h), and an activation layer l + 2 (before `end`) that
// keeps no pre-activation with them, each sample's pooled output activated
// while it is in the cache (the speedrun's ReLU after its first pooling,
// a pass of 2.4 MB at batch 256 otherwise). A convolution's own ReLU is
// applied after the pooling; its derivative comes from the pooled output
// (BackwardConvPooled's fold, or PoolTakesReluDerivative). Returns the
// layers run: 0, having done nothing, when they do not fuse.
size_t ForwardConvPooled(const Model& model, size_t l, size_t end, size_t batch,
                         const LayerInput& in, ModelWorkspace& ws) {
  const auto* conv = std::get_if<Conv2DLayer>(&model.layers[l]);
  const auto* pool = std::get_if<MaxPooling2DLayer>(&model.layers[l + 1]);
  if (!conv || !pool || !FusesWithMaxPooling(*conv, *pool)) return 0;
  const auto* act = l + 2 < end ? std::get_if<ActivationLayer>(&model.layers[l + 2]) : nullptr;
  if (act && !ws.layers[l + 2].z.empty()) act = nullptr;
  ForwardPooled(*conv, *pool, batch, in, ws.layers[l + 1],
                act ? act->activation : Activation::kLinear, act ? &ws.layers[l + 2] : nullptr);
  return act ? 3 : 2;
}

void ModelForwardLayers(const Model& model, size_t batch, ModelWorkspace& ws, size_t begin,
                        size_t end, StepContext context) {
  for (size_t l = begin; l < end; ++l) {
    context.layer = l;
    const LayerInput in = InputOf(ws, l);
    if (l + 1 < end) {
      if (const size_t run = ForwardConvPooled(model, l, end, batch, in, ws)) {
        l += run - 1;
        continue;
      }
    }
    std::visit([&](const auto& typed) { Forward(typed, batch, in, ws.layers[l], context); },
               model.layers[l]);
  }
}

void ModelBackward(Model& model, size_t batch, ModelWorkspace& ws) {
  ModelBackwardLayers(model, batch, ws, 0, model.layers.size());
}

// Runs the max pooling at layer 1 and the convolution at layer 0 below it
// as one pass when they fold (FirstConvFoldsPooling): the first layer
// needs no input gradient, so its weight gradient can read the pooling's
// gradient directly. Returns whether it did.
bool BackwardConvPooled(Model& model, size_t batch, ModelWorkspace& ws) {
  if (!FirstConvFoldsPooling(model)) return false;
  BackwardPooled(std::get<Conv2DLayer>(model.layers[0]),
                 std::get<MaxPooling2DLayer>(model.layers[1]), batch, InputOf(ws, 0),
                 ws.layers[1]);
  return true;
}

// Layers whose backward pass only copies their delta into the layer
// below's, through that layer's activation (PassDeltaDown).
bool PassesDeltaDown(const Layer& layer) {
  return std::holds_alternative<FlattenLayer>(layer) ||
         std::holds_alternative<ActivationLayer>(layer);
}

// What layer l writes its input's gradient into, and through which
// activation: layer l - 1's delta, or, past layers that only pass their
// delta down (a flatten, an activation layer over a linear layer), the
// delta of the lowest of them in [begin, l) with at most one activation's
// derivative on the way, which is then the one applied: the copies those
// layers' backward passes make (2.4 MB a step at the speedrun's first
// ReLU) are skipped, with the same bits. *below_index is that layer.
LayerBelow BelowOf(const Model& model, ModelWorkspace& ws, size_t l, size_t begin,
                   size_t* below_index) {
  size_t b = l - 1;
  size_t from = b;  // the layer whose activation (z, a) applies
  Activation act = OutputActivationOf(model.layers[b]);
  while (b > begin && PassesDeltaDown(model.layers[b])) {
    const Activation next = OutputActivationOf(model.layers[b - 1]);
    if (act != Activation::kLinear && next != Activation::kLinear) break;
    if (act == Activation::kLinear) {
      act = next;
      from = b - 1;
    }
    --b;
  }
  *below_index = b;
  LayerBelow below;
  below.activation = act;
  below.z = ws.layers[from].z.empty() ? nullptr : ws.layers[from].z.data();
  below.a = ws.layers[from].a.data();
  below.delta = ws.layers[b].delta.data();
  return below;
}

void ModelBackwardLayers(Model& model, size_t batch, ModelWorkspace& ws, size_t begin,
                         size_t end) {
  // A first ReLU convolution fused with its pooling (ForwardConvPooled)
  // wrote no output to take its derivative from outside the fold.
  if (begin == 1 && end > 1 && FirstConvFoldsPooling(model) &&
      OutputActivationOf(model.layers[0]) != Activation::kLinear) {
    throw std::logic_error("ModelBackwardLayers: layer 1 folds into layer 0's backward pass");
  }
  for (size_t l = end; l-- > begin;) {
    if (l == 1 && begin == 0 && BackwardConvPooled(model, batch, ws)) return;
    LayerBelow below;  // none below the first layer: no gradient for the pixels
    size_t below_index = l;
    if (l > 0) below = BelowOf(model, ws, l, begin, &below_index);
    if (PoolTakesReluDerivative(model, l)) {
      LayerBuffers& own = ws.layers[l];
      ActivationGradientInPlace(Activation::kRelu, nullptr, own.a.data(), own.delta.data(),
                                batch * SizesOf(model, l, /*backward=*/true).outputs);
      below.activation = Activation::kLinear;
    }
    const LayerInput in = InputOf(ws, l);
    std::visit([&](auto& typed) { Backward(typed, batch, in, ws.layers[l], below); },
               model.layers[l]);
    if (l > 0) l = below_index + 1;  // the layers between pass nothing more
  }
}

void LoadBatch(const uint8_t* images, size_t features, const uint32_t* order, size_t first,
               size_t count, ModelWorkspace& ws) {
  if (ws.sparse_input) {
    BuildSparseBatch(images, features, order, first, count, ws.sparse);
    return;
  }
  const std::array<float, 256>& pixel_values = ws.pixel_values;
  // A table lookup per pixel, 0.27 ms for the speedrun's batch of 256 on
  // one thread (Zen 5): split over the team, as each sample is its own,
  // from the book convnet's batch of 64 (4% of its epoch on one thread).
  constexpr size_t kMinTeamPixels = size_t{1} << 15;
#pragma omp parallel for schedule(static) if (UseTeam(count * features >= kMinTeamPixels))
  for (size_t i = 0; i < count; ++i) {
    const size_t sample = order ? order[first + i] : first + i;
    const uint8_t* src = images + sample * features;
    float* dst = ws.input.data() + i * features;
    for (size_t f = 0; f < features; ++f) dst[f] = pixel_values[src[f]];
  }
}

}  // namespace mb
