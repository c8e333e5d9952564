// Keras' kernel_regularizer and bias_regularizer (L1L2): the terms they add
// to the loss, l1 * sum |w| + l2 * sum w^2 per tensor, and their gradient,
// l1 * sign(w) + 2 l2 w, added to the data gradient before the update.
#pragma once

#include "nn/model.h"

namespace mb {

// Whether any tensor of the model has a regularizer.
bool HasRegularization(const Model& model);

// The sum of the terms over the model's tensors, in double, each tensor's
// elements in order on one thread: the same on every machine.
double RegularizationLoss(const Model& model);

// gradient += l1 * sign(w) + (2 l2) * w, in float32, for every regularized
// tensor.
void AddRegularizationGradients(Model& model);

}  // namespace mb
