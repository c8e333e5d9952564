// The config's "model": a list of layers named and parameterised as in
// Keras, each checked against the shape of its input when the config is
// validated. The schema of one layer type lives here; its arithmetic in
// kernels/ and its forward and backward passes in nn/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/activation.h"
#include "common/feature_shape.h"
#include "common/padding.h"

namespace mb {

namespace schema {
class ObjectReader;
}

// The number of MNIST classes: the last layer must have this many units.
// Data sets with another number of classes are not supported yet.
inline constexpr int kNumClasses = 10;

// The input the schema checks a model against: MNIST's (and Fashion-MNIST's)
// 28x28 grey images. Data of another size is checked again, with the same
// messages, when the model is built for it (nn/model.h).
inline FeatureShape MnistInputShape() { return FeatureShape::Image(28, 28, 1); }

enum class LayerType : uint8_t { kDense, kConv2D, kMaxPooling2D, kFlatten, kDropout, kActivation };
enum class Initializer : uint8_t { kGlorotUniform, kHeNormal, kZeros, kPytorchDefault };

struct Regularizer {
  double l1 = 0, l2 = 0;
  bool active() const { return l1 != 0 || l2 != 0; }
};

// Keras' name of a layer type ("dense", "conv2d", ...).
const char* LayerTypeName(LayerType type);

struct LayerConfig {
  LayerType type = LayerType::kDense;
  int units = 0;    // dense
  int filters = 0;  // conv2d
  // conv2d's kernel_size, max_pooling2d's pool_size; and their strides.
  size_t window_h = 0, window_w = 0;
  size_t stride_h = 1, stride_w = 1;
  Padding padding = Padding::kValid;              // conv2d, max_pooling2d
  Activation activation = Activation::kLinear;    // dense, conv2d, activation
  Initializer kernel_initializer = Initializer::kGlorotUniform;  // dense, conv2d
  Initializer bias_initializer = Initializer::kZeros;            // dense, conv2d
  double rate = 0.0;                              // dropout
  // Keras' kernel_regularizer / bias_regularizer, L1L2: l1 * sum |w| +
  // l2 * sum w^2 added to the loss (dense, conv2d; 0: none).
  Regularizer kernel_regularizer, bias_regularizer;
};

// Reads, validates and records top's "model" (the Keras book's network when
// it has none). Dense layers are resolved with "type": "dense", which
// HashedPart (config.h) leaves out so that configs written before layer
// types keep their hash.
std::vector<LayerConfig> ReadModel(schema::ObjectReader& top);

// Each layer's output shape on `input`. Throws InputError "<source>:
// model.<i>.<key>: <problem>" naming the first layer that cannot take its
// input ("model.2.kernel_size: 5x5 kernel does not fit the 3x3 input from
// model.1").
std::vector<FeatureShape> LayerOutputShapes(const std::vector<LayerConfig>& layers,
                                            const FeatureShape& input, const std::string& source);

}  // namespace mb
