// Highway SIMD update passes for the optimizers of optimizer.h: one pass
// over each parameter tensor, element-wise with the formulas of
// optimizer.h. Every element gets the same operations whatever the block
// split, so results do not depend on the thread count, and none is a fused
// multiply-add (the build sets -ffp-contract=off), so they do not depend on
// the target either: these are Keras' formulas, one rounding per operation.
// Included once per target by optimizer.cc.

#if defined(MB_OPTIM_OPTIMIZER_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_OPTIM_OPTIMIZER_INL_H_
#undef MB_OPTIM_OPTIMIZER_INL_H_
#else
#define MB_OPTIM_OPTIMIZER_INL_H_
#endif

#include <algorithm>
#include <cstddef>

#include "common/team.h"
#include "hwy/highway.h"
#include "kernels/rmsprop-inl.h"
#include "optim/optimizer.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Tensors are split into blocks of this many floats across the OpenMP team;
// small tensors (biases) are updated on the calling thread. (Splitting a
// layer's columns per thread like the kernels do, to keep each thread's
// weights in its own cache, measured 15% slower per epoch: more, shorter
// row segments.)
constexpr size_t kUpdateBlock = 8192;

// Calls update(begin, end) over [0, n) in blocks, on the team when n is large.
template <class Update>
void ForEachBlock(size_t n, const Update& update) {
  const size_t blocks = (n + kUpdateBlock - 1) / kUpdateBlock;
#pragma omp parallel for schedule(static) if (UseTeam(blocks > 1))
  for (size_t block = 0; block < blocks; ++block) {
    const size_t begin = block * kUpdateBlock;
    update(begin, std::min(n, begin + kUpdateBlock));
  }
}

// Applies op(d, w, g, m, v, u) to [begin, end) a full vector at a time (g,
// m, v and u may be null: the op does not read them). The
// last partial vector goes through the same vector code on copies padded
// with zeros, so every element gets the very same instructions (a separate
// scalar tail could be compiled with or without fused multiply-adds and
// round differently).
template <class Op>
HWY_INLINE void Elementwise(size_t begin, size_t end, float* HWY_RESTRICT w,
                            const float* HWY_RESTRICT g, float* HWY_RESTRICT m,
                            float* HWY_RESTRICT v, float* HWY_RESTRICT u, const Op& op) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  size_t i = begin;
  for (; i + L <= end; i += L) {
    op(d, w + i, g ? g + i : nullptr, m ? m + i : nullptr, v ? v + i : nullptr,
       u ? u + i : nullptr);
  }
  if (i == end) return;
  const size_t rest = end - i;
  HWY_ALIGN float tw[HWY_LANES(float)] = {}, tg[HWY_LANES(float)] = {};
  HWY_ALIGN float tm[HWY_LANES(float)] = {}, tv[HWY_LANES(float)] = {};
  HWY_ALIGN float tu[HWY_LANES(float)] = {};
  for (size_t j = 0; j < rest; ++j) {
    tw[j] = w[i + j];
    if (g) tg[j] = g[i + j];
    if (m) tm[j] = m[i + j];
    if (v) tv[j] = v[i + j];
    if (u) tu[j] = u[i + j];
  }
  op(d, tw, tg, m ? tm : nullptr, v ? tv : nullptr, u ? tu : nullptr);
  for (size_t j = 0; j < rest; ++j) {
    w[i + j] = tw[j];
    if (m) m[i + j] = tm[j];
    if (v) v[i + j] = tv[j];
    if (u) u[i + j] = tu[j];
  }
}

// One update pass over a tensor: op on every vector of it (Elementwise),
// in blocks on the team (ForEachBlock).
template <class Op>
void UpdatePass(size_t n, float* HWY_RESTRICT w, const float* HWY_RESTRICT g,
                float* HWY_RESTRICT m, float* HWY_RESTRICT v, float* HWY_RESTRICT u,
                const Op& op) {
  ForEachBlock(n, [&](size_t begin, size_t end) { Elementwise(begin, end, w, g, m, v, u, op); });
}

// a * x + b * y: the moving averages of rmsprop, adadelta and lion.
template <class D>
HWY_INLINE hn::Vec<D> Blend(D d, float a, hn::Vec<D> x, float b, hn::Vec<D> y) {
  return hn::Add(hn::Mul(hn::Set(d, a), x), hn::Mul(hn::Set(d, b), y));
}

