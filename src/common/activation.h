// The element-wise activations a layer can apply, and their names in
// configs. The lowest layer of the tree that needs them: the config schema
// parses them, the layers and the kernels apply them (the scalar reference
// in kernels/activation.h, the vector form in kernels/activation-inl.h).
#pragma once

#include <cstdint>

namespace mb {

// kSoftmax is not element-wise: a layer declared with it produces logits
// (its kernel epilogue is the identity) and the loss applies the softmax,
// fused with cross-entropy for numerical stability.
enum class Activation : uint8_t { kLinear, kRelu, kTanh, kSigmoid, kGelu, kSoftmax };

// The spellings configs use, indexed by Activation.
inline constexpr const char* kActivationNames[] = {"linear",  "relu", "tanh",
                                                   "sigmoid", "gelu", "softmax"};
constexpr const char* ActivationName(Activation a) {
  return kActivationNames[static_cast<int>(a)];
}

}  // namespace mb
