// Run-time dispatch of the dense-layer products to the best SIMD target the
// CPU supports (Highway's foreach_target.h compiles gemm-inl.h once per
// target; HWY_DYNAMIC_DISPATCH picks one on first call).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemm.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/gemm-inl.h"

#if HWY_ONCE
#include "kernels/gemm.h"

namespace mb {

HWY_EXPORT(DenseForward);
HWY_EXPORT(DenseBackwardInput);
HWY_EXPORT(DenseBackwardWeights);

void DenseForward(size_t M, size_t K, size_t N, const float* X, const float* W,
                  const float* b, Activation act, float* Z, float* Y) {
  HWY_DYNAMIC_DISPATCH(DenseForward)(M, K, N, X, W, b, act, Z, Y);
}

void DenseBackwardInput(size_t M, size_t K, size_t N, const float* dY,
                        const float* W, Activation prev_act, const float* Z_prev,
                        const float* A_prev, float* dX) {
  HWY_DYNAMIC_DISPATCH(DenseBackwardInput)(M, K, N, dY, W, prev_act, Z_prev, A_prev, dX);
}

void DenseBackwardWeights(size_t M, size_t K, size_t N, const float* X,
                          const float* dY, float* dW, float* db) {
  HWY_DYNAMIC_DISPATCH(DenseBackwardWeights)(M, K, N, X, dY, dW, db);
}

}  // namespace mb
#endif  // HWY_ONCE
