// Conv2D forward for 3x3 kernels at stride 1 by Winograd's minimal filtering
// F(2x2, 3x3) and F(3x3, 3x3) (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015). Included once per target by
// conv2d.cc. F(2x2, 3x3) is described below; F(3x3, 3x3) is the same with
// 3x3 tiles from 5x5 patches and 25 products (25 multiplies where direct
// sums take 81: the book convnet's third convolution, 3x3 outputs of a 5x5
// input, is one tile), its matrices with the F3 functions. The same
// convolution's weight and input gradients run by F(3x3, 3x3) too
// (Conv2DWinogradBackwardWeightsImpl and Conv2DWinogradBackwardInputImpl,
// at the end).
//
// Each 2x2 block of one filter's outputs (a tile) comes from the 4x4 input
// patch d_c under it in every channel c:
//   Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A
// with 16 multiplies per tile, channel and filter where direct sums take 36
// (4 outputs x 9 taps). With U[xi][c][k] = (G g G^T)[xi] (the kernel's
// transform, once per call) and V[xi][t][c] = (B^T d B)[xi] (the input's,
// per tile t), the sum over the channels is 16 matrix products, one per
// position xi of the 4x4 transforms:
//   M[xi][t][k] = sum_c V[xi][t][c] U[xi][c][k].
//
// Every operation has one order, the same in every lane, so the bits depend
// on neither the vector width nor the thread count (docs/numerics.md): the
// transforms are the fixed additions below (vectors over channels or
// filters; the kernel's halvings are exact), each M element sums the
// channels from the first up with one fused multiply-add each, and the bias
// is added after the output transform. reference::Conv2DWinogradForward
// (conv2d_reference.cc) does the same in scalar code.

// Per-target include guard (Highway's idiom for -inl.h files).
#if defined(MB_KERNELS_WINOGRAD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_WINOGRAD_INL_H_
#undef MB_KERNELS_WINOGRAD_INL_H_
#else
#define MB_KERNELS_WINOGRAD_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <omp.h>

#include "common/team.h"
#include "hwy/highway.h"
#include "kernels/activation-inl.h"
#include "kernels/conv2d.h"
#include "kernels/gemm-inl.h"  // kMinParallelWork
#include "kernels/masked_segment-inl.h"
#include "kernels/pack-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The register tile of the 16 products: kWinogradRows tiles by
// kWinogradVecs vectors of filters in accumulators, plus kWinogradVecs
// vectors of U and a broadcast (32 vector registers with AVX-512, 16
// otherwise).
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kWinogradRows = 6;
constexpr size_t kWinogradVecs = 4;
#else
constexpr size_t kWinogradRows = 6;
constexpr size_t kWinogradVecs = 2;
#endif

// Tiles a thread transforms, multiplies and transforms back at a time: its
// V and M (16 x 48 x 32 and 16 x 48 x 64 floats at the book convnet's second
// convolution, 290 KB) stay in L2 (512 KB per core on Zen 3) between the
// three steps. A multiple of kWinogradRows.
constexpr size_t kWinogradChunkTiles = 48;
constexpr size_t kPlanePad = 16;  // floats: a cache line, whole vectors

// The floats between planes of the kernel's transform U (C rows of kp):
// padded by a cache line, as V's and M's, so that the 16 or 25 rows a
// channel's transform stores at once do not all fall in one set of the L1
// cache (64 channels of 64 filters are 16 KB a plane: the F(3x3) transform
// of the book convnet's third kernel took a quarter of its forward pass
// before).
inline size_t WinogradKernelPlane(size_t C, size_t kp) { return C * kp + kPlanePad; }

// F(kTile x kTile, 3x3): kTile + 2 rows and columns of patch and transform,
// their squares of products, and the tiles of a chunk (F(3x3)'s 25 planes
// in about the bytes of F(2x2)'s 16 planes of 48 tiles).
template <size_t kTile>
constexpr size_t kWinogradAlpha = kTile + 2;
template <size_t kTile>
constexpr size_t kWinogradPlanes = kWinogradAlpha<kTile> * kWinogradAlpha<kTile>;
template <size_t kTile>
constexpr size_t kWinogradTilesPerChunk =
    kWinogradChunkTiles * 16 / kWinogradPlanes<kTile> / kWinogradRows * kWinogradRows;

// F(2x2, 3x3)'s G times the column (g0, g1, g2):
//   G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
template <class V, class D>
HWY_INLINE void WinogradF2KernelColumn(D d, V g0, V g1, V g2, V (&out)[4]) {
  const auto half = hn::Set(d, 0.5f);
  const auto s = hn::Add(g0, g2);
  out[0] = g0;
  out[1] = hn::Mul(hn::Add(s, g1), half);
  out[2] = hn::Mul(hn::Sub(s, g1), half);
  out[3] = g2;
}

// V = B^T d B for channels [c0, c0 + L) of one tile (a partial vector with
// `partial`): d's 16 rows of channels at patch[i * 4 + j] (zeros outside the
// image), V[xi] at v + xi * v_stride.
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
template <class M>
HWY_INLINE void WinogradInputVector(const float* const (&patch)[16], size_t c0, bool partial,
                                    M mask, float* HWY_RESTRICT v, size_t v_stride) {
  using D = hn::ScalableTag<float>;
  const D d;
  hn::Vec<D> r[4][4];
#pragma GCC unroll 4
  for (size_t j = 0; j < 4; ++j) {  // B^T d, down each column
    const auto d0 = LoadSegment(d, patch[j] + c0, partial, mask);
    const auto d1 = LoadSegment(d, patch[4 + j] + c0, partial, mask);
    const auto d2 = LoadSegment(d, patch[8 + j] + c0, partial, mask);
    const auto d3 = LoadSegment(d, patch[12 + j] + c0, partial, mask);
    r[0][j] = hn::Sub(d0, d2);
    r[1][j] = hn::Add(d1, d2);
    r[2][j] = hn::Sub(d2, d1);
    r[3][j] = hn::Sub(d1, d3);
  }
#pragma GCC unroll 4
  for (size_t i = 0; i < 4; ++i) {  // (B^T d) B, along each row
    float* HWY_RESTRICT row = v + 4 * i * v_stride + c0;
    StoreSegment(d, hn::Sub(r[i][0], r[i][2]), row, partial, mask);
    StoreSegment(d, hn::Add(r[i][1], r[i][2]), row + v_stride, partial, mask);
    StoreSegment(d, hn::Sub(r[i][2], r[i][1]), row + 2 * v_stride, partial, mask);
    StoreSegment(d, hn::Sub(r[i][1], r[i][3]), row + 3 * v_stride, partial, mask);
  }
}

