// Softmax followed by sparse categorical cross-entropy, fused: the loss is
// computed from the logits as logsumexp(z) - z[label] (stable for any
// logits), and its gradient (p - onehot) in the same pass.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb {

struct BatchLoss {
  double loss_sum = 0;  // sum over the batch of -log p[label]
  size_t correct = 0;   // samples whose argmax is the label
};

// For `batch` rows of `classes` logits: returns the summed loss and the
// number of correct predictions; when dlogits is not null writes
// dLoss/dlogits = (softmax(z) - onehot(label)) * grad_scale (grad_scale =
// 1 / batch for the mean loss Keras minimises).
BatchLoss SoftmaxCrossEntropy(const float* logits, const uint8_t* labels, size_t batch,
                              size_t classes, float grad_scale, float* dlogits);

// Row-wise softmax probabilities.
void Softmax(const float* logits, size_t batch, size_t classes, float* probabilities);

// Each row's predicted class: its first largest logit, the argmax the loss
// counts as correct or not.
void PredictedClasses(const float* logits, size_t batch, size_t classes, uint8_t* predicted);

}  // namespace mb
