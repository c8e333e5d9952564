// Plain loops, written for obviousness rather than speed: the ground truth
// the SIMD kernels are tested against. Sums are accumulated in double so the
// reference is closer to the exact result than any float kernel.
#include "kernels/gemm.h"

namespace mb::reference {

void DenseForward(size_t M, size_t K, size_t N, const float* X, const float* W,
                  const float* b, Activation act, float* Z, float* Y) {
  for (size_t m = 0; m < M; ++m) {
    for (size_t n = 0; n < N; ++n) {
      double sum = b ? b[n] : 0.0;
      for (size_t k = 0; k < K; ++k) sum += double{X[m * K + k]} * W[k * N + n];
      const float z = static_cast<float>(sum);
      if (Z) Z[m * N + n] = z;
      Y[m * N + n] = ActivationForward(act, z);
    }
  }
}

void DenseBackwardInput(size_t M, size_t K, size_t N, const float* dY,
                        const float* W, Activation prev_act, const float* Z_prev,
                        const float* A_prev, float* dX) {
  for (size_t m = 0; m < M; ++m) {
    for (size_t k = 0; k < K; ++k) {
      double sum = 0.0;
      for (size_t n = 0; n < N; ++n) sum += double{dY[m * N + n]} * W[k * N + n];
      const float z = Z_prev ? Z_prev[m * K + k] : 0.0f;
      const float a = A_prev[m * K + k];
      dX[m * K + k] = static_cast<float>(sum) * ActivationDerivative(prev_act, z, a);
    }
  }
}

void DenseBackwardWeights(size_t M, size_t K, size_t N, const float* X,
                          const float* dY, float* dW, float* db) {
  for (size_t k = 0; k < K; ++k) {
    for (size_t n = 0; n < N; ++n) {
      double sum = 0.0;
      for (size_t m = 0; m < M; ++m) sum += double{X[m * K + k]} * dY[m * N + n];
      dW[k * N + n] = static_cast<float>(sum);
    }
  }
  for (size_t n = 0; n < N; ++n) {
    double sum = 0.0;
    for (size_t m = 0; m < M; ++m) sum += dY[m * N + n];
    db[n] = static_cast<float>(sum);
  }
}

}  // namespace mb::reference
