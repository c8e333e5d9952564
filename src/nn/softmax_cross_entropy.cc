#include "nn/softmax_cross_entropy.h"

#include <cmath>

namespace mb {

namespace {
// Softmax of one row into `out` (which may alias nothing); returns
// log(sum(exp(z - max))) and writes the max and argmax.
double SoftmaxRow(const float* z, size_t classes, float* out, float* max_out,
                  size_t* argmax_out) {
  size_t argmax = 0;
  for (size_t c = 1; c < classes; ++c) {
    if (z[c] > z[argmax]) argmax = c;
  }
  const float max = z[argmax];
  double sum = 0.0;
  for (size_t c = 0; c < classes; ++c) {
    const float e = std::exp(z[c] - max);
    if (out) out[c] = e;
    sum += e;
  }
  if (out) {
    const float inv = static_cast<float>(1.0 / sum);
    for (size_t c = 0; c < classes; ++c) out[c] *= inv;
  }
  *max_out = max;
  *argmax_out = argmax;
  return std::log(sum);
}
}  // namespace

BatchLoss SoftmaxCrossEntropy(const float* logits, const uint8_t* labels, size_t batch,
                              size_t classes, float grad_scale, float* dlogits) {
  BatchLoss result;
  for (size_t i = 0; i < batch; ++i) {
    const float* z = logits + i * classes;
    float* g = dlogits ? dlogits + i * classes : nullptr;
    float max;
    size_t argmax;
    const double log_sum = SoftmaxRow(z, classes, g, &max, &argmax);
    const size_t label = labels[i];
    result.loss_sum += log_sum - (static_cast<double>(z[label]) - max);
    result.correct += argmax == label;
    if (g) {
      g[label] -= 1.0f;
      for (size_t c = 0; c < classes; ++c) g[c] *= grad_scale;
    }
  }
  return result;
}

void Softmax(const float* logits, size_t batch, size_t classes, float* probabilities) {
  for (size_t i = 0; i < batch; ++i) {
    float max;
    size_t argmax;
    SoftmaxRow(logits + i * classes, classes, probabilities + i * classes, &max, &argmax);
  }
}

}  // namespace mb
