#include "nn/regularization.h"

#include <cmath>

namespace mb {

bool HasRegularization(const Model& model) {
  bool any = false;
  ForEachParameter(model, [&](const Parameter& p) { any = any || p.regularizer.active(); });
  return any;
}

double RegularizationLoss(const Model& model) {
  double total = 0;
  ForEachParameter(model, [&](const Parameter& p) {
    if (!p.regularizer.active()) return;
    double l1 = 0, l2 = 0;
    for (float w : p.value) {
      l1 += std::fabs(double{w});
      l2 += double{w} * double{w};
    }
    total += p.regularizer.l1 * l1 + p.regularizer.l2 * l2;
  });
  return total;
}

void AddRegularizationGradients(Model& model) {
  ForEachParameter(model, [](Parameter& p) {
    if (!p.regularizer.active()) return;
    const auto l1 = static_cast<float>(p.regularizer.l1);
    const auto twice_l2 = static_cast<float>(2.0 * p.regularizer.l2);
    for (size_t i = 0; i < p.size(); ++i) {
      const float w = p.value[i];
      const float sign = w > 0.0f ? 1.0f : (w < 0.0f ? -1.0f : 0.0f);
      p.gradient[i] += l1 * sign + twice_l2 * w;
    }
  });
}

}  // namespace mb