// F(3x3, 3x3)'s matrices (interpolation points 0, 1, -1, 2 and infinity):
//   G   = [1/2 0 0; -1/2 -1/2 -1/2; -1/6 1/6 -1/6; 1/6 1/3 2/3; 0 0 1]
//   B^T = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1]
//   A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 1]
// each applied by the fixed operations of the three functions below (the
// reference does the same ones). Doublings are exact; 1/6 is not, and F(3x3)
// rounds a little more than F(2x2) (docs/numerics.md).

// G times the column (g0, g1, g2).
template <class V, class D>
HWY_INLINE void WinogradF3KernelColumn(D d, V g0, V g1, V g2, V (&out)[5]) {
  const auto two = hn::Set(d, 2.0f), four = hn::Set(d, 4.0f);
  const auto sixth = hn::Set(d, 1.0f / 6.0f);
  out[0] = hn::Mul(g0, hn::Set(d, 0.5f));
  out[1] = hn::Mul(hn::Add(hn::Add(g0, g1), g2), hn::Set(d, -0.5f));
  out[2] = hn::Mul(hn::Sub(hn::Sub(g1, g0), g2), sixth);
  out[3] = hn::Mul(hn::Add(hn::Add(g0, hn::Mul(g1, two)), hn::Mul(g2, four)), sixth);
  out[4] = g2;
}

// B^T times the column (d0, ..., d4).
template <class V, class D>
HWY_INLINE void WinogradF3InputColumn(D d, V d0, V d1, V d2, V d3, V d4, V (&r)[5]) {
  const auto two = hn::Set(d, 2.0f);
  const auto s = hn::Sub(d3, d2);
  r[3] = hn::Sub(d3, d1);
  r[0] = hn::Add(hn::Mul(hn::Sub(d0, d2), two), r[3]);
  r[1] = hn::Sub(s, hn::Mul(d1, two));
  r[2] = hn::Add(s, hn::Mul(hn::Sub(d1, d2), two));
  r[4] = hn::Add(hn::Mul(hn::Sub(d1, d3), two), hn::Sub(d4, d2));
}

// A^T times the column (m0, ..., m4).
template <class V, class D>
HWY_INLINE void WinogradF3OutputColumn(D d, V m0, V m1, V m2, V m3, V m4, V (&y)[3]) {
  const auto a = hn::Add(m1, m2), b = hn::Sub(m1, m2);
  y[0] = hn::Add(hn::Add(m0, a), m3);
  y[1] = hn::Add(b, hn::Mul(m3, hn::Set(d, 2.0f)));
  y[2] = hn::Add(hn::Add(a, hn::Mul(m3, hn::Set(d, 4.0f))), m4);
}

// U = G g G^T of F(kTile x kTile, 3x3) for the lanes [k0, k0 + L) (a
// partial vector with `partial`, zero past it) of one 3x3 block g, its rows
// at g[ky * 3 + kx]: U[xi] stored at u + xi * plane.
template <size_t kTile, class M>
HWY_INLINE void WinogradKernelVector(const float* const (&g)[9], size_t k0, bool partial,
                                     M mask, float* HWY_RESTRICT u, size_t plane) {
  using D = hn::ScalableTag<float>;
  using V = hn::Vec<D>;
  constexpr size_t kAlpha = kWinogradAlpha<kTile>;
  const D d;
  const auto column = [d](V g0, V g1, V g2, V(&out)[kAlpha]) {
    if constexpr (kTile == 2) {
      WinogradF2KernelColumn(d, g0, g1, g2, out);
    } else {
      WinogradF3KernelColumn(d, g0, g1, g2, out);
    }
  };
  V h[kAlpha][3];
  for (size_t kx = 0; kx < 3; ++kx) {  // G g, down each column
    V out[kAlpha];
    column(LoadSegment(d, g[kx] + k0, partial, mask), LoadSegment(d, g[3 + kx] + k0, partial, mask),
           LoadSegment(d, g[6 + kx] + k0, partial, mask), out);
    for (size_t i = 0; i < kAlpha; ++i) h[i][kx] = out[i];
  }
  for (size_t i = 0; i < kAlpha; ++i) {  // (G g) G^T, along each row
    V row[kAlpha];
    column(h[i][0], h[i][1], h[i][2], row);
    for (size_t j = 0; j < kAlpha; ++j) hn::Store(row[j], d, u + (i * kAlpha + j) * plane + k0);
  }
}

// U = G g G^T of F(kTile x kTile, 3x3) for channels [c_begin, c_end) and
// every filter k, U[xi][c][k] (rows kp floats apart, zero past the filters;
// planes WinogradKernelPlane apart), from the Keras kernel W [3][3][C][K].
template <size_t kTile>
inline void WinogradKernelTransform(const float* W, size_t C, size_t K, size_t kp, float* U,
                                    size_t c_begin, size_t c_end) {
  using D = hn::ScalableTag<float>;
  const size_t plane = WinogradKernelPlane(C, kp);
  for (size_t c = c_begin; c < c_end; ++c) {
    const float* g[9];
    for (size_t tap = 0; tap < 9; ++tap) g[tap] = W + (tap * C + c) * K;
    ForEachSegment(K, [&](D, size_t k0, bool partial, auto mask) {
      WinogradKernelVector<kTile>(g, k0, partial, mask, U + c * kp, plane);
    });
  }
}

// V = B^T d B for F(3x3, 3x3), as WinogradInputVector for F(2x2): d's 25
// rows of channels at patch[i * 5 + j].
template <class M>
HWY_INLINE void WinogradF3InputVector(const float* const (&patch)[25], size_t c0, bool partial,
                                      M mask, float* HWY_RESTRICT v, size_t v_stride) {
  using D = hn::ScalableTag<float>;
  const D d;
  using V = hn::Vec<D>;
  V r[5][5];
#pragma GCC unroll 5
  for (size_t j = 0; j < 5; ++j) {  // B^T d, down each column
    V column[5];
    WinogradF3InputColumn(d, LoadSegment(d, patch[j] + c0, partial, mask),
                          LoadSegment(d, patch[5 + j] + c0, partial, mask),
                          LoadSegment(d, patch[10 + j] + c0, partial, mask),
                          LoadSegment(d, patch[15 + j] + c0, partial, mask),
                          LoadSegment(d, patch[20 + j] + c0, partial, mask), column);
    for (size_t i = 0; i < 5; ++i) r[i][j] = column[i];
  }
#pragma GCC unroll 5
  for (size_t i = 0; i < 5; ++i) {  // (B^T d) B, along each row
    V row[5];
    WinogradF3InputColumn(d, r[i][0], r[i][1], r[i][2], r[i][3], r[i][4], row);
    for (size_t j = 0; j < 5; ++j) {
      StoreSegment(d, row[j], v + (5 * i + j) * v_stride + c0, partial, mask);
    }
  }
}

