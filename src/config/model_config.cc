// The schema of the config's "model" list: one reader per layer type, with
// Keras' key names and defaults, and the shape check that names the layer
// that cannot take its input.
#include "config/model_config.h"

#include <string>

#include "common/error.h"
#include "config/object_reader.h"

namespace mb {

using namespace schema;

namespace {

constexpr Named<LayerType> kLayerTypes[] = {
    {"dense", LayerType::kDense},
    {"conv2d", LayerType::kConv2D},
    {"max_pooling2d", LayerType::kMaxPooling2D},
    {"flatten", LayerType::kFlatten},
    {"dropout", LayerType::kDropout},
    {"activation", LayerType::kActivation},
};
constexpr Named<Activation> kActivations[] = {
    {ActivationName(Activation::kLinear), Activation::kLinear},
    {ActivationName(Activation::kRelu), Activation::kRelu},
    {ActivationName(Activation::kTanh), Activation::kTanh},
    {ActivationName(Activation::kSigmoid), Activation::kSigmoid},
    {ActivationName(Activation::kGelu), Activation::kGelu},
    {ActivationName(Activation::kSoftmax), Activation::kSoftmax},
};
constexpr Named<Initializer> kInitializers[] = {
    {"glorot_uniform", Initializer::kGlorotUniform},
    {"he_normal", Initializer::kHeNormal},
    {"zeros", Initializer::kZeros},
    {"pytorch_default", Initializer::kPytorchDefault},
};
constexpr Named<Padding> kPaddings[] = {
    {kPaddingNames[0], Padding::kValid},
    {kPaddingNames[1], Padding::kSame},
};

// Window sizes and strides beyond this are surely mistakes (and keep every
// product of shapes far from overflowing).
constexpr uint64_t kMaxWindow = 1024;

// A size given as an integer n (n x n) or as [height, width], as Keras
// accepts kernel_size, pool_size and strides; recorded as [height, width].
// Without a fallback the key is required.
std::pair<size_t, size_t> ReadSize2(ObjectReader& reader, const std::string& key,
                                    std::optional<std::pair<size_t, size_t>> fallback) {
  const json* value = reader.Find(key);
  if (!value && !fallback) reader.Fail(key, "missing (this key is required)");
  std::pair<size_t, size_t> size = fallback.value_or(std::pair<size_t, size_t>{0, 0});
  if (value) {
    const auto in_range = [](const json& v) {
      return v.is_number_integer() && !(v.is_number_integer() && !v.is_number_unsigned() &&
                                        v.get<int64_t>() < 1) &&
             v.get<uint64_t>() >= 1 && v.get<uint64_t>() <= kMaxWindow;
    };
    const std::string expected =
        "expected an integer or [height, width], each between 1 and " +
        std::to_string(kMaxWindow) + ", got ";
    if (value->is_array()) {
      if (value->size() != 2 || !in_range((*value)[0]) || !in_range((*value)[1])) {
        reader.Fail(key, expected + value->dump());
      }
      size = {(*value)[0].get<size_t>(), (*value)[1].get<size_t>()};
    } else {
      if (!in_range(*value)) reader.Fail(key, expected + DescribeValue(*value));
      size = {value->get<size_t>(), value->get<size_t>()};
    }
  }
  reader.Record(key, json::array({size.first, size.second}));
  return size;
}

// null (none) or {"l1": a, "l2": b}, each 0 by default, as Keras' L1L2.
Regularizer ReadRegularizer(ObjectReader& layer, const std::string& key) {
  const json* value = layer.Find(key);
  if (!value || value->is_null()) {
    layer.Record(key, nullptr);
    return {};
  }
  ObjectReader reader(layer.source(), Expect(layer.source(), layer.PathOf(key), *value,
                                             JsonKind::kObject),
                      layer.PathOf(key));
  Regularizer r;
  r.l1 = reader.Number("l1", 0.0, kNonNegative);
  r.l2 = reader.Number("l2", 0.0, kNonNegative);
  layer.Record(key, reader.Finish());
  return r;
}

void ReadActivationAndInitializers(ObjectReader& reader, LayerConfig& layer) {
  layer.activation = reader.Choice("activation", "linear", kActivations).value;
  layer.kernel_initializer =
      reader.Choice("kernel_initializer", "glorot_uniform", kInitializers).value;
  layer.bias_initializer = reader.Choice("bias_initializer", "zeros", kInitializers).value;
  layer.kernel_regularizer = ReadRegularizer(reader, "kernel_regularizer");
  layer.bias_regularizer = ReadRegularizer(reader, "bias_regularizer");
}

// The keys of one layer, after its "type".
void ReadLayerKeys(ObjectReader& reader, LayerConfig& layer) {
  switch (layer.type) {
    case LayerType::kDense:
      layer.units = static_cast<int>(reader.Integer("units", std::nullopt, 1, 65536));
      ReadActivationAndInitializers(reader, layer);
      return;
    case LayerType::kConv2D: {
      layer.filters = static_cast<int>(reader.Integer("filters", std::nullopt, 1, 65536));
      std::tie(layer.window_h, layer.window_w) = ReadSize2(reader, "kernel_size", std::nullopt);
      std::tie(layer.stride_h, layer.stride_w) =
          ReadSize2(reader, "strides", std::pair<size_t, size_t>{1, 1});
      layer.padding = reader.Choice("padding", "valid", kPaddings).value;
      ReadActivationAndInitializers(reader, layer);
      return;
    }
    case LayerType::kMaxPooling2D: {
      std::tie(layer.window_h, layer.window_w) =
          ReadSize2(reader, "pool_size", std::pair<size_t, size_t>{2, 2});
      std::tie(layer.stride_h, layer.stride_w) =
          ReadSize2(reader, "strides", std::pair{layer.window_h, layer.window_w});
      layer.padding = reader.Choice("padding", "valid", kPaddings).value;
      return;
    }
    case LayerType::kFlatten: return;
    case LayerType::kDropout:
      layer.rate = reader.Number("rate", 0.0, kFraction);
      return;
    case LayerType::kActivation:
      // Required, as Keras' Activation(activation) has no default.
      if (!reader.Find("activation")) reader.Fail("activation", "missing (this key is required)");
      layer.activation = reader.Choice("activation", "linear", kActivations).value;
      return;
  }
}

// The Keras book's network, used when the config has no "model".
json DefaultModel() {
  return json::array({json{{"units", 512}, {"activation", "relu"}},
                      json{{"units", kNumClasses}, {"activation", "softmax"}}});
}

std::string LayerPath(size_t i) { return "model." + std::to_string(i); }

// "model.1" or "the data", for "the 3x3 input from ...".
std::string InputSource(size_t i) { return i == 0 ? "the data" : LayerPath(i - 1); }

std::string WindowText(size_t h, size_t w) { return std::to_string(h) + "x" + std::to_string(w); }

}  // namespace

const char* LayerTypeName(LayerType type) {
  for (const Named<LayerType>& named : kLayerTypes) {
    if (named.value == type) return named.name;
  }
  return "?";
}

std::vector<LayerConfig> ReadModel(ObjectReader& top) {
  const json* found = top.Find("model");
  const json model =
      found ? Expect(top.source(), top.PathOf("model"), *found, JsonKind::kArray) : DefaultModel();
  if (model.empty()) top.Fail("model", "must have at least one layer");

  std::vector<LayerConfig> layers;
  json resolved = json::array();
  for (size_t i = 0; i < model.size(); ++i) {
    const std::string path = top.PathOf("model") + "." + std::to_string(i);
    ObjectReader reader(top.source(), Expect(top.source(), path, model[i], JsonKind::kObject),
                        path);
    LayerConfig layer;
    layer.type = reader.Choice("type", "dense", kLayerTypes).value;
    ReadLayerKeys(reader, layer);
    resolved.push_back(reader.Finish());

    // The loss fuses softmax with cross-entropy, so softmax can only be the
    // output, and the output must be a probability per class.
    const bool last = i + 1 == model.size();
    if (last && layer.type != LayerType::kDense) {
      reader.Fail("type", std::string("the last layer must be dense (") +
                              std::to_string(kNumClasses) + " units, softmax), got '" +
                              LayerTypeName(layer.type) + "'");
    }
    if (!last && layer.activation == Activation::kSoftmax) {
      reader.Fail("activation", "softmax is only allowed on the last layer");
    }
    if (last && layer.activation != Activation::kSoftmax) {
      reader.Fail("activation", std::string("the last layer must be softmax (the loss needs ") +
                                    "class probabilities), got '" +
                                    ActivationName(layer.activation) + "'");
    }
    if (last && layer.units != kNumClasses) {
      reader.Fail("units", "the last layer must have " + std::to_string(kNumClasses) +
                               " units, one per MNIST class, got " + std::to_string(layer.units));
    }
    layers.push_back(layer);
  }
  top.Record("model", resolved);
  LayerOutputShapes(layers, MnistInputShape(), top.source());
  return layers;
}

std::vector<FeatureShape> LayerOutputShapes(const std::vector<LayerConfig>& layers,
                                            const FeatureShape& input, const std::string& source) {
  std::vector<FeatureShape> shapes;
  FeatureShape in = input;
  // Whether `in` is the data itself, as far as the layers go (dropout and
  // activation keep it so): a dense layer reads the image flattened, as the
  // Keras book's reshape to 784 does, but needs a flatten after a
  // convolution or pooling.
  bool from_data = true;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerConfig& layer = layers[i];
    const std::string path = LayerPath(i);
    const auto fail = [&](const std::string& key, const std::string& problem) {
      throw InputError(source + ": " + path + (key.empty() ? "" : "." + key) + ": " + problem);
    };
    const auto need_image = [&] {
      if (in.flat) {
        fail("", std::string(LayerTypeName(layer.type)) + " needs an image input, but " +
                     InputSource(i) + " outputs a vector of " + std::to_string(in.channels) +
                     " features");
      }
    };
    FeatureShape out = in;
    switch (layer.type) {
      case LayerType::kDense:
        if (!in.flat && !from_data) {
          fail("", "dense needs a vector input, but " + InputSource(i) + " outputs " + in.Text() +
                       "; add {\"type\": \"flatten\"} before it");
        }
        out = FeatureShape::Vector(static_cast<size_t>(layer.units));
        break;
      case LayerType::kConv2D:
      case LayerType::kMaxPooling2D: {
        need_image();
        const bool conv = layer.type == LayerType::kConv2D;
        const size_t h = WindowOutputExtent(in.height, layer.window_h, layer.stride_h, layer.padding);
        const size_t w = WindowOutputExtent(in.width, layer.window_w, layer.stride_w, layer.padding);
        if (h == 0 || w == 0) {
          fail(conv ? "kernel_size" : "pool_size",
               WindowText(layer.window_h, layer.window_w) + (conv ? " kernel" : " window") +
                   " does not fit the " + WindowText(in.height, in.width) + " input from " +
                   InputSource(i) + " (with \"valid\" padding)");
        }
        out = FeatureShape::Image(h, w, conv ? static_cast<size_t>(layer.filters) : in.channels);
        break;
      }
      case LayerType::kFlatten: out = FeatureShape::Vector(in.size()); break;
      case LayerType::kDropout:
      case LayerType::kActivation: break;
    }
    if (layer.type != LayerType::kDropout && layer.type != LayerType::kActivation) {
      from_data = false;
    }
    shapes.push_back(out);
    in = out;
  }
  return shapes;
}

}  // namespace mb
