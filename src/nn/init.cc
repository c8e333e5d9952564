#include "nn/init.h"

#include <cmath>

namespace mb {

namespace {

// U(-limit, limit), one draw per value.
void FillUniform(double limit, Rng& rng, float* values, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    values[i] = static_cast<float>((2.0 * rng.UniformDouble() - 1.0) * limit);
  }
}

}  // namespace

void FillInitializer(Initializer scheme, size_t fan_in, size_t fan_out, Rng& rng,
                     float* values, size_t n) {
  switch (scheme) {
    case Initializer::kZeros:
      for (size_t i = 0; i < n; ++i) values[i] = 0.0f;
      return;
    case Initializer::kGlorotUniform:
      FillUniform(std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)), rng, values, n);
      return;
    case Initializer::kPytorchDefault:
      FillUniform(1.0 / std::sqrt(static_cast<double>(fan_in)), rng, values, n);
      return;
    case Initializer::kHeNormal: {
      // 0.87962566103423978 is the std of a unit normal truncated to [-2, 2].
      const double stddev = std::sqrt(2.0 / static_cast<double>(fan_in)) / 0.87962566103423978;
      for (size_t i = 0; i < n; ++i) {
        double x = rng.Normal();
        while (std::fabs(x) > 2.0) x = rng.Normal();
        values[i] = static_cast<float>(x * stddev);
      }
      return;
    }
  }
}

void InitializeModel(Model& model, uint64_t seed) {
  ForEachParameter(model, [&](Parameter& p) {
    Rng rng(seed, p.init.rng_stream);
    FillInitializer(p.init.scheme, p.init.fan_in, p.init.fan_out, rng, p.value.data(),
                    p.size());
  });
}

}  // namespace mb
