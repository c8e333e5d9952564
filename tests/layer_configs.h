// Short constructors of layer configs for tests, named as the config's
// "type" values.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "config/model_config.h"

namespace mb::test {

inline LayerConfig Dense(int units, Activation activation,
                         Initializer bias = Initializer::kZeros) {
  LayerConfig layer;
  layer.units = units;
  layer.activation = activation;
  layer.bias_initializer = bias;
  return layer;
}

inline LayerConfig Conv2D(int filters, size_t kernel_h, size_t kernel_w, Activation activation,
                          size_t stride = 1, Padding padding = Padding::kValid,
                          Initializer bias = Initializer::kZeros) {
  LayerConfig layer;
  layer.type = LayerType::kConv2D;
  layer.filters = filters;
  layer.window_h = kernel_h;
  layer.window_w = kernel_w;
  layer.stride_h = layer.stride_w = stride;
  layer.padding = padding;
  layer.activation = activation;
  layer.bias_initializer = bias;
  return layer;
}

inline LayerConfig MaxPooling2D(size_t pool, size_t stride, Padding padding = Padding::kValid) {
  LayerConfig layer;
  layer.type = LayerType::kMaxPooling2D;
  layer.window_h = layer.window_w = pool;
  layer.stride_h = layer.stride_w = stride;
  layer.padding = padding;
  return layer;
}

inline LayerConfig Flatten() {
  LayerConfig layer;
  layer.type = LayerType::kFlatten;
  return layer;
}

inline LayerConfig Dropout(double rate) {
  LayerConfig layer;
  layer.type = LayerType::kDropout;
  layer.rate = rate;
  return layer;
}

// The "activation" type (Activation itself names the enum).
inline LayerConfig ActivationOf(Activation activation) {
  LayerConfig layer;
  layer.type = LayerType::kActivation;
  layer.activation = activation;
  return layer;
}

// A valid config "model" with one layer of every type, each with only its
// required keys, so that the others take their defaults.
inline nlohmann::json EveryLayerTypeJson() {
  return nlohmann::json::parse(R"([
    {"type": "conv2d", "filters": 2, "kernel_size": 3},
    {"type": "max_pooling2d"},
    {"type": "activation", "activation": "relu"},
    {"type": "flatten"},
    {"type": "dropout"},
    {"type": "dense", "units": 10, "activation": "softmax"}])");
}

}  // namespace mb::test