// V of one tile's patch, every channel: WinogradInputVector (F(2x2)) or
// WinogradF3InputVector a vector of channels at a time.
template <size_t kTile>
inline void WinogradInputTransform(const float* const (&patch)[kWinogradPlanes<kTile>], size_t C,
                                   float* v, size_t v_stride) {
  using D = hn::ScalableTag<float>;
  const D d;
  const size_t L = hn::Lanes(d);
  const auto vector = [&](size_t c0, bool partial, auto mask) {
    if constexpr (kTile == 2) {
      WinogradInputVector(patch, c0, partial, mask, v, v_stride);
    } else {
      WinogradF3InputVector(patch, c0, partial, mask, v, v_stride);
    }
  };
  size_t c0 = 0;
  for (; c0 + L <= C; c0 += L) vector(c0, false, hn::FirstN(d, L));
  if (c0 < C) vector(c0, true, hn::FirstN(d, C - c0));
}

// The 3x3 block of one tile's outputs from its 25 products, as
// WinogradTileOutputs for F(2x2): z[i * 3 + j] = (A^T m A)[i][j] + bias.
template <class M, class V>
HWY_INLINE void WinogradF3TileOutputs(const float* HWY_RESTRICT m, size_t m_stride, size_t k0,
                                      bool partial, M mask, const float* bias, V (&z)[9]) {
  using D = hn::ScalableTag<float>;
  const D d;
  V t[3][5];
#pragma GCC unroll 5
  for (size_t j = 0; j < 5; ++j) {  // A^T m, down each column
    V column[3];
    WinogradF3OutputColumn(d, hn::Load(d, m + j * m_stride + k0),
                           hn::Load(d, m + (5 + j) * m_stride + k0),
                           hn::Load(d, m + (10 + j) * m_stride + k0),
                           hn::Load(d, m + (15 + j) * m_stride + k0),
                           hn::Load(d, m + (20 + j) * m_stride + k0), column);
    for (size_t i = 0; i < 3; ++i) t[i][j] = column[i];
  }
  const auto b = bias ? LoadSegment(d, bias + k0, partial, mask) : hn::Zero(d);
#pragma GCC unroll 3
  for (size_t i = 0; i < 3; ++i) {  // (A^T m) A, along each row
    V y[3];
    WinogradF3OutputColumn(d, t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], y);
    for (size_t j = 0; j < 3; ++j) z[i * 3 + j] = bias ? hn::Add(y[j], b) : y[j];
  }
}

// Rows of a register tile of NV vectors: kWinogradRows, or more where
// fewer vectors of filters leave accumulators free (the speedrun's 32
// filters on AVX-512: 12 rows of 2 vectors), so that each vector of u
// loaded serves more multiply-adds.
template <size_t NV>
constexpr size_t kWinogradTileRows =
    NV >= kWinogradVecs ? kWinogradRows
                        : std::min<size_t>(12, kWinogradRows * kWinogradVecs / NV);

// rows (<= kRows) rows of one of the 16 products, NV vectors of filters:
// m[i][n] = sum_c v[i][c] u[c][n] over c < C, v's rows C apart, u's and
// m's kp apart (u and m aligned, kp whole vectors). kColumns: the weight
// gradient's products, v read down its columns instead, m[i][n] = sum_t
// v[t][i] u[t][n] over t < T, v's rows C apart.
template <size_t NV, size_t kRows, bool kColumns = false>
HWY_NOINLINE void WinogradProductTile(const float* HWY_RESTRICT v, size_t C, size_t T,
                                      size_t rows, const float* HWY_RESTRICT u, size_t kp,
                                      float* HWY_RESTRICT m) {
  using D = hn::ScalableTag<float>;
  const D d;
  const size_t L = hn::Lanes(d);
  hn::Vec<D> acc[kRows][NV];
#pragma GCC unroll 16
  for (size_t i = 0; i < kRows; ++i) {
    for (size_t j = 0; j < NV; ++j) acc[i][j] = hn::Zero(d);
  }
  // Where row i's terms start, and the step from one to the next.
  const float* HWY_RESTRICT row[kRows];
  for (size_t i = 0; i < kRows; ++i) row[i] = v + std::min(i, rows - 1) * (kColumns ? 1 : C);
  const size_t terms = kColumns ? T : C, step = kColumns ? C : 1;
  for (size_t c = 0; c < terms; ++c, u += kp) {
    hn::Vec<D> b[NV];
    for (size_t j = 0; j < NV; ++j) b[j] = hn::Load(d, u + j * L);
    for (size_t i = 0; i < kRows; ++i) {
      const auto a = hn::Set(d, row[i][c * step]);
      for (size_t j = 0; j < NV; ++j) acc[i][j] = hn::MulAdd(a, b[j], acc[i][j]);
    }
  }
#pragma GCC unroll 16
  for (size_t i = 0; i < kRows; ++i) {
    if (i >= rows) break;
    for (size_t j = 0; j < NV; ++j) hn::Store(acc[i][j], d, m + i * kp + j * L);
  }
}

// All `rows` rows of one product for nv (<= NV) vectors of filters, a
// register tile at a time (WinogradProductTile's arguments).
template <bool kColumns = false, size_t NV = kWinogradVecs>
HWY_INLINE void WinogradProductPanel(size_t nv, const float* v, size_t C, size_t T, size_t rows,
                                     const float* u, size_t kp, float* m) {
  if constexpr (NV > 1) {
    if (nv < NV) return WinogradProductPanel<kColumns, NV - 1>(nv, v, C, T, rows, u, kp, m);
  }
  constexpr size_t kRows = kWinogradTileRows<NV>;
  for (size_t r0 = 0; r0 < rows; r0 += kRows) {
    WinogradProductTile<NV, kRows, kColumns>(v + r0 * (kColumns ? 1 : C), C, T,
                                             std::min(kRows, rows - r0), u, kp, m + r0 * kp);
  }
}

// Where a convolution's output pixel (n, oy, ox) starts in Y.
inline size_t OutputOffset(const WindowShape& s, size_t filters, size_t n, size_t oy,
                           size_t ox) {
  return ((n * s.out_h + oy) * s.out_w + ox) * filters;
}