// x + (target - x) * rate: the moving averages of adam, adamax and nadam.
template <class D>
HWY_INLINE hn::Vec<D> Towards(D d, hn::Vec<D> x, hn::Vec<D> target, float rate) {
  return hn::Add(x, hn::Mul(hn::Sub(target, x), hn::Set(d, rate)));
}

// Adam's and Nadam's moments, stored:
// m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
template <class D>
HWY_INLINE void AdamMoments(D d, hn::Vec<D> g, float beta_1, float beta_2, float* HWY_RESTRICT mp,
                            float* HWY_RESTRICT vp, hn::Vec<D>* m, hn::Vec<D>* v) {
  *m = Towards(d, hn::LoadU(d, mp), g, 1.0f - beta_1);
  *v = Towards(d, hn::LoadU(d, vp), hn::Mul(g, g), 1.0f - beta_2);
  hn::StoreU(*m, d, mp);
  hn::StoreU(*v, d, vp);
}

// w -= step
template <class D>
HWY_INLINE void SubtractFrom(D d, float* HWY_RESTRICT wp, hn::Vec<D> step) {
  hn::StoreU(hn::Sub(hn::LoadU(d, wp), step), d, wp);
}

// w -= lr * g
inline void SgdStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g, size_t n, float lr) {
  UpdatePass(n, w, g, nullptr, nullptr, nullptr,
             [&](auto d, float* wp, const float* gp, float*, float*, float*) {
               SubtractFrom(d, wp, hn::Mul(hn::Set(d, lr), hn::LoadU(d, gp)));
             });
}

// m = momentum * m - lr * g;  w += m  or (nesterov)  w += momentum * m - lr * g
inline void SgdMomentumStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g,
                            float* HWY_RESTRICT m, size_t n, float lr, float momentum,
                            bool nesterov) {
  UpdatePass(n, w, g, m, nullptr, nullptr,
             [&](auto d, float* wp, const float* gp, float* mp, float*, float*) {
               const auto mu = hn::Set(d, momentum);
               const auto step = hn::Mul(hn::Set(d, lr), hn::LoadU(d, gp));
               const auto mv = hn::Sub(hn::Mul(mu, hn::LoadU(d, mp)), step);
               hn::StoreU(mv, d, mp);
               const auto delta = nesterov ? hn::Sub(hn::Mul(mu, mv), step) : mv;
               hn::StoreU(hn::Add(hn::LoadU(d, wp), delta), d, wp);
             });
}

// v = rho * v + (1 - rho) * g^2;  w -= lr * g / sqrt(v + epsilon)
inline void RmspropStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g,
                        float* HWY_RESTRICT v, size_t n, float lr, float rho, float epsilon) {
  UpdatePass(n, w, g, nullptr, v, nullptr,
             [&](auto d, float* wp, const float* gp, float*, float* vp, float*) {
               RmspropVector(d, RmspropParams{lr, rho, epsilon}, hn::LoadU(d, gp), wp, vp);
             });
}

// m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
// w -= step_size * m / (sqrt(v) + epsilon)
// (amsgrad, with v_hat: v_hat = max(v_hat, v), which the step divides by)
inline void AdamStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g, float* HWY_RESTRICT m,
                     float* HWY_RESTRICT v, float* HWY_RESTRICT v_hat, size_t n, float step_size,
                     float beta_1, float beta_2, float epsilon) {
  UpdatePass(n, w, g, m, v, v_hat,
             [&](auto d, float* wp, const float* gp, float* mp, float* vp, float* hp) {
               hn::Vec<decltype(d)> mv, vv;
               AdamMoments(d, hn::LoadU(d, gp), beta_1, beta_2, mp, vp, &mv, &vv);
               if (hp) {
                 vv = hn::Max(hn::LoadU(d, hp), vv);
                 hn::StoreU(vv, d, hp);
               }
               SubtractFrom(d, wp,
                            hn::Div(hn::Mul(hn::Set(d, step_size), mv),
                                    hn::Add(hn::Sqrt(vv), hn::Set(d, epsilon))));
             });
}

