// exp, expm1, log, log1p, erf, tanh and sigmoid on Highway vectors of float,
// the one implementation every kernel uses (softmax, log-sum-exp and the
// activations), so that results do not depend on the SIMD target or on
// which libm the machine has (glibc picks its own variants per CPU).
//
// Each function is a fixed sequence of lane-wise IEEE operations: add,
// multiply, divide, hn::MulAdd in the polynomials, compare-and-select and
// exact integer manipulation of the exponent. Every lane of every target
// therefore computes the same bits for the same input, except that hn::MulAdd
// rounds once where the target has FMA and twice where it has not (the two
// numerics classes of kernels/target.h). Accuracy, measured against double
// precision over all of each function's range by tests/math_test.cc: within
// 1.5 ulp for Exp, Expm1, Log and Log1p, 2.5 ulp for Tanh and Sigmoid, and
// 1e-7 in absolute terms for Erf (3 ulp below 0.875).
//
// The polynomials of Exp, Expm1 and Log are Taylor series (of e^r, and of
// 2 atanh(s) = log((1 + s) / (1 - s))) on reduced arguments small enough that
// the first omitted term is below 1e-8; Erf's are fitted
// (tools/fit_erf_coefficients.py).

#if defined(MB_KERNELS_MATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_MATH_INL_H_
#undef MB_KERNELS_MATH_INL_H_
#else
#define MB_KERNELS_MATH_INL_H_
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// a * b + c rounded as this target's hn::MulAdd rounds it (once with FMA,
// twice without), for the scalar tails of kernels whose lanes use MulAdd:
// a tail element then gets the bits it would get in a lane.
HWY_INLINE float MulAddLane(float a, float b, float c) {
  const hn::CappedTag<float, 1> d1;
  return hn::GetLane(hn::MulAdd(hn::Set(d1, a), hn::Set(d1, b), hn::Set(d1, c)));
}

// c[0] + t * (c[1] + t * (... + t * c[N - 1])), by Horner's rule.
template <class D, size_t N>
HWY_INLINE hn::Vec<D> Polynomial(D d, hn::Vec<D> t, const float (&c)[N]) {
  hn::Vec<D> p = hn::Set(d, c[N - 1]);
  for (size_t i = N - 1; i-- > 0;) p = hn::MulAdd(p, t, hn::Set(d, c[i]));
  return p;
}

// x = n ln2 + r with n = round(x / ln2), |r| <= ln2 / 2, for |x| < 2^21.
// ln2 is split in two: n * kLn2High is exact, so r's first step is exact
// whether or not the multiply-add is fused.
template <class D>
HWY_INLINE hn::Vec<D> ReduceByLn2(D d, hn::Vec<D> x, hn::Vec<D>* n) {
  const auto shifter = hn::Set(d, 12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  *n = hn::Sub(hn::Add(hn::Mul(x, hn::Set(d, 1.44269504088896341f)), shifter), shifter);
  const auto r = hn::NegMulAdd(*n, hn::Set(d, 0.693359375f), x);
  return hn::NegMulAdd(*n, hn::Set(d, -2.12194440e-4f), r);
}

// 2^n for an integral n in [-126, 127], exactly.
template <class D>
HWY_INLINE hn::Vec<D> Pow2(D d, hn::Vec<hn::RebindToSigned<D>> n) {
  const hn::RebindToSigned<D> di;
  return hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(n, hn::Set(di, 127))));
}

// Taylor coefficients 1/k! of e^r, from k = 0.
constexpr float kExpTaylor[] = {1.0f,         1.0f,          0.5f,           1.0f / 6.0f,
                                1.0f / 24.0f, 1.0f / 120.0f, 1.0f / 720.0f,  1.0f / 5040.0f};

// e^x; +inf above 88.72, 0 below -103.97 (and subnormal results between,
// unless flush-to-zero is on), NaN for NaN.
template <class D>
HWY_INLINE hn::Vec<D> Exp(D d, hn::Vec<D> x) {
  const hn::RebindToSigned<D> di;
  const auto clamped = hn::Min(hn::Max(x, hn::Set(d, -104.0f)), hn::Set(d, 89.0f));
  hn::Vec<D> n;
  const auto r = ReduceByLn2(d, clamped, &n);
  const auto p = Polynomial(d, r, kExpTaylor);
  // 2^n in two factors, so that n from -150 to 128 scales without the
  // exponent field overflowing: subnormal and infinite results round once.
  const auto ni = hn::ConvertTo(di, n);
  const auto half = hn::ShiftRight<1>(ni);
  const auto result = hn::Mul(hn::Mul(p, Pow2(d, half)), Pow2(d, hn::Sub(ni, half)));
  return hn::IfThenElse(hn::IsNaN(x), x, result);
}