// The 2x2 block of one tile's outputs, filters [k0, k0 + L) (a partial
// vector with `partial`), from its 16 products m[xi] (m + xi * m_stride):
// z[i * 2 + j] = (A^T m A)[i][j] + bias (no bias when it is null).
//   A^T = [1 1 1 0; 0 1 -1 -1]
template <class M, class V>
HWY_INLINE void WinogradTileOutputs(const float* HWY_RESTRICT m, size_t m_stride, size_t k0,
                                    bool partial, M mask, const float* bias, V (&z)[4]) {
  using D = hn::ScalableTag<float>;
  const D d;
  hn::Vec<D> t[2][4];
#pragma GCC unroll 4
  for (size_t j = 0; j < 4; ++j) {  // A^T m, down each column
    const auto m0 = hn::Load(d, m + j * m_stride + k0);
    const auto m1 = hn::Load(d, m + (4 + j) * m_stride + k0);
    const auto m2 = hn::Load(d, m + (8 + j) * m_stride + k0);
    const auto m3 = hn::Load(d, m + (12 + j) * m_stride + k0);
    t[0][j] = hn::Add(hn::Add(m0, m1), m2);
    t[1][j] = hn::Sub(hn::Sub(m1, m2), m3);
  }
  const auto b = bias ? LoadSegment(d, bias + k0, partial, mask) : hn::Zero(d);
#pragma GCC unroll 2
  for (size_t i = 0; i < 2; ++i) {  // (A^T m) A, along each row
    const auto y0 = hn::Add(hn::Add(t[i][0], t[i][1]), t[i][2]);
    const auto y1 = hn::Sub(hn::Sub(t[i][1], t[i][2]), t[i][3]);
    z[i * 2] = bias ? hn::Add(y0, b) : y0;
    z[i * 2 + 1] = bias ? hn::Add(y1, b) : y1;
  }
}

// Y's kTile x kTile block (at most) of one tile within the read extent,
// filters [k0, k0 + L): WinogradTileOutputs (WinogradF3TileOutputs), Z
// before the activation when Z is not null. out[i * kTile + j] is where
// output (i, j) of the block starts in Y and Z; inside[i * kTile + j]
// whether it is within the read extent.
template <size_t kTile, class M>
HWY_INLINE void WinogradOutputVector(const float* HWY_RESTRICT m, size_t m_stride, size_t k0,
                                     bool partial, M mask, const float* bias, Activation act,
                                     const size_t (&out)[kTile * kTile],
                                     bool (&inside)[kTile * kTile], float* Z, float* Y) {
  using D = hn::ScalableTag<float>;
  const D d;
  hn::Vec<D> z[kTile * kTile];
  if constexpr (kTile == 2) {
    WinogradTileOutputs(m, m_stride, k0, partial, mask, bias, z);
  } else {
    WinogradF3TileOutputs(m, m_stride, k0, partial, mask, bias, z);
  }
#pragma GCC unroll 9
  for (size_t i = 0; i < kTile * kTile; ++i) {
    if (!inside[i]) continue;
    const size_t at = out[i] + k0;
    if (Z) StoreSegment(d, z[i], Z + at, partial, mask);
    StoreSegment(d, ApplyActivation(d, act, z[i]), Y + at, partial, mask);
  }
}

template <size_t kTile>
inline void WinogradOutputTransform(const WindowShape& s, size_t K, const float* m,
                                    size_t m_stride, const float* bias, Activation act,
                                    OutputExtent read, size_t n, size_t ty, size_t tx, float* Z,
                                    float* Y) {
  using D = hn::ScalableTag<float>;
  const D d;
  const size_t L = hn::Lanes(d);
  size_t out[kTile * kTile];
  bool inside[kTile * kTile];
  for (size_t i = 0; i < kTile; ++i) {
    for (size_t j = 0; j < kTile; ++j) {
      const size_t oy = kTile * ty + i, ox = kTile * tx + j;
      inside[i * kTile + j] = oy < read.h && ox < read.w;
      out[i * kTile + j] = ((n * s.out_h + oy) * s.out_w + ox) * K;
    }
  }
  const auto all = hn::FirstN(d, L);
  size_t k0 = 0;
  for (; k0 + L <= K; k0 += L) {
    WinogradOutputVector<kTile>(m, m_stride, k0, false, all, bias, act, out, inside, Z, Y);
  }
  if (k0 < K) {
    WinogradOutputVector<kTile>(m, m_stride, k0, true, hn::FirstN(d, K - k0), bias, act, out,
                                inside, Z, Y);
  }
}

// The tiles of F(kTile x kTile, 3x3) over the read extent: per sample, and
// per row of a sample.
template <size_t kTile>
inline size_t WinogradTilesWide(OutputExtent read) {
  return (read.w + kTile - 1) / kTile;
}
template <size_t kTile>
inline size_t WinogradTilesPerSample(OutputExtent read) {
  return (read.h + kTile - 1) / kTile * WinogradTilesWide<kTile>(read);
}

// Where each pixel of the patch under the tile whose first output is (oy0,
// ox0) in sample n starts in x (an image of s's input shape: the input, or
// its gradient), `outside` (C zeros, or null) outside the image.
template <size_t kTile, class T>
inline void WinogradPatch(const WindowShape& s, T* x, T* outside, size_t n, size_t oy0,
                          size_t ox0, T* (&patch)[kWinogradPlanes<kTile>]) {
  constexpr long kAlpha = static_cast<long>(kWinogradAlpha<kTile>);
  const long iy0 = static_cast<long>(oy0) - static_cast<long>(s.pad_top);
  const long ix0 = static_cast<long>(ox0) - static_cast<long>(s.pad_left);
  for (long i = 0; i < kAlpha; ++i) {
    for (long j = 0; j < kAlpha; ++j) {
      const long iy = iy0 + i, ix = ix0 + j;
      const bool inside = iy >= 0 && ix >= 0 && iy < static_cast<long>(s.height) &&
                          ix < static_cast<long>(s.width);
      patch[i * kAlpha + j] = inside ? x + ((n * s.height + static_cast<size_t>(iy)) * s.width +
                                            static_cast<size_t>(ix)) * s.channels
                                     : outside;
    }
  }
}

// Where each output of the 3x3 block of dY ([batch, out_h, out_w, K]) from
// output (oy0, ox0) of sample n starts, `zeros` (K of them) past the
// outputs: the block F(3x3)'s gradients transform.
inline void WinogradGradientBlock(const WindowShape& s, size_t K, const float* dY,
                                  const float* zeros, size_t n, size_t oy0, size_t ox0,
                                  const float* (&block)[9]) {
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < 3; ++j) {
      const bool inside = oy0 + i < s.out_h && ox0 + j < s.out_w;
      block[i * 3 + j] = inside ? dY + OutputOffset(s, K, n, oy0 + i, ox0 + j) : zeros;
    }
  }
}