// RMSprop with Keras' momentum and/or centered options (Keras 3's
// rmsprop.py; the plain form is RmspropStep):
//   v = rho * v + (1 - rho) * g^2
//   centered: a = rho * a + (1 - rho) * g;  denominator = v - a^2 + epsilon
//   else denominator = v + epsilon
//   increment = lr * g / sqrt(denominator)
//   momentum > 0: m = momentum * m + increment;  w -= m   (else w -= increment)
// m and a may be null (no momentum, not centered).
inline void RmspropOptionsStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g,
                               float* HWY_RESTRICT v, float* HWY_RESTRICT m,
                               float* HWY_RESTRICT a, size_t n, float lr, float rho,
                               float epsilon, float momentum) {
  UpdatePass(n, w, g, m, v, a,
             [&](auto d, float* wp, const float* gp, float* mp, float* vp, float* ap) {
               const auto gv = hn::LoadU(d, gp);
               const auto vv = Blend(d, rho, hn::LoadU(d, vp), 1.0f - rho, hn::Mul(gv, gv));
               hn::StoreU(vv, d, vp);
               auto denominator = hn::Add(vv, hn::Set(d, epsilon));
               if (ap) {
                 const auto av = Blend(d, rho, hn::LoadU(d, ap), 1.0f - rho, gv);
                 hn::StoreU(av, d, ap);
                 denominator = hn::Add(hn::Sub(vv, hn::Mul(av, av)), hn::Set(d, epsilon));
               }
               const auto increment = hn::Div(hn::Mul(hn::Set(d, lr), gv), hn::Sqrt(denominator));
               auto step = increment;
               if (mp) {
                 step = hn::Add(hn::Mul(hn::Set(d, momentum), hn::LoadU(d, mp)), increment);
                 hn::StoreU(step, d, mp);
               }
               SubtractFrom(d, wp, step);
             });
}

// Keras 3's adagrad.py:
//   accumulator += g^2  (from initial_accumulator_value)
//   w -= lr * g / sqrt(accumulator + epsilon)
inline void AdagradStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g,
                        float* HWY_RESTRICT accumulator, size_t n, float lr, float epsilon) {
  UpdatePass(n, w, g, accumulator, nullptr, nullptr,
             [&](auto d, float* wp, const float* gp, float* ap, float*, float*) {
               const auto gv = hn::LoadU(d, gp);
               const auto av = hn::Add(hn::LoadU(d, ap), hn::Mul(gv, gv));
               hn::StoreU(av, d, ap);
               SubtractFrom(d, wp,
                            hn::Div(hn::Mul(hn::Set(d, lr), gv),
                                    hn::Sqrt(hn::Add(av, hn::Set(d, epsilon)))));
             });
}

// Keras 3's adadelta.py (a = accumulated_grad, s = accumulated_delta_var):
//   a = rho * a + (1 - rho) * g^2
//   delta = -(sqrt(s + epsilon) * g / sqrt(a + epsilon))
//   s = rho * s + (1 - rho) * delta^2
//   w += lr * delta
inline void AdadeltaStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g, float* HWY_RESTRICT a,
                         float* HWY_RESTRICT s, size_t n, float lr, float rho, float epsilon) {
  UpdatePass(n, w, g, a, s, nullptr,
             [&](auto d, float* wp, const float* gp, float* ap, float* sp, float*) {
               const auto gv = hn::LoadU(d, gp);
               const auto eps = hn::Set(d, epsilon);
               const auto av = Blend(d, rho, hn::LoadU(d, ap), 1.0f - rho, hn::Mul(gv, gv));
               hn::StoreU(av, d, ap);
               const auto sv = hn::LoadU(d, sp);
               const auto delta = hn::Neg(hn::Div(hn::Mul(hn::Sqrt(hn::Add(sv, eps)), gv),
                                                  hn::Sqrt(hn::Add(av, eps))));
               hn::StoreU(Blend(d, rho, sv, 1.0f - rho, hn::Mul(delta, delta)), d, sp);
               hn::StoreU(hn::Add(hn::LoadU(d, wp), hn::Mul(hn::Set(d, lr), delta)), d, wp);
             });
}