// e^x - 1, accurate near 0, for |x| <= 87 (tanh uses [0, 18]).
template <class D>
HWY_INLINE hn::Vec<D> Expm1(D d, hn::Vec<D> x) {
  const hn::RebindToSigned<D> di;
  hn::Vec<D> n;
  const auto r = ReduceByLn2(d, x, &n);
  // e^r - 1 = r + r^2 (1/2 + r/6 + ...), with the terms of kExpTaylor from 1/2.
  constexpr float kTail[] = {1.0f / 2.0f,   1.0f / 6.0f,    1.0f / 24.0f,    1.0f / 120.0f,
                             1.0f / 720.0f, 1.0f / 5040.0f, 1.0f / 40320.0f};
  const auto q = hn::MulAdd(hn::Mul(r, r), Polynomial(d, r, kTail), r);
  // e^x - 1 = 2^n (e^r - 1) + (2^n - 1): the product is exact, one rounding.
  const auto scale = Pow2(d, hn::ConvertTo(di, n));
  return hn::Add(hn::Mul(scale, q), hn::Sub(scale, hn::Set(d, 1.0f)));
}

// log(x); -inf for 0, NaN below 0 and for NaN, +inf for +inf.
template <class D>
HWY_INLINE hn::Vec<D> Log(D d, hn::Vec<D> x) {
  const hn::RebindToSigned<D> di;
  // Subnormals are scaled into the normal range first.
  const auto subnormal = hn::Lt(x, hn::Set(d, 1.17549435e-38f));
  const auto scaled = hn::IfThenElse(subnormal, hn::Mul(x, hn::Set(d, 8388608.0f)), x);
  // x = 2^e m with m in [sqrt(1/2), sqrt(2)): moving the exponent's boundary
  // from 1 to sqrt(1/2) (0x3f3504f3) keeps |m - 1| below 0.42.
  const auto bits = hn::Add(hn::BitCast(di, scaled), hn::Set(di, 0x3f800000 - 0x3f3504f3));
  const auto e = hn::Sub(hn::ShiftRight<23>(bits),
                         hn::IfThenElse(hn::RebindMask(di, subnormal), hn::Set(di, 127 + 23),
                                        hn::Set(di, 127)));
  const auto m = hn::BitCast(
      d, hn::Add(hn::And(bits, hn::Set(di, 0x007fffff)), hn::Set(di, 0x3f3504f3)));
  const auto f = hn::Sub(m, hn::Set(d, 1.0f));
  // log(1 + f) = 2 atanh(s), s = f / (2 + f): 2s + s R(s^2), where R(z) =
  // 2z/3 + 2z^2/5 + 2z^3/7 + 2z^4/9; written f - (f^2/2 - s (f^2/2 + R)),
  // so that the large terms cancel exactly.
  const auto s = hn::Div(f, hn::Add(hn::Set(d, 2.0f), f));
  const auto z = hn::Mul(s, s);
  constexpr float kAtanh[] = {2.0f / 3.0f, 2.0f / 5.0f, 2.0f / 7.0f, 2.0f / 9.0f};
  const auto R = hn::Mul(z, Polynomial(d, z, kAtanh));
  const auto half_square = hn::Mul(hn::Set(d, 0.5f), hn::Mul(f, f));
  // + e ln2, with ln2 split so that e * kLn2High is exact and its rest joins
  // the small terms before the one rounding that adds the large ones.
  const auto ef = hn::ConvertTo(d, e);
  const auto small = hn::Add(hn::Mul(s, hn::Add(half_square, R)),
                             hn::Mul(ef, hn::Set(d, 1.42860677e-6f)));
  const auto result = hn::Sub(hn::Mul(ef, hn::Set(d, 0.693145751953125f)),
                              hn::Sub(hn::Sub(half_square, small), f));
  const auto inf = hn::Set(d, HUGE_VALF);
  auto special = hn::IfThenElse(hn::Eq(x, hn::Zero(d)), hn::Neg(inf), hn::Set(d, NAN));
  special = hn::IfThenElse(hn::Eq(x, inf), inf, special);
  const auto normal = hn::And(hn::Gt(x, hn::Zero(d)), hn::Lt(x, inf));
  return hn::IfThenElse(normal, result, special);
}

