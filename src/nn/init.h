// Parameter initialisation with Keras' schemes, drawn from the documented
// generator in common/rng.h so a seed gives the same weights everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/rng.h"
#include "config/config.h"
#include "nn/model.h"

namespace mb {

// Fills n values. fan_in/fan_out as Keras computes them: a kernel [in, out]
// has fan_in = in, fan_out = out; a bias [n] has fan_in = fan_out = n
// (except for pytorch_default: BiasFanIn in nn/parameter.h).
//  glorot_uniform:  U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))
//  he_normal:       normal(0, s) truncated to +-2 s and rescaled as Keras'
//                   VarianceScaling does: s = sqrt(2 / fan_in) / 0.87962566
//  zeros:           0
//  pytorch_default: U(-limit, limit), limit = 1 / sqrt(fan_in), what
//                   torch.nn.Linear and Conv2d draw (kaiming_uniform with
//                   a = sqrt(5) for the weight, and the same bound for the
//                   bias)
void FillInitializer(Initializer scheme, size_t fan_in, size_t fan_out, Rng& rng,
                     float* values, size_t n);

// Fills every parameter of the model as its ParameterInit says, each from
// its own RNG stream of `seed`.
void InitializeModel(Model& model, uint64_t seed);

}  // namespace mb
