// Highway SIMD kernels for dense layers with few units (N <= kNarrowMaxN,
// e.g. the 10-class output layer). The register-tile kernel of gemm-inl.h
// vectorises along N, so with N = 10 it fills 10 of 16 lanes and needs a
// broadcast per multiply-add. These kernels vectorise along the long inner
// dimension instead: every lane is useful, and each loaded vector feeds
// several multiply-adds. Included by gemm-inl.h.

#if defined(MB_KERNELS_NARROW_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_NARROW_GEMM_INL_H_
#undef MB_KERNELS_NARROW_GEMM_INL_H_
#else
#define MB_KERNELS_NARROW_GEMM_INL_H_
#endif

#include <algorithm>
#include <cstddef>

#include <omp.h>

#include "common/team.h"
#include "hwy/highway.h"
#include "kernels/activation-inl.h"
#include "kernels/activation.h"
#include "kernels/math-inl.h"
#include "kernels/pack-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr size_t kNarrowMaxN = 16;

// The forward product sums each output over k in kNarrowPartials interleaved
// partial sums, partial p taking k = p, p + 16, p + 32, ... in ascending
// order, whatever the vector width: one 16-lane vector holds them on
// AVX-512, two vectors on AVX2, four on SSE4, sixteen scalars on SCALAR.
// They are then added in one fixed tree (SumPartials), and the k past the
// last whole group of 16 follow one at a time. Every target therefore adds
// the same numbers in the same order.
constexpr size_t kNarrowPartials = 16;
using DPartials = hn::CappedTag<float, kNarrowPartials>;
constexpr size_t kGroupVecs = kNarrowPartials / hn::MaxLanes(DPartials());

// Forward tile: kNarrowRows samples x kNarrowCols units, kGroupVecs
// accumulator vectors per output: per group of 16 inputs, kGroupVecs *
// (kNarrowRows + kNarrowCols) loads feed kGroupVecs * kNarrowRows *
// kNarrowCols multiply-adds, the accumulators filling at most 20 of the
// 32 registers of AVX-512 and 12 of the 16 of AVX2.
// Weight-gradient tile: kNarrowWeightCols units x kNarrowVecs vectors of
// inputs, 20 accumulators on AVX-512 and 10 elsewhere.
constexpr size_t kNarrowWeightCols = 5;
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kNarrowRows = 4;
constexpr size_t kNarrowCols = 5;
constexpr size_t kNarrowVecs = 4;
#elif HWY_TARGET == HWY_AVX2
constexpr size_t kNarrowRows = 3;
constexpr size_t kNarrowCols = 2;
constexpr size_t kNarrowVecs = 2;
#else
constexpr size_t kNarrowRows = 1;
constexpr size_t kNarrowCols = 2;
constexpr size_t kNarrowVecs = 2;
#endif

// Partial p sits in lane p % L of parts[p / L]. The tree: p + (p + 8) for
// p < 8, then p + (p + 4), p + (p + 2), and 0 + 1 (the order of AVX-512's
// own horizontal sum, _mm512_reduce_add_ps).
template <class D>
HWY_INLINE float FoldLanes(D d, hn::Vec<D> v) {
#if HWY_TARGET == HWY_SCALAR
  (void)d;
  return hn::GetLane(v);
#else
  if constexpr (hn::MaxLanes(d) > 4) {
    const hn::Half<D> dh;
    return FoldLanes(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)));
  } else {
    static_assert(hn::MaxLanes(d) == 4, "x86 vectors of float have 4, 8 or 16 lanes");
    const auto pairs = hn::Add(v, hn::Shuffle1032(v));  // p + (p + 2)
    return hn::GetLane(pairs) + hn::ExtractLane(pairs, 1);
  }
#endif
}

template <class D, size_t G>
HWY_INLINE float SumPartials(D d, hn::Vec<D> (&parts)[G]) {
  // Across vectors: parts[i] + parts[i + G/2] adds partials p and p + 8
  // when G is 2 (and p + 4 next when G is 4, and so on down to one vector).
  for (size_t half = G / 2; half >= 1; half /= 2) {
    for (size_t i = 0; i < half; ++i) parts[i] = hn::Add(parts[i], parts[i + half]);
  }
  return FoldLanes(d, parts[0]);
}

