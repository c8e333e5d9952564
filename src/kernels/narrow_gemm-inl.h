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
#include "kernels/activation.h"
#include "kernels/pack-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr size_t kNarrowMaxN = 16;
// Forward tile: kNarrowRows samples x kNarrowCols units, one accumulator
// vector per output: per step of L inputs, kNarrowRows + kNarrowCols loads
// feed kNarrowRows * kNarrowCols multiply-adds.
constexpr size_t kNarrowRows = 4;
constexpr size_t kNarrowCols = 5;
// Weight-gradient tile: kNarrowCols units x kNarrowVecs vectors of inputs.
constexpr size_t kNarrowVecs = 4;

// Y[m, n] = act(b[n] + sum_k X[m, k] W[k, n]) for rows [i0, i0 + rows) and
// units [n0, n0 + cols), with Wt holding those units' weights as rows of K
// (W^T's rows n0 ..): lane-wise partial sums over k, then one reduction per
// output and the scalar tail of k, always in this order.
HWY_NOINLINE void NarrowForwardTile(size_t K, size_t N, const float* HWY_RESTRICT X,
                                    const float* HWY_RESTRICT Wt, const float* b,
                                    Activation act, size_t i0, size_t rows, size_t n0,
                                    size_t cols, float* Z, float* Y) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  const float* x[kNarrowRows];
  const float* w[kNarrowCols];
  for (size_t i = 0; i < kNarrowRows; ++i) x[i] = X + (i0 + std::min(i, rows - 1)) * K;
  for (size_t j = 0; j < kNarrowCols; ++j) w[j] = Wt + std::min(j, cols - 1) * K;
  hn::Vec<decltype(d)> acc[kNarrowRows][kNarrowCols];
  for (auto& row : acc) {
    for (auto& v : row) v = hn::Zero(d);
  }
  size_t k = 0;
  for (; k + L <= K; k += L) {
    hn::Vec<decltype(d)> wv[kNarrowCols];
    for (size_t j = 0; j < kNarrowCols; ++j) wv[j] = hn::LoadU(d, w[j] + k);
    for (size_t i = 0; i < kNarrowRows; ++i) {
      const auto xv = hn::LoadU(d, x[i] + k);
      for (size_t j = 0; j < kNarrowCols; ++j) acc[i][j] = hn::MulAdd(xv, wv[j], acc[i][j]);
    }
  }
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < cols; ++j) {
      float sum = hn::GetLane(hn::SumOfLanes(d, acc[i][j]));
      for (size_t t = k; t < K; ++t) sum += x[i][t] * w[j][t];
      const size_t out = (i0 + i) * N + n0 + j;
      const float pre = sum + (b ? b[n0 + j] : 0.0f);
      if (Z) Z[out] = pre;
      Y[out] = ActivationForward(act, pre);
    }
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
// [k0, k0 + kNarrowVecs * L) and units [n0, n0 + cols), vectorised along k.
HWY_NOINLINE void NarrowWeightsTile(size_t M, size_t K, size_t N, const float* HWY_RESTRICT X,
                                    const float* HWY_RESTRICT dY, size_t k0, size_t n0,
                                    size_t cols, float* HWY_RESTRICT dW) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  hn::Vec<decltype(d)> acc[kNarrowCols][kNarrowVecs];
  for (auto& row : acc) {
    for (auto& v : row) v = hn::Zero(d);
  }
  for (size_t m = 0; m < M; ++m) {
    const float* x = X + m * K + k0;
    const float* dy = dY + m * N + n0;
    hn::Vec<decltype(d)> xv[kNarrowVecs];
    for (size_t v = 0; v < kNarrowVecs; ++v) xv[v] = hn::LoadU(d, x + v * L);
    for (size_t j = 0; j < kNarrowCols; ++j) {
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
  const size_t col_tiles = (N + kNarrowCols - 1) / kNarrowCols;
#pragma omp parallel for schedule(static) if (UseTeam(M * K * N >= (size_t{1} << 17)))
  for (size_t t = 0; t < strips * col_tiles; ++t) {
    const size_t n0 = (t % col_tiles) * kNarrowCols;
    NarrowWeightsTile(M, K, N, X, dY, (t / col_tiles) * strip, n0,
                      std::min(kNarrowCols, N - n0), dW);
  }
  // The inputs past the last full strip, and the bias gradient, in plain
  // loops (m ascending, like the tiles).
  for (size_t k = strips * strip; k < K; ++k) {
    for (size_t n = 0; n < N; ++n) {
      float sum = 0.0f;
      for (size_t m = 0; m < M; ++m) sum += X[m * K + k] * dY[m * N + n];
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