// log(1 + x), accurate near 0: with u = 1 + x rounded, log(1 + x) =
// log(u) + log(1 + c), c = (x - (u - 1)) / u, where x - (u - 1) is u's
// rounding error, exactly, and log(1 + c) = c to float precision.
template <class D>
HWY_INLINE hn::Vec<D> Log1p(D d, hn::Vec<D> x) {
  const auto one = hn::Set(d, 1.0f);
  const auto u = hn::Add(one, x);
  const auto c = hn::Div(hn::Sub(x, hn::Sub(u, one)), u);
  const auto inf = hn::Set(d, HUGE_VALF);
  const auto result = hn::Add(Log(d, u), c);
  return hn::IfThenElse(hn::Eq(u, hn::Zero(d)), hn::Neg(inf),
                        hn::IfThenElse(hn::Eq(x, inf), inf, result));
}

// The error function (tools/fit_erf_coefficients.py derived the constants).
template <class D>
HWY_INLINE hn::Vec<D> Erf(D d, hn::Vec<D> x) {
  const auto a = hn::Abs(x);
  // |x| < 0.875: x + x P(x^2).
  constexpr float kSmall[] = {0.12837916612625122f,   -0.37612634897232056f,
                              0.11283736675977707f,   -0.026861775666475296f,
                              0.005207222420722246f,  -0.0008216581773012877f,
                              8.699105819687247e-05f};
  const auto small = hn::MulAdd(a, Polynomial(d, hn::Mul(a, a), kSmall), a);
  // 0.875 <= |x| < 3.93: 1 - e^(-x^2) Q(1/|x| - kErfCenter); 1 beyond.
  constexpr float kErfCenter = 0.6986550092697144f;
  constexpr float kLarge[] = {0.33319294452667236f,  0.3576315939426422f,
                              -0.16213445365428925f, 0.04840582236647606f,
                              0.009209312498569489f, -0.03052574023604393f,
                              0.030710270628333092f, -0.02305559441447258f,
                              0.011740065179765224f, 0.01081137266010046f,
                              -0.02021709643304348f};
  const auto limit = hn::Set(d, 3.93f);
  const auto b = hn::Min(hn::Max(a, hn::Set(d, 0.875f)), limit);
  const auto u = hn::Sub(hn::Div(hn::Set(d, 1.0f), b), hn::Set(d, kErfCenter));
  const auto erfc = hn::Mul(Exp(d, hn::Neg(hn::Mul(b, b))), Polynomial(d, u, kLarge));
  auto result = hn::IfThenElse(hn::Lt(a, hn::Set(d, 0.875f)), small,
                               hn::Sub(hn::Set(d, 1.0f), erfc));
  result = hn::IfThenElse(hn::Ge(a, limit), hn::Set(d, 1.0f), result);
  return hn::IfThenElse(hn::IsNaN(x), x, hn::CopySign(result, x));
}

// tanh(x) = e/(e + 2) with e = expm1(2|x|), sign restored; +-1 beyond |x| = 9,
// where tanh rounds to 1.
template <class D>
HWY_INLINE hn::Vec<D> Tanh(D d, hn::Vec<D> x) {
  const auto a = hn::Min(hn::Abs(x), hn::Set(d, 9.0f));
  const auto e = Expm1(d, hn::Add(a, a));
  const auto t = hn::Div(e, hn::Add(e, hn::Set(d, 2.0f)));
  return hn::IfThenElse(hn::IsNaN(x), x, hn::CopySign(t, x));
}

// 1 / (1 + e^-x)
template <class D>
HWY_INLINE hn::Vec<D> Sigmoid(D d, hn::Vec<D> x) {
  return hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Set(d, 1.0f), Exp(d, hn::Neg(x))));
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_MATH_INL_H_