// Y[m, n] = act(b[n] + sum_k X[m, k] W[k, n]) for rows [i0, i0 + rows) and
// units [n0, n0 + cols), with Wt holding those units' weights as rows of K
// (W^T's rows n0 ..), the sums taken as described at kNarrowPartials.
inline HWY_NOINLINE void NarrowForwardTile(size_t K, size_t N, const float* HWY_RESTRICT X,
                                           const float* HWY_RESTRICT Wt, const float* b,
                                           Activation act, size_t i0, size_t rows, size_t n0,
                                           size_t cols, float* Z, float* Y) {
  const DPartials d;
  constexpr size_t L = hn::MaxLanes(DPartials());
  const float* x[kNarrowRows];
  const float* w[kNarrowCols];
  for (size_t i = 0; i < kNarrowRows; ++i) x[i] = X + (i0 + std::min(i, rows - 1)) * K;
  for (size_t j = 0; j < kNarrowCols; ++j) w[j] = Wt + std::min(j, cols - 1) * K;
  hn::Vec<DPartials> acc[kNarrowRows][kNarrowCols][kGroupVecs];
  for (auto& row : acc) {
    for (auto& out : row) {
      for (auto& v : out) v = hn::Zero(d);
    }
  }
  size_t k = 0;
  for (; k + kNarrowPartials <= K; k += kNarrowPartials) {
    for (size_t g = 0; g < kGroupVecs; ++g) {
      hn::Vec<DPartials> wv[kNarrowCols];
      for (size_t j = 0; j < kNarrowCols; ++j) wv[j] = hn::LoadU(d, w[j] + k + g * L);
      for (size_t i = 0; i < kNarrowRows; ++i) {
        const auto xv = hn::LoadU(d, x[i] + k + g * L);
        for (size_t j = 0; j < kNarrowCols; ++j) {
          acc[i][j][g] = hn::MulAdd(xv, wv[j], acc[i][j][g]);
        }
      }
    }
  }
  for (size_t i = 0; i < rows; ++i) {
    float* y = Y + (i0 + i) * N + n0;
    for (size_t j = 0; j < cols; ++j) {
      float sum = SumPartials(d, acc[i][j]);
      for (size_t t = k; t < K; ++t) sum = MulAddLane(x[i][t], w[j][t], sum);
      y[j] = sum + (b ? b[n0 + j] : 0.0f);
    }
    if (Z) std::copy(y, y + cols, Z + (i0 + i) * N + n0);
    ApplyActivationInPlace(act, y, cols);
  }
}

// Each thread takes a contiguous range of the output tiles and copies the
// columns of W its tiles use into its own scratch as rows of W^T, so that
// each unit's weights are contiguous: no barrier, and no thread reads what
// another wrote. (The team transposing W into one shared buffer, split by
// k, then a barrier, made this product fall to 0.70 of oneDNN's in the
// spells when this shared machine's caches were busy.) When X is small
// enough to stay in cache, the tiles are ordered by unit block first, so
// each thread copies only its units and reads all of X: 1.22-1.28x at the
// baseline's shapes against 1.18-1.20x for the other order. A larger X (the
// 2,000-image evaluation batch: 4 MB) is split by rows, each thread copying
// all of W: reading all of X from memory twice made it 0.95x, the row order
// 1.05x.
constexpr size_t kNarrowSharedInputBytes = size_t{512} << 10;
inline void NarrowForward(size_t M, size_t K, size_t N, const float* X, const float* W,
                          const float* b, Activation act, float* Z, float* Y) {
  const size_t row_tiles = (M + kNarrowRows - 1) / kNarrowRows;
  const size_t col_tiles = (N + kNarrowCols - 1) / kNarrowCols;
  const size_t tiles = row_tiles * col_tiles;
  const bool by_units = M * K * sizeof(float) <= kNarrowSharedInputBytes;
#pragma omp parallel if (UseTeam(M * K * N >= (size_t{1} << 17)))
  {
    const size_t team = static_cast<size_t>(omp_get_num_threads());
    const size_t thread = static_cast<size_t>(omp_get_thread_num());
    const size_t t_begin = tiles * thread / team, t_end = tiles * (thread + 1) / team;
    if (t_begin < t_end) {
      size_t first_unit = 0, end_unit = N;
      if (by_units) {
        first_unit = t_begin / row_tiles * kNarrowCols;
        end_unit = std::min(N, ((t_end - 1) / row_tiles + 1) * kNarrowCols);
      }
      static thread_local PackBuffer transposed;
      float* Wt = transposed.Get(K * (end_unit - first_unit));
      PackTransposed(W + first_unit, N, end_unit - first_unit, 0, K, K, Wt);
      for (size_t t = t_begin; t < t_end; ++t) {
        const size_t col_tile = by_units ? t / row_tiles : t % col_tiles;
        const size_t row_tile = by_units ? t % row_tiles : t / col_tiles;
        const size_t n0 = col_tile * kNarrowCols, i0 = row_tile * kNarrowRows;
        NarrowForwardTile(K, N, X, Wt + (n0 - first_unit) * K, b, act, i0,
                          std::min(kNarrowRows, M - i0), n0, std::min(kNarrowCols, N - n0), Z,
                          Y);
      }
    }
  }
}

