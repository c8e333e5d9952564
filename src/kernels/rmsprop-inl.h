// Keras' RMSprop update of one vector of parameters, shared by the
// optimizer's pass over a tensor (optim/optimizer-inl.h) and the sparse weight
// gradient kernel that applies it fused (kernels/sparse_gemm-inl.h), so both give
// bitwise the same weights:
//   v = rho * v + (1 - rho) * g^2;  w -= lr * g / sqrt(v + epsilon)

#if defined(MB_KERNELS_RMSPROP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_RMSPROP_INL_H_
#undef MB_KERNELS_RMSPROP_INL_H_
#else
#define MB_KERNELS_RMSPROP_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

struct RmspropParams {
  float learning_rate, rho, epsilon;
};

template <class D>
HWY_INLINE void RmspropVector(D d, const RmspropParams& p, hn::Vec<D> g, float* HWY_RESTRICT w,
                              float* HWY_RESTRICT v) {
  const auto vv = hn::Add(hn::Mul(hn::Set(d, p.rho), hn::LoadU(d, v)),
                          hn::Mul(hn::Mul(hn::Set(d, 1.0f - p.rho), g), g));
  hn::StoreU(vv, d, v);
  const auto step = hn::Div(hn::Mul(hn::Set(d, p.learning_rate), g),
                            hn::Sqrt(hn::Add(vv, hn::Set(d, p.epsilon))));
  hn::StoreU(hn::Sub(hn::LoadU(d, w), step), d, w);
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_RMSPROP_INL_H_