// The tiles [begin, end) of the batch (tile t: sample t / per_sample, then
// row-major), a chunk at a time: input transforms, the products (16 for
// F(2x2), 25 for F(3x3)), then finish(n, ty, tx, m, m_stride) for each
// tile (sample n, tile row ty and column tx; its products m[xi] at m + xi *
// m_stride): an output transform.
template <size_t kTile, class Finish>
inline void WinogradTiles(const WindowShape& s, const float* x, const float* U, size_t kp,
                          OutputExtent read, size_t begin, size_t end, const Finish& finish) {
  constexpr size_t kPlanes = kWinogradPlanes<kTile>;
  constexpr size_t kChunk = kWinogradTilesPerChunk<kTile>;
  const size_t L = hn::Lanes(hn::ScalableTag<float>());
  const size_t C = s.channels;
  const size_t tiles_w = WinogradTilesWide<kTile>(read);
  const size_t per_sample = WinogradTilesPerSample<kTile>(read);
  static thread_local PackBuffer v_buffer, m_buffer, zero_buffer;
  float* zeros = zero_buffer.Get(C);
  std::fill(zeros, zeros + C, 0.0f);
  // The planes of V and of M, each a cache line longer than its tiles:
  // planes a multiple of 4 KB apart (M's, 48 tiles of 64 filters) put the
  // 16 rows the output transform reads at once in one set of the L1 cache.
  const size_t most = std::min(kChunk, end - begin);
  const size_t v_plane = most * C + kPlanePad, m_plane = most * kp + kPlanePad;
  float* V = v_buffer.Get(kPlanes * v_plane);
  float* M = m_buffer.Get(kPlanes * m_plane);
  for (size_t t0 = begin; t0 < end; t0 += kChunk) {
    const size_t tiles = std::min(kChunk, end - t0);
    for (size_t t = 0; t < tiles; ++t) {
      const size_t n = (t0 + t) / per_sample, in_sample = (t0 + t) % per_sample;
      const float* patch[kPlanes];
      WinogradPatch<kTile, const float>(s, x, zeros, n, kTile * (in_sample / tiles_w),
                                        kTile * (in_sample % tiles_w), patch);
      WinogradInputTransform<kTile>(patch, C, V + t * C, v_plane);
    }
    for (size_t xi = 0; xi < kPlanes; ++xi) {
      const float* v = V + xi * v_plane;
      const float* u = U + xi * WinogradKernelPlane(C, kp);
      float* m = M + xi * m_plane;
      for (size_t n0 = 0; n0 < kp; n0 += kWinogradVecs * L) {
        const size_t nv = std::min(kWinogradVecs, (kp - n0) / L);
        WinogradProductPanel(nv, v, C, 0, tiles, u + n0, kp, m + n0);
      }
    }
    for (size_t t = 0; t < tiles; ++t) {
      const size_t n = (t0 + t) / per_sample, in_sample = (t0 + t) % per_sample;
      finish(n, in_sample / tiles_w, in_sample % tiles_w, M + t * kp, m_plane);
    }
  }
}

// Zeros, in Y (and Z), every output pixel of samples [begin, end) outside
// the read extent.
inline void ZeroUnreadOutputs(const WindowShape& s, size_t K, OutputExtent read, size_t begin,
                              size_t end, float* Z, float* Y) {
  for (size_t n = begin; n < end; ++n) {
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = oy < read.h ? read.w : 0; ox < s.out_w; ++ox) {
        const size_t at = OutputOffset(s, K, n, oy, ox);
        std::fill(Y + at, Y + at + K, 0.0f);
        if (Z) std::fill(Z + at, Z + at + K, 0.0f);
      }
    }
  }
}

// Y = act(conv(x, W) + b) (Z before act, when not null) for a 3x3 kernel at
// stride 1 by F(kTile x kTile, 3x3) (WinogradTileSize), computed within
// `read` and zero outside it. The team transforms the kernel first, split
// by channels (on the calling thread alone it was a sixth of the book
// convnet's third convolution), then splits the batch's tiles evenly.
template <size_t kTile>
inline void Conv2DWinogradForwardTiles(const WindowShape& s, size_t filters, const float* x,
                                       const float* W, const float* b, Activation act,
                                       float* Z, float* Y, OutputExtent read) {
  constexpr size_t kPlanes = kWinogradPlanes<kTile>;
  const size_t L = hn::Lanes(hn::ScalableTag<float>());
  read = ReadExtentOf(s, read);
  const size_t C = s.channels, kp = (filters + L - 1) / L * L;
  const size_t total = s.batch * WinogradTilesPerSample<kTile>(read);
  if (total == 0 || filters == 0) return;
  const bool team = UseTeam(total * kPlanes * C * filters >= kMinParallelWork);
#pragma omp parallel if (team)
  {
    const size_t threads = static_cast<size_t>(omp_get_num_threads());
    const size_t thread = static_cast<size_t>(omp_get_thread_num());
    static thread_local PackBuffer kernel_buffer;
    float* U = kernel_buffer.Get(kPlanes * WinogradKernelPlane(C, kp));
    WinogradKernelTransform<kTile>(W, C, filters, kp, U, 0, C);
    const size_t begin = total * thread / threads, end = total * (thread + 1) / threads;
    const auto finish = [&](size_t n, size_t ty, size_t tx, const float* m, size_t stride) {
      WinogradOutputTransform<kTile>(s, filters, m, stride, b, act, read, n, ty, tx, Z, Y);
    };
    if (begin < end) WinogradTiles<kTile>(s, x, U, kp, read, begin, end, finish);
    if (read.h < s.out_h || read.w < s.out_w) {
      ZeroUnreadOutputs(s, filters, read, s.batch * thread / threads,
                        s.batch * (thread + 1) / threads, Z, Y);
    }
  }
}

// Conv2DWinogradForwardTiles with tiles of `tile` (2 or 3) outputs a side.
inline void Conv2DWinogradForwardImpl(const WindowShape& s, size_t filters, const float* x,
                                      const float* W, const float* b, Activation act, float* Z,
                                      float* Y, OutputExtent read, size_t tile) {
  if (tile == 3) return Conv2DWinogradForwardTiles<3>(s, filters, x, W, b, act, Z, Y, read);
  Conv2DWinogradForwardTiles<2>(s, filters, x, W, b, act, Z, Y, read);
}

// The pooled output of one tile, filters [k0, k0 + L) (a partial vector
// with `partial`), for a 2x2 max pooling whose windows are the tiles: the
// tile's four outputs (WinogradTileOutputs), then their maximum and its
// argmax as PoolPixel2x2 takes them (the same comparisons in the same
// order: (0, 0), (0, 1), (1, 0), (1, 1), a later one replacing only when
// greater), conv_act applied after (as Conv2DMaxPooling2DForward does),
// and act of that into `activated` when it is not null. first: the per-sample index of output (0, 0) in the
// convolution's output, which argmax names; row: the index step of one
// output row (out_w * K).
template <class M>
HWY_INLINE void WinogradPooledVector(const float* HWY_RESTRICT m, size_t m_stride, size_t k0,
                                     bool partial, M mask, const float* bias,
                                     Activation conv_act, Activation act, size_t first,
                                     size_t K, size_t row, float* HWY_RESTRICT y,
                                     uint32_t* HWY_RESTRICT argmax,
                                     float* HWY_RESTRICT activated) {
  using D = hn::ScalableTag<float>;
  const D d;
  const hn::RebindToUnsigned<D> du;
  hn::Vec<D> z[4];
  WinogradTileOutputs(m, m_stride, k0, partial, mask, bias, z);
  const auto lanes = hn::Iota(du, 0);
  const size_t at[4] = {first + k0, first + K + k0, first + row + k0, first + row + K + k0};
  auto best = z[0];
  auto where = hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(at[0])));
