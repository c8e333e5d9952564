#include "nn/softmax_cross_entropy.h"

#include <algorithm>
#include <vector>

#include "kernels/vector_math.h"

namespace mb {

namespace {

// The first largest of a row's logits.
size_t FirstArgMax(const float* z, size_t classes) {
  size_t best = 0;
  for (size_t c = 1; c < classes; ++c) {
    if (z[c] > z[best]) best = c;
  }
  return best;
}

// A batch's row-wise softmax before normalisation. exps[i * classes + c] =
// e^(z[i, c] - max_i), with e^0 = 1 exactly at the row's (first) argmax, and
// rest[i] the sum of the row's other exps, c ascending: the row sums to
// 1 + rest[i], and log-sum-exp is max_i + log1p(rest[i]), accurate however
// close to 1 the sum is. Buffers grow to the largest batch and are kept, so
// a training step allocates nothing.
struct ShiftedExps {
  std::vector<float> exps, max, rest;
  std::vector<float> log_sums;  // log1p(rest), for the loss
  std::vector<size_t> argmax;

  void Compute(const float* logits, size_t batch, size_t classes) {
    if (exps.size() < batch * classes) exps.resize(batch * classes);
    if (max.size() < batch) {
      max.resize(batch);
      rest.resize(batch);
      log_sums.resize(batch);
      argmax.resize(batch);
    }
    for (size_t i = 0; i < batch; ++i) {
      const float* z = logits + i * classes;
      const size_t best = FirstArgMax(z, classes);
      argmax[i] = best;
      max[i] = z[best];
      for (size_t c = 0; c < classes; ++c) exps[i * classes + c] = z[c] - z[best];
    }
    ExpInPlace(exps.data(), batch * classes);
    for (size_t i = 0; i < batch; ++i) {
      float sum = 0.0f;
      for (size_t c = 0; c < classes; ++c) {
        if (c != argmax[i]) sum += exps[i * classes + c];
      }
      rest[i] = sum;
    }
  }

  // The softmax of row i into out[0 .. classes).
  void Probabilities(size_t i, size_t classes, float* out) const {
    const float inv = static_cast<float>(1.0 / (1.0 + static_cast<double>(rest[i])));
    for (size_t c = 0; c < classes; ++c) out[c] = exps[i * classes + c] * inv;
  }
};

ShiftedExps& ThreadScratch() {
  static thread_local ShiftedExps scratch;
  return scratch;
}

}  // namespace

BatchLoss SoftmaxCrossEntropy(const float* logits, const uint8_t* labels, size_t batch,
                              size_t classes, float grad_scale, float* dlogits) {
  ShiftedExps& s = ThreadScratch();
  s.Compute(logits, batch, classes);
  std::copy(s.rest.begin(), s.rest.begin() + static_cast<std::ptrdiff_t>(batch),
            s.log_sums.begin());
  Log1pInPlace(s.log_sums.data(), batch);
  BatchLoss result;
  for (size_t i = 0; i < batch; ++i) {
    const size_t label = labels[i];
    // -log p[label] = log(sum e^(z - max)) - (z[label] - max)
    result.loss_sum += static_cast<double>(s.log_sums[i]) -
                       (static_cast<double>(logits[i * classes + label]) - s.max[i]);
    result.correct += s.argmax[i] == label;
    if (dlogits) {
      float* g = dlogits + i * classes;
      s.Probabilities(i, classes, g);
      g[label] -= 1.0f;
      for (size_t c = 0; c < classes; ++c) g[c] *= grad_scale;
    }
  }
  return result;
}

void Softmax(const float* logits, size_t batch, size_t classes, float* probabilities) {
  ShiftedExps& s = ThreadScratch();
  s.Compute(logits, batch, classes);
  for (size_t i = 0; i < batch; ++i) s.Probabilities(i, classes, probabilities + i * classes);
}

void PredictedClasses(const float* logits, size_t batch, size_t classes, uint8_t* predicted) {
  for (size_t i = 0; i < batch; ++i) {
    predicted[i] = static_cast<uint8_t>(FirstArgMax(logits + i * classes, classes));
  }
}

}  // namespace mb