// dW[k, n] = sum_m X[m, k] dY[m, n] (m ascending) for inputs
// [k0, k0 + kNarrowVecs * L) and units [n0, n0 + cols), vectorised along k:
// every lane is one output's own sum, so the width cannot change it.
inline HWY_NOINLINE void NarrowWeightsTile(size_t M, size_t K, size_t N,
                                           const float* HWY_RESTRICT X,
                                           const float* HWY_RESTRICT dY, size_t k0, size_t n0,
                                           size_t cols, float* HWY_RESTRICT dW) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  hn::Vec<decltype(d)> acc[kNarrowWeightCols][kNarrowVecs];
  for (auto& row : acc) {
    for (auto& v : row) v = hn::Zero(d);
  }
  for (size_t m = 0; m < M; ++m) {
    const float* x = X + m * K + k0;
    const float* dy = dY + m * N + n0;
    hn::Vec<decltype(d)> xv[kNarrowVecs];
    for (size_t v = 0; v < kNarrowVecs; ++v) xv[v] = hn::LoadU(d, x + v * L);
    for (size_t j = 0; j < kNarrowWeightCols; ++j) {
      const auto g = hn::Set(d, dy[std::min(j, cols - 1)]);
      for (size_t v = 0; v < kNarrowVecs; ++v) acc[j][v] = hn::MulAdd(xv[v], g, acc[j][v]);
    }
  }
  HWY_ALIGN float lanes[kNarrowVecs * HWY_LANES(float)];
  for (size_t j = 0; j < cols; ++j) {
    for (size_t v = 0; v < kNarrowVecs; ++v) hn::Store(acc[j][v], d, lanes + v * L);
    for (size_t t = 0; t < kNarrowVecs * L; ++t) dW[(k0 + t) * N + n0 + j] = lanes[t];
  }
}

inline void NarrowBackwardWeights(size_t M, size_t K, size_t N, const float* X,
                                  const float* dY, float* dW, float* db) {
  const size_t L = hn::Lanes(hn::ScalableTag<float>());
  const size_t strip = kNarrowVecs * L;
  const size_t strips = K / strip;
  const size_t col_tiles = (N + kNarrowWeightCols - 1) / kNarrowWeightCols;
#pragma omp parallel for schedule(static) if (UseTeam(M * K * N >= (size_t{1} << 17)))
  for (size_t t = 0; t < strips * col_tiles; ++t) {
    const size_t n0 = (t % col_tiles) * kNarrowWeightCols;
    NarrowWeightsTile(M, K, N, X, dY, (t / col_tiles) * strip, n0,
                      std::min(kNarrowWeightCols, N - n0), dW);
  }
  // The inputs past the last full strip, and the bias gradient, in plain
  // loops (m ascending and rounded like the tiles' lanes, so that an input
  // gets the same bits whichever vector width put it in a strip).
  for (size_t k = strips * strip; k < K; ++k) {
    for (size_t n = 0; n < N; ++n) {
      float sum = 0.0f;
      for (size_t m = 0; m < M; ++m) sum = MulAddLane(X[m * K + k], dY[m * N + n], sum);
      dW[k * N + n] = sum;
    }
  }
  for (size_t n = 0; n < N; ++n) db[n] = 0.0f;
  for (size_t m = 0; m < M; ++m) {
    for (size_t n = 0; n < N; ++n) db[n] += dY[m * N + n];
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_NARROW_GEMM_INL_H_