#pragma GCC unroll 3
  for (size_t i = 1; i < 4; ++i) {
    const auto better = hn::Gt(z[i], best);
    best = hn::IfThenElse(better, z[i], best);
    where = hn::IfThenElse(hn::RebindMask(du, better),
                           hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(at[i]))), where);
  }
  const auto pooled = ApplyActivation(d, conv_act, best);
  StoreSegment(d, pooled, y + k0, partial, mask);
  if (partial) {
    hn::BlendedStore(where, hn::RebindMask(du, mask), du, argmax + k0);
  } else {
    hn::StoreU(where, du, argmax + k0);
  }
  if (activated) StoreSegment(d, ApplyActivation(d, act, pooled), activated + k0, partial, mask);
}

// y, argmax (and activated) [batch, out_h / 2, out_w / 2, filters], as
// Conv2DMaxPooling2DForward gives them for a 2x2 pooling at stride 2 of
// the convolution's output (its windows are the tiles), from Winograd's
// convolution: the convolution's output is never stored. Requires
// WinogradSaves(s, conv_act, {2 * pooled_h, 2 * pooled_w}, 2).
inline void Conv2DWinogradPooledForwardImpl(const WindowShape& s, size_t filters,
                                            const float* x, const float* W, const float* b,
                                            Activation conv_act, size_t pooled_h,
                                            size_t pooled_w, float* y, uint32_t* argmax,
                                            Activation act, float* activated) {
  using D = hn::ScalableTag<float>;
  const D d;
  const size_t L = hn::Lanes(d);
  const OutputExtent read{2 * pooled_h, 2 * pooled_w};
  const size_t C = s.channels, K = filters, kp = (K + L - 1) / L * L;
  const size_t total = s.batch * pooled_h * pooled_w;
  if (total == 0 || K == 0) return;
  const size_t row = s.out_w * K;
  const auto finish = [&](size_t n, size_t ty, size_t tx, const float* m, size_t stride) {
    const size_t first = (2 * ty * s.out_w + 2 * tx) * K;
    const size_t out = ((n * pooled_h + ty) * pooled_w + tx) * K;
    float* act_out = activated ? activated + out : nullptr;
    size_t k0 = 0;
    for (; k0 + L <= K; k0 += L) {
      WinogradPooledVector(m, stride, k0, false, hn::FirstN(d, L), b, conv_act, act, first, K,
                           row, y + out, argmax + out, act_out);
    }
    if (k0 < K) {
      WinogradPooledVector(m, stride, k0, true, hn::FirstN(d, K - k0), b, conv_act, act, first,
                           K, row, y + out, argmax + out, act_out);
    }
  };
  const bool team = UseTeam(total * 4 * 16 * C * K >= kMinParallelWork);
#pragma omp parallel if (team)
  {
    const size_t threads = static_cast<size_t>(omp_get_num_threads());
    const size_t thread = static_cast<size_t>(omp_get_thread_num());
    static thread_local PackBuffer kernel_buffer;
    float* U = kernel_buffer.Get(kWinogradPlanes<2> * WinogradKernelPlane(C, kp));
    WinogradKernelTransform<2>(W, C, K, kp, U, 0, C);
    const size_t begin = total * thread / threads, end = total * (thread + 1) / threads;
    if (begin < end) WinogradTiles<2>(s, x, U, kp, read, begin, end, finish);
  }
}

// dW [3][3][C][K] and db [K] of a 3x3 convolution at stride 1 by
// Winograd's F(3x3, 3x3) with the roles turned: dW = conv(x, dY) is, for
// each channel c and filter k, a 3x3 output summed over every tile t
// (sample and 3x3 block of the outputs) of the tile's 5x5 input patch d_c
// correlated with its 3x3 block of dY, e_k (zero past the outputs):
//   dW[c][k] = A^T [ sum_t (G e_k G^T) .* (B^T d_c B) ] A,
// with F(3x3, 3x3)'s matrices (its "filter" is e, its outputs the taps).
// With V[xi][t][c] (the forward's input transform) and E[xi][t][k] (the
// kernel transform of dY's blocks), the sums are 25 matrix products, one
// per position xi, summed over the tiles:
//   P[xi][c][k] = sum_t V[xi][t][c] E[xi][t][k],
// each element one fused multiply-add chain from zero, ascending over the
// tiles (WinogradProductTile down V's columns, register tiles of channels
// by filters; GemmShare, which packed V's columns for every product, took
// 10% longer). 25 multiplies per tile, channel and filter where the direct
// sums take 9 per output (81 at the book convnet's third convolution, one
// tile a sample). db sums dY's rows from the first, one add each. Taken
// where the forward pass takes F(3x3) tiles (WinogradBackwardApplies). The
// team transforms its share of the tiles, then splits P's channels for the
// products and their transforms back.
inline void Conv2DWinogradBackwardWeightsImpl(const WindowShape& s, size_t filters,
                                              const float* x, const float* dY, float* dW,
                                              float* db) {
  using D = hn::ScalableTag<float>;
  const D d;
  constexpr size_t kPlanes = kWinogradPlanes<3>;
  const size_t L = hn::Lanes(d);
  const size_t C = s.channels, K = filters, kp = (K + L - 1) / L * L;
  const OutputExtent all{s.out_h, s.out_w};
  const size_t tiles_w = WinogradTilesWide<3>(all), per_sample = WinogradTilesPerSample<3>(all);
  const size_t T = s.batch * per_sample;
  if (C == 0 || K == 0) return;
  const size_t v_plane = T * C + kPlanePad, e_plane = T * kp + kPlanePad;
  const size_t p_plane = C * kp + kPlanePad;
  static thread_local PackBuffer v_buffer, e_buffer, p_buffer, zero_buffer;
  float* V = v_buffer.Get(kPlanes * v_plane);
  float* E = e_buffer.Get(kPlanes * e_plane);
  float* P = p_buffer.Get(kPlanes * p_plane);
  float* zeros = zero_buffer.Get(std::max(C, kp));
  std::fill(zeros, zeros + std::max(C, kp), 0.0f);
  const bool team = UseTeam(T * kPlanes * C * K >= kMinParallelWork);
#pragma omp parallel if (team)
  {
    const size_t threads = static_cast<size_t>(omp_get_num_threads());
    const size_t thread = static_cast<size_t>(omp_get_thread_num());
    for (size_t t = T * thread / threads; t < T * (thread + 1) / threads; ++t) {
      const size_t n = t / per_sample, oy0 = 3 * (t % per_sample / tiles_w);
      const size_t ox0 = 3 * (t % per_sample % tiles_w);
      const float* patch[kPlanes];
      WinogradPatch<3, const float>(s, x, zeros, n, oy0, ox0, patch);
      WinogradInputTransform<3>(patch, C, V + t * C, v_plane);
      const float* block[9];
      WinogradGradientBlock(s, K, dY, zeros, n, oy0, ox0, block);
      ForEachSegment(K, [&](D, size_t k0, bool partial, auto mask) {
        WinogradKernelVector<3>(block, k0, partial, mask, E + t * kp, e_plane);
      });
    }
#pragma omp barrier
    const size_t c_begin = C * thread / threads, c_end = C * (thread + 1) / threads;
    for (size_t xi = 0; xi < kPlanes && c_begin < c_end; ++xi) {
      for (size_t n0 = 0; n0 < kp; n0 += kWinogradVecs * L) {
        const size_t nv = std::min(kWinogradVecs, (kp - n0) / L);
        WinogradProductPanel</*kColumns=*/true>(nv, V + xi * v_plane + c_begin, C, T,
                                                 c_end - c_begin, E + xi * e_plane + n0, kp,
                                                 P + xi * p_plane + c_begin * kp + n0);
      }
    }
#pragma omp barrier
    for (size_t c = C * thread / threads; c < C * (thread + 1) / threads; ++c) {
      ForEachSegment(K, [&](D, size_t k0, bool partial, auto mask) {
        hn::Vec<D> z[9];
        WinogradF3TileOutputs(P + c * kp, p_plane, k0, partial, mask, nullptr, z);
        for (size_t tap = 0; tap < 9; ++tap) {
          StoreSegment(d, z[tap], dW + (tap * C + c) * K + k0, partial, mask);
        }
      });
    }
    // db, a vector of filters to each thread in turn.
    for (size_t k0 = thread * L; k0 < K; k0 += threads * L) {
      const bool partial = k0 + L > K;
      const auto mask = hn::FirstN(d, K - k0);
      auto sum = hn::Zero(d);
      for (size_t r = 0; r < s.rows(); ++r) {
        sum = hn::Add(sum, LoadSegment(d, dY + r * K + k0, partial, mask));
      }
      StoreSegment(d, sum, db + k0, partial, mask);
    }
  }
}