// Keras 3's adamax.py (u: the norm), with correction = 1 - beta_1^t:
//   m += (g - m) * (1 - beta_1);  u = max(beta_2 * u, |g|)
//   w -= lr * m / (correction * (u + epsilon))
inline void AdamaxStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g, float* HWY_RESTRICT m,
                       float* HWY_RESTRICT u, size_t n, float lr, float beta_1, float beta_2,
                       float epsilon, float correction) {
  UpdatePass(n, w, g, m, u, nullptr,
             [&](auto d, float* wp, const float* gp, float* mp, float* up, float*) {
               const auto gv = hn::LoadU(d, gp);
               const auto mv = Towards(d, hn::LoadU(d, mp), gv, 1.0f - beta_1);
               const auto uv = hn::Max(hn::Mul(hn::Set(d, beta_2), hn::LoadU(d, up)), hn::Abs(gv));
               hn::StoreU(mv, d, mp);
               hn::StoreU(uv, d, up);
               SubtractFrom(d, wp,
                            hn::Div(hn::Mul(hn::Set(d, lr), mv),
                                    hn::Mul(hn::Set(d, correction),
                                            hn::Add(uv, hn::Set(d, epsilon)))));
             });
}

// Keras 3's nadam.py, with step t's factors (NadamFactors, optimizer.h):
//   m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
//   m_hat = u_{t+1} * m / (1 - u_1...u_{t+1}) + (1 - u_t) * g / (1 - u_1...u_t)
//   v_hat = v / (1 - beta_2^t)
//   w -= m_hat * lr / (sqrt(v_hat) + epsilon)
inline void NadamStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g, float* HWY_RESTRICT m,
                      float* HWY_RESTRICT v, size_t n, float lr, float beta_1, float beta_2,
                      float epsilon, const NadamFactors& f) {
  UpdatePass(n, w, g, m, v, nullptr,
             [&](auto d, float* wp, const float* gp, float* mp, float* vp, float*) {
               const auto gv = hn::LoadU(d, gp);
               hn::Vec<decltype(d)> mv, vv;
               AdamMoments(d, gv, beta_1, beta_2, mp, vp, &mv, &vv);
               const auto momentum_term =
                   hn::Div(hn::Mul(hn::Set(d, f.u_next), mv), hn::Set(d, f.one_minus_product_next));
               const auto gradient_term =
                   hn::Div(hn::Mul(hn::Set(d, f.one_minus_u), gv), hn::Set(d, f.one_minus_product));
               const auto m_hat = hn::Add(momentum_term, gradient_term);
               const auto v_hat = hn::Div(vv, hn::Set(d, f.one_minus_beta_2_power));
               SubtractFrom(d, wp,
                            hn::Div(hn::Mul(m_hat, hn::Set(d, lr)),
                                    hn::Add(hn::Sqrt(v_hat), hn::Set(d, epsilon))));
             });
}

// Keras 3's lion.py:
//   w -= lr * sign(beta_1 * m + (1 - beta_1) * g)
//   m = beta_2 * m + (1 - beta_2) * g
// sign as Keras' ops.sign: exactly -1 or +1, and x itself for 0, -0 and NaN.
inline void LionStep(float* HWY_RESTRICT w, const float* HWY_RESTRICT g, float* HWY_RESTRICT m,
                     size_t n, float lr, float beta_1, float beta_2) {
  UpdatePass(n, w, g, m, nullptr, nullptr,
             [&](auto d, float* wp, const float* gp, float* mp, float*, float*) {
               const auto gv = hn::LoadU(d, gp);
               const auto mv = hn::LoadU(d, mp);
               const auto c = Blend(d, beta_1, mv, 1.0f - beta_1, gv);
               const auto sign = hn::IfThenElse(hn::Gt(hn::Abs(c), hn::Zero(d)),
                                                hn::CopySign(hn::Set(d, 1.0f), c), c);
               SubtractFrom(d, wp, hn::Mul(hn::Set(d, lr), sign));
               hn::StoreU(Blend(d, beta_2, mv, 1.0f - beta_2, gv), d, mp);
             });
}

// Keras 3's weight decay, before any optimizer's update:
// w -= w * weight_decay * lr, evaluated left to right.
inline void WeightDecayStep(float* HWY_RESTRICT w, size_t n, float weight_decay, float lr) {
  UpdatePass(n, w, nullptr, nullptr, nullptr, nullptr,
             [&](auto d, float* wp, const float*, float*, float*, float*) {
               const auto wv = hn::LoadU(d, wp);
               SubtractFrom(d, wp, hn::Mul(hn::Mul(wv, hn::Set(d, weight_decay)), hn::Set(d, lr)));
             });
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_OPTIM_OPTIMIZER_INL_H_
