#include "nn/dense_layer.h"

#include <string>

#include "common/rng.h"
#include "kernels/gemm.h"
#include "kernels/sparse_gemm.h"

namespace mb {

DenseLayer MakeDenseLayer(size_t index, const FeatureShape& input, const LayerConfig& config,
                          bool allocate) {
  DenseLayer layer;
  layer.inputs = input.size();
  layer.units = static_cast<size_t>(config.units);
  layer.activation = config.activation;
  const std::string prefix = "layers." + std::to_string(index) + ".";
  const auto in = static_cast<int64_t>(layer.inputs);
  const auto units = static_cast<int64_t>(layer.units);
  // Keras' fans: a kernel [in, out] has fan_in = in, fan_out = out; a bias
  // [n] has fan_in = fan_out = n (but see BiasFanIn).
  layer.kernel = MakeParameter(
      prefix + "kernel", {in, units},
      {config.kernel_initializer, layer.inputs, layer.units, kInitStream + 2 * index}, allocate);
  layer.bias = MakeParameter(
      prefix + "bias", {units},
      {config.bias_initializer, BiasFanIn(config.bias_initializer, layer.inputs, layer.units),
       layer.units, kInitStream + 2 * index + 1},
      allocate);
  layer.kernel.regularizer = config.kernel_regularizer;
  layer.bias.regularizer = config.bias_regularizer;
  return layer;
}

LayerBufferSizes BufferSizes(const DenseLayer& layer, bool /*backward*/) {
  LayerBufferSizes sizes;
  sizes.outputs = layer.units;
  sizes.keeps_z = layer.activation == Activation::kGelu;
  return sizes;
}

size_t MultiplyAdds(const DenseLayer& layer) { return layer.inputs * layer.units; }

void Forward(const DenseLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& out,
             const StepContext& /*context*/) {
  float* z = out.z.empty() ? nullptr : out.z.data();
  if (in.sparse) {
    SparseDenseForward(*in.sparse, layer.kernel.value.data(), layer.bias.value.data(),
                       layer.units, layer.activation, z, out.a.data());
  } else {
    DenseForward(batch, layer.inputs, layer.units, in.x, layer.kernel.value.data(),
                 layer.bias.value.data(), layer.activation, z, out.a.data());
  }
}

void Backward(DenseLayer& layer, size_t batch, const LayerInput& in, LayerBuffers& own,
              const LayerBelow& below) {
  if (in.sparse) {
    layer.kernel.updated_in_backward = SparseDenseBackwardWeights(
        *in.sparse, own.delta.data(), layer.units, layer.kernel.gradient.data(),
        layer.bias.gradient.data(), layer.kernel.fused_update);
  } else {
    DenseBackwardWeights(batch, layer.inputs, layer.units, in.x, own.delta.data(),
                         layer.kernel.gradient.data(), layer.bias.gradient.data());
  }
  if (!below.delta) return;
  DenseBackwardInput(batch, layer.inputs, layer.units, own.delta.data(),
                     layer.kernel.value.data(), below.activation, below.z, below.a,
                     below.delta);
}

}  // namespace mb