// F(3x3, 3x3) turned back for the input gradient: the forward pass's
// output transform and input transform, transposed.
//   A = [1 0 0; 1 1 1; 1 -1 1; 1 2 4; 0 0 1]   (A^T's transpose)
//   B = [2 0 0 0 0; -1 -2 2 -1 2; -2 -1 -3 0 -1; 1 1 1 1 -2; 0 0 0 0 1]
// A times the column (e0, e1, e2): doublings are exact, so the four sums
// round as in any order.
template <class V, class D>
HWY_INLINE void WinogradF3GradientColumn(D d, V e0, V e1, V e2, V (&out)[5]) {
  const auto two = hn::Set(d, 2.0f);
  const auto s = hn::Add(e0, e2);
  out[0] = e0;
  out[1] = hn::Add(s, e1);
  out[2] = hn::Sub(s, e1);
  out[3] = hn::Add(e0, hn::Mul(hn::Add(e1, hn::Mul(e2, two)), two));
  out[4] = e2;
}

// B times the column (m0, ..., m4).
template <class V, class D>
HWY_INLINE void WinogradF3InputGradientColumn(D d, V m0, V m1, V m2, V m3, V m4, V (&r)[5]) {
  const auto two = hn::Set(d, 2.0f);
  const auto p = hn::Add(m0, m3), q = hn::Add(m1, m2);
  r[0] = hn::Mul(m0, two);
  r[1] = hn::Sub(hn::Mul(hn::Add(hn::Sub(m2, m1), m4), two), p);
  r[2] = hn::Neg(hn::Add(hn::Add(hn::Mul(hn::Add(m0, m2), two), q), m4));
  r[3] = hn::Sub(hn::Add(p, q), hn::Mul(m4, two));
  r[4] = m4;
}

// dM = A e A^T for the lanes [k0, k0 + L) (a partial vector with
// `partial`) of one tile's 3x3 block e of dY, its rows at e[i * 3 + j]:
// dM[xi] stored at dm + xi * plane.
template <class M>
HWY_INLINE void WinogradGradientVector(const float* const (&e)[9], size_t k0, bool partial,
                                       M mask, float* HWY_RESTRICT dm, size_t plane) {
  using D = hn::ScalableTag<float>;
  using V = hn::Vec<D>;
  const D d;
  V h[5][3];
#pragma GCC unroll 3
  for (size_t j = 0; j < 3; ++j) {  // A e, down each column
    V out[5];
    WinogradF3GradientColumn(d, LoadSegment(d, e[j] + k0, partial, mask),
                             LoadSegment(d, e[3 + j] + k0, partial, mask),
                             LoadSegment(d, e[6 + j] + k0, partial, mask), out);
    for (size_t i = 0; i < 5; ++i) h[i][j] = out[i];
  }
#pragma GCC unroll 5
  for (size_t i = 0; i < 5; ++i) {  // (A e) A^T, along each row
    V row[5];
    WinogradF3GradientColumn(d, h[i][0], h[i][1], h[i][2], row);
    for (size_t j = 0; j < 5; ++j) {
      StoreSegment(d, row[j], dm + (i * 5 + j) * plane + k0, partial, mask);
    }
  }
}

// dd = B dV B^T for channels [c0, c0 + L) of one tile from its 25 products
// dv[xi] (dv + xi * dv_stride), added to dx where the tile's 5x5 patch lies
// in the image: patch[i * 5 + j] is where pixel (i, j) starts in dx, null
// outside it; bit i * 5 + j of `fresh` set where no tile before this one
// has added to it, whose dx is then 0 + dd (dx need not be zeroed first).
template <class M>
HWY_INLINE void WinogradInputGradientVector(const float* HWY_RESTRICT dv, size_t dv_stride,
                                            size_t c0, bool partial, M mask,
                                            float* const (&patch)[25], uint32_t fresh) {
  using D = hn::ScalableTag<float>;
  using V = hn::Vec<D>;
  const D d;
  V r[5][5];
#pragma GCC unroll 5
  for (size_t j = 0; j < 5; ++j) {  // B dV, down each column
    V column[5];
    WinogradF3InputGradientColumn(d, hn::Load(d, dv + j * dv_stride + c0),
                                  hn::Load(d, dv + (5 + j) * dv_stride + c0),
                                  hn::Load(d, dv + (10 + j) * dv_stride + c0),
                                  hn::Load(d, dv + (15 + j) * dv_stride + c0),
                                  hn::Load(d, dv + (20 + j) * dv_stride + c0), column);
    for (size_t i = 0; i < 5; ++i) r[i][j] = column[i];
  }
#pragma GCC unroll 5
  for (size_t i = 0; i < 5; ++i) {  // (B dV) B^T, along each row
    V row[5];
    WinogradF3InputGradientColumn(d, r[i][0], r[i][1], r[i][2], r[i][3], r[i][4], row);
    for (size_t j = 0; j < 5; ++j) {
      float* to = patch[i * 5 + j];
      if (to == nullptr) continue;
      const auto before =
          (fresh >> (i * 5 + j)) & 1 ? hn::Zero(d) : LoadSegment(d, to + c0, partial, mask);
      StoreSegment(d, hn::Add(before, row[j]), to + c0, partial, mask);
    }
  }
}

// dx [batch, height, width, C] of a 3x3 convolution at stride 1 by
// F(3x3, 3x3) turned back: the forward pass computes each 3x3 tile of
// outputs as Y_k = A^T [sum_c U[c][k] .* (B^T d_c B)] A, so the gradient
// of its 5x5 input patch d_c is
//   dd_c = B [ sum_k U[c][k] .* (A e_k A^T) ] B^T
// with e_k the tile's 3x3 block of dY (zero past the outputs) and U the
// forward pass's kernel transform. With dM[xi][t][k] = (A e_k A^T)[xi] and
// U^T[xi][k][c], the sums over the filters are 25 matrix products, one per
// position xi:
//   dV[xi][t][c] = sum_k dM[xi][t][k] U^T[xi][k][c],
// each element one fused multiply-add chain from zero, ascending over the
// filters. 25 multiplies per tile, channel and filter where the direct sums
// take 81 (the book convnet's third convolution: one tile a sample, where
// dY W^T and Col2Im took 182 us a batch). Tiles' patches overlap by two
// pixels: each element of dx sums its tiles' dd from zero, in the order of
// the tiles (sample, then row-major). Each thread transposes W's taps
// (W^T, [3][3][K][C]) and transforms all of them for itself, then takes
// its share of the samples, so no sum is split between threads.
inline void Conv2DWinogradBackwardInputImpl(const WindowShape& s, size_t filters,
                                            const float* dY, const float* W, float* dx) {
  using D = hn::ScalableTag<float>;
  constexpr size_t kPlanes = kWinogradPlanes<3>;
  const size_t L = hn::Lanes(D());
  const size_t C = s.channels, K = filters, cp = (C + L - 1) / L * L;
  const OutputExtent all{s.out_h, s.out_w};
  const size_t tiles_w = WinogradTilesWide<3>(all), per_sample = WinogradTilesPerSample<3>(all);
  if (C == 0 || s.batch == 0) return;
  const bool team = UseTeam(s.batch * per_sample * kPlanes * C * K >= kMinParallelWork);
#pragma omp parallel if (team)
  {
    const size_t threads = static_cast<size_t>(omp_get_num_threads());
    const size_t thread = static_cast<size_t>(omp_get_thread_num());
    static thread_local PackBuffer transposed_buffer, kernel_buffer;
    float* Wt = transposed_buffer.Get(9 * K * C);
    float* U = kernel_buffer.Get(kPlanes * WinogradKernelPlane(K, cp));
    for (size_t tap = 0; tap < 9; ++tap) {
      PackTransposed(W + tap * C * K, K, K, 0, C, C, Wt + tap * K * C);
    }
    WinogradKernelTransform<3>(Wt, K, C, cp, U, 0, K);
    const size_t n_begin = s.batch * thread / threads, n_end = s.batch * (thread + 1) / threads;
    const size_t begin = n_begin * per_sample, end = n_end * per_sample;
    // Chunks of equal size, as few as kWinogradTilesPerChunk allows: each
    // streams all of U once.
    const size_t chunks = (end - begin + kWinogradTilesPerChunk<3> - 1) / kWinogradTilesPerChunk<3>;
    const size_t chunk = chunks == 0 ? 1 : (end - begin + chunks - 1) / chunks;
    static thread_local PackBuffer dm_buffer, dv_buffer, zero_buffer;
    const size_t most = std::min(chunk, end - begin);
    const size_t dm_plane = most * K + kPlanePad, dv_plane = most * cp + kPlanePad;
    float* dM = dm_buffer.Get(kPlanes * dm_plane);
    float* dV = dv_buffer.Get(kPlanes * dv_plane);
    float* zeros = zero_buffer.Get(K);
    std::fill(zeros, zeros + K, 0.0f);
    for (size_t t0 = begin; t0 < end; t0 += chunk) {
      const size_t tiles = std::min(chunk, end - t0);
      for (size_t t = 0; t < tiles; ++t) {
        const size_t n = (t0 + t) / per_sample, in_sample = (t0 + t) % per_sample;
        const size_t oy0 = 3 * (in_sample / tiles_w), ox0 = 3 * (in_sample % tiles_w);
        const float* block[9];
        WinogradGradientBlock(s, K, dY, zeros, n, oy0, ox0, block);
        ForEachSegment(K, [&](D, size_t k0, bool partial, auto mask) {
          WinogradGradientVector(block, k0, partial, mask, dM + t * K, dm_plane);
        });
      }
      for (size_t xi = 0; xi < kPlanes; ++xi) {
        const float* u = U + xi * WinogradKernelPlane(K, cp);
        for (size_t c0 = 0; c0 < cp; c0 += kWinogradVecs * L) {
          const size_t nv = std::min(kWinogradVecs, (cp - c0) / L);
          WinogradProductPanel(nv, dM + xi * dm_plane, K, 0, tiles, u + c0, cp,
                               dV + xi * dv_plane + c0);
        }
      }
      for (size_t t = 0; t < tiles; ++t) {
        const size_t n = (t0 + t) / per_sample, in_sample = (t0 + t) % per_sample;
        const size_t ty = in_sample / tiles_w, tx = in_sample % tiles_w;
        float* patch[kPlanes];
        WinogradPatch<3, float>(s, dx, nullptr, n, 3 * ty, 3 * tx, patch);
        // The tile before in the row added to the patch's first two
        // columns, the row of tiles above to its first two rows. With
        // "valid" or "same" padding the patches cover the image, so every
        // pixel has a first tile and dx needs no zeroing (a twentieth of
        // the kernel's time).
        uint32_t fresh = 0;
        for (size_t i = 0; i < 5; ++i) {
          for (size_t j = 0; j < 5; ++j) {
            if (!(ty > 0 && i < 2) && !(tx > 0 && j < 2)) fresh |= 1u << (i * 5 + j);
          }
        }
        ForEachSegment(C, [&](D, size_t c0, bool partial, auto mask) {
          WinogradInputGradientVector(dV + t * cp, dv_plane, c0, partial, mask, patch, fresh);
        });
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_WINOGRAD_INL_H_
