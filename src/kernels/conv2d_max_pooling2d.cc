// The convolution that pools its own output (kernels/conv2d_max_pooling2d.h),
// compiled once per SIMD target as gemm.cc: one sample per item, its
// convolution by gemm-inl.h's tiles into a per-thread buffer, then pooled by
// max_pooling2d-inl.h's PoolPixel; or, for a first layer (one channel, a 3x3
// or 5x5 kernel) with 2x2 windows, pooled in the registers of its sliding
// tiles; or, where Conv2DForward would take Winograd's F(2x2, 3x3) and the
// pooling's 2x2 windows are its tiles, pooled in winograd-inl.h's output
// transform. And its weight gradient from the pooled gradient, by
// direct_weights-inl.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/conv2d_max_pooling2d.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "common/team.h"
#include "hwy/highway.h"
#include "kernels/activation-inl.h"
#include "kernels/batch_halves.h"
#include "kernels/conv2d.h"
#include "kernels/conv2d_max_pooling2d.h"
#include "kernels/direct_weights-inl.h"
#include "kernels/gemm-inl.h"
#include "kernels/im2col_index.h"
#include "kernels/masked_segment-inl.h"
#include "kernels/max_pooling2d-inl.h"
#include "kernels/winograd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {

// Accumulators per UnitStepRows tile: with a kernel vector per filter
// vector, within the register file (32 vectors on AVX-512, 16 otherwise).
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kUnitStepAccumulators = 24;
#else
constexpr size_t kUnitStepAccumulators = 12;
#endif

// kRows consecutive output pixels of one row of a convolution on one
// channel with stride 1, whose windows then start one float apart: row i
// reads window0[taps[p] + i], so a single pointer per tap serves every row
// (Gemm's tile of 8 rows keeps a pointer per row, and at 25 taps its loop
// overhead and too few accumulators held it to half the FMA rate). kVecs
// vectors of filters, from f[0] and f[1]: each broadcast pixel serves them
// all (16 filters are two vectors on AVX2, which one at a time broadcast
// every pixel twice). A vector that would reach past the last filter starts
// at filters - L instead, overlapping the one before, and its repeated
// lanes are stored again with the same values; `partial` only when there
// are fewer filters than lanes. The sums are Gemm's: from tap 0 up, one
// fused multiply-add each, then the bias.
template <size_t kRows, size_t kVecs, bool kPartial>
HWY_NOINLINE void UnitStepRows(const float* HWY_RESTRICT window0, const size_t* HWY_RESTRICT taps,
                               size_t P, const float* HWY_RESTRICT W, size_t filters,
                               const size_t (&f)[2], const ForwardEpilogue& epilogue,
                               size_t row0) {
  const DF d;
  const auto mask = hn::FirstN(d, filters - f[0]);
  VF acc[kRows][kVecs];
#pragma GCC unroll 32
  for (size_t i = 0; i < kRows; ++i) {
    for (size_t j = 0; j < kVecs; ++j) acc[i][j] = hn::Zero(d);
  }
  for (size_t p = 0; p < P; ++p) {
    VF w[kVecs];
    for (size_t j = 0; j < kVecs; ++j) w[j] = LoadSegment(d, W + p * filters + f[j], kPartial, mask);
    const float* HWY_RESTRICT at = window0 + taps[p];
#pragma GCC unroll 32
    for (size_t i = 0; i < kRows; ++i) {
      const VF x = hn::Set(d, at[i]);
      for (size_t j = 0; j < kVecs; ++j) acc[i][j] = hn::MulAdd(x, w[j], acc[i][j]);
    }
  }
#pragma GCC unroll 32
  for (size_t i = 0; i < kRows; ++i) {
    for (size_t j = 0; j < kVecs; ++j) {
      VF row[1] = {acc[i][j]};
      FinishRow(epilogue, row0 + i, f[j], row, kPartial, mask);
    }
  }
}

// UnitStepRows over `count` pixels from row0: tiles of kRows, then of
// halving sizes for the rest (a tile never reads past its last window).
template <size_t kVecs, size_t kRows = kUnitStepAccumulators / kVecs>
void UnitStepRowRun(const float* window0, const size_t* taps, size_t P, const float* W,
                    size_t filters, const size_t (&f)[2], const ForwardEpilogue& epilogue,
                    size_t row0, size_t count) {
  const size_t L = hn::Lanes(DF());
  for (; count >= kRows; count -= kRows, row0 += kRows, window0 += kRows) {
    if (filters < L) {
      UnitStepRows<kRows, kVecs, true>(window0, taps, P, W, filters, f, epilogue, row0);
    } else {
      UnitStepRows<kRows, kVecs, false>(window0, taps, P, W, filters, f, epilogue, row0);
    }
  }
  if constexpr (kRows > 1) {
    if (count > 0) {
      UnitStepRowRun<kVecs, kRows / 2>(window0, taps, P, W, filters, f, epilogue, row0, count);
    }
  }
}

// One output row of the convolution, all filters: two vectors of filters
// at a time, and an odd last one alone. Vector k starts at filter k * L, or
// at filters - L when that would reach past the last (24 filters on AVX2's
// 8 lanes: a pair, then one).
void UnitStepRow(const float* window0, const size_t* taps, size_t P, const float* W,
                 size_t filters, const ForwardEpilogue& epilogue, size_t row0, size_t count) {
  const size_t L = hn::Lanes(DF());
  const size_t vecs = (filters + L - 1) / L;
  const auto start = [&](size_t k) { return filters < L ? 0 : std::min(k * L, filters - L); };
  size_t k = 0;
  for (; k + 2 <= vecs; k += 2) {
    const size_t f[2] = {start(k), start(k + 1)};
    UnitStepRowRun<2>(window0, taps, P, W, filters, f, epilogue, row0, count);
  }
  if (k < vecs) {
    const size_t f[2] = {start(k), start(k)};
    UnitStepRowRun<1>(window0, taps, P, W, filters, f, epilogue, row0, count);
  }
}

// Output pixels per SlidingRows tile: with the kernel row's kKw vectors of
// weights and the broadcast, within the register file (24 + 5 + 1 of
// AVX-512's 32; 8 + 5 + 1 of AVX2's 16).
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kSlidingRows = 24;
#else
constexpr size_t kSlidingRows = 8;
#endif

// UnitStepRows for a kernel kKw wide, one vector of filters from f, with
// each input pixel loaded once per kernel row: a broadcast pixel serves
// the up to kKw outputs whose windows hold it, the kernel row's weights in
// registers. (UnitStepRows broadcasts a pixel per multiply-add: on Zen 5
// the speedrun's 5x5 ran at half the FMA rate, its loads the limit.) Each
// output still sums its taps in order, kernel rows down and, within one,
// its pixels left to right, one fused multiply-add each from zero, then
// the bias: UnitStepRows' and Gemm's sums.
template <size_t kRows, size_t kKw, bool kPartial>
HWY_NOINLINE void SlidingRows(const float* HWY_RESTRICT window0, const size_t* HWY_RESTRICT taps,
                              size_t kh, const float* HWY_RESTRICT W, size_t filters, size_t f,
                              const ForwardEpilogue& epilogue, size_t row0) {
  const DF d;
  const auto mask = hn::FirstN(d, filters - f);
  VF acc[kRows];
#pragma GCC unroll 32
  for (size_t i = 0; i < kRows; ++i) acc[i] = hn::Zero(d);
  for (size_t ky = 0; ky < kh; ++ky) {
    VF w[kKw];
#pragma GCC unroll 8
    for (size_t kx = 0; kx < kKw; ++kx) {
      w[kx] = LoadSegment(d, W + (ky * kKw + kx) * filters + f, kPartial, mask);
    }
    const float* HWY_RESTRICT in = window0 + taps[ky * kKw];
#pragma GCC unroll 40
    for (size_t ix = 0; ix < kRows + kKw - 1; ++ix) {
      const VF x = hn::Set(d, in[ix]);
#pragma GCC unroll 8
      for (size_t kx = 0; kx < kKw; ++kx) {
        if (ix >= kx && ix - kx < kRows) acc[ix - kx] = hn::MulAdd(x, w[kx], acc[ix - kx]);
      }
    }
  }
#pragma GCC unroll 32
  for (size_t i = 0; i < kRows; ++i) {
    VF row[1] = {acc[i]};
    FinishRow(epilogue, row0 + i, f, row, kPartial, mask);
  }
}

// SlidingRows over `count` pixels from row0, every vector of filters (the
// last overlapping the one before, as in UnitStepRow): tiles of kRows,
// then of halving sizes for the rest.
template <size_t kKw, size_t kRows = kSlidingRows>
void SlidingRowRun(const float* window0, const size_t* taps, size_t kh, const float* W,
                   size_t filters, const ForwardEpilogue& epilogue, size_t row0, size_t count) {
  const size_t L = hn::Lanes(DF());
  for (; count >= kRows; count -= kRows, row0 += kRows, window0 += kRows) {
    for (size_t f = 0;; f = NextVector(f, L, filters)) {
      if (filters < L) {
        SlidingRows<kRows, kKw, true>(window0, taps, kh, W, filters, 0, epilogue, row0);
        break;
      }
      SlidingRows<kRows, kKw, false>(window0, taps, kh, W, filters, f, epilogue, row0);
      if (f + L >= filters) break;
    }
  }
  if constexpr (kRows > 1) {
    if (count > 0) {
      SlidingRowRun<kKw, kRows / 2>(window0, taps, kh, W, filters, epilogue, row0, count);
    }
  }
}

// Output pixels per row of a SlidingPooledRows tile (even: whole 2x2
// windows): two rows of accumulators with the kernel row's kKw vectors of
// weights and a broadcast pixel per row, within the register file
// (24 + 5 + 2 of AVX-512's 32; 8 + 5 + 2 of AVX2's 16).
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kPooledTilePixels = 12;
#else
constexpr size_t kPooledTilePixels = 4;
#endif

// SlidingRows' sums for kPix pixels of two output rows into acc[0] and
// acc[1], window0[r] the first window of row r: taps kernel rows down and,
// within one, left to right, one fused multiply-add each from zero. The
// rows share the kernel row's weights and run interleaved, so that 2 * kPix
// chains of multiply-adds hide their latency (8 for AVX2's tiles of 4).
template <size_t kPix, size_t kKw, bool kPartial, class M>
HWY_INLINE void SlideOutputRows(VF (&acc)[2][kPix], const float* const (&window0)[2],
                                const size_t* HWY_RESTRICT taps, size_t kh,
                                const float* HWY_RESTRICT W, size_t filters, size_t f, M mask) {
  const DF d;
  for (size_t ky = 0; ky < kh; ++ky) {
    VF w[kKw];
#pragma GCC unroll 8
    for (size_t kx = 0; kx < kKw; ++kx) {
      w[kx] = LoadSegment(d, W + (ky * kKw + kx) * filters + f, kPartial, mask);
    }
    const float* HWY_RESTRICT in0 = window0[0] + taps[ky * kKw];
    const float* HWY_RESTRICT in1 = window0[1] + taps[ky * kKw];
#pragma GCC unroll 40
    for (size_t ix = 0; ix < kPix + kKw - 1; ++ix) {
      const VF x0 = hn::Set(d, in0[ix]), x1 = hn::Set(d, in1[ix]);
#pragma GCC unroll 8
      for (size_t kx = 0; kx < kKw; ++kx) {
        if (ix >= kx && ix - kx < kPix) {
          acc[0][ix - kx] = hn::MulAdd(x0, w[kx], acc[0][ix - kx]);
          acc[1][ix - kx] = hn::MulAdd(x1, w[kx], acc[1][ix - kx]);
        }
      }
    }
  }
}

// The 2x2 max pooling of a convolution on one channel with stride 1, in
// registers: kPix / 2 windows of the output rows oy and oy + 1 from pixel
// ox (window0[r]: output row oy + r's first window), one vector of filters
// from f. Each output pixel is SlidingRows' sum plus the bias, and each
// window PoolPixel2x2's comparisons in its order, the first maximum
// winning; `first` is the element (oy * out_w + ox) * filters + f of the
// sample's convolution output that argmax counts in. The convolution's
// output never leaves the registers: SlidingRows then PoolPixel stored
// and read back 86 KB per sample of the book convnet's first layer, and
// spent more time pooling than convolving.
template <size_t kPix, size_t kKw, bool kPartial>
HWY_NOINLINE void SlidingPooledRows(const float* const (&window0)[2],
                                    const size_t* HWY_RESTRICT taps, size_t kh,
                                    const float* HWY_RESTRICT W, const float* HWY_RESTRICT bias,
                                    size_t filters, size_t f, size_t out_w, size_t first,
                                    float* HWY_RESTRICT y, uint32_t* HWY_RESTRICT argmax) {
  static_assert(kPix % 2 == 0, "whole 2x2 windows");
  const DF d;
  const hn::RebindToUnsigned<DF> du;
  const auto mask = hn::FirstN(d, filters - f);
  VF acc[2][kPix];
#pragma GCC unroll 32
  for (size_t i = 0; i < kPix; ++i) acc[0][i] = acc[1][i] = hn::Zero(d);
  SlideOutputRows<kPix, kKw, kPartial>(acc, window0, taps, kh, W, filters, f, mask);
  if (bias) {
    const VF b = LoadSegment(d, bias + f, kPartial, mask);
#pragma GCC unroll 32
    for (size_t i = 0; i < kPix; ++i) {
      acc[0][i] = hn::Add(acc[0][i], b);
      acc[1][i] = hn::Add(acc[1][i], b);
    }
  }
  const auto lanes = hn::Add(hn::Iota(du, 0), hn::Set(du, static_cast<uint32_t>(first)));
  const auto C = static_cast<uint32_t>(filters), down = static_cast<uint32_t>(out_w * filters);
#pragma GCC unroll 16
  for (size_t i = 0; i < kPix / 2; ++i) {
    const auto at = hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(2 * i) * C));
    VF best = acc[0][2 * i];
    auto where = at;
    const VF candidates[3] = {acc[0][2 * i + 1], acc[1][2 * i], acc[1][2 * i + 1]};
    const uint32_t offsets[3] = {C, down, down + C};
#pragma GCC unroll 3
    for (size_t k = 0; k < 3; ++k) {
      const auto better = hn::Gt(candidates[k], best);
      best = hn::IfThenElse(better, candidates[k], best);
      where = hn::IfThenElse(hn::RebindMask(du, better), hn::Add(at, hn::Set(du, offsets[k])),
                             where);
    }
    StoreSegment(d, best, y + i * filters + f, kPartial, mask);
    StoreSegment(d, hn::BitCast(d, where), reinterpret_cast<float*>(argmax + i * filters + f),
                 kPartial, mask);
  }
}

// SlidingPooledRows of 2 * kWindows pixels, chosen at run time.
using PooledTile = void (*)(const float* const (&)[2], const size_t*, size_t, const float*,
                            const float*, size_t, size_t, size_t, size_t, float*, uint32_t*);
template <size_t kKw, bool kPartial, size_t... kWindows>
constexpr std::array<PooledTile, sizeof...(kWindows)> PooledTiles(
    std::index_sequence<kWindows...>) {
  return {&SlidingPooledRows<2 * (kWindows + 1), kKw, kPartial>...};
}

// One row of 2x2 windows over `count` output pixels (even) from pixel 0 of
// output rows oy and oy + 1, every vector of filters (the last overlapping
// the one before, as in UnitStepRow), in as few tiles as fit the register
// file, of sizes as equal as whole windows allow: the book convnet's 26
// pixels as 10 + 8 + 8 on AVX-512 (12 + 12 + 2 left a tile of 4 chains of
// multiply-adds, latency-bound, a fifth of the pass's time).
template <size_t kKw>
void SlidingPooledRowRun(const IndexedMatrix& cols, size_t oy, size_t count, size_t kh,
                         const float* W, const float* bias, size_t filters, size_t out_w,
                         float* y, uint32_t* argmax) {
  constexpr size_t kMostWindows = kPooledTilePixels / 2;
  static constexpr auto kWhole =
      PooledTiles<kKw, false>(std::make_index_sequence<kMostWindows>());
  static constexpr auto kPartialTiles =
      PooledTiles<kKw, true>(std::make_index_sequence<kMostWindows>());
  const size_t L = hn::Lanes(DF());
  const size_t windows = count / 2;
  const size_t tiles = (windows + kMostWindows - 1) / kMostWindows;
  size_t ox = 0;
  for (size_t t = 0; t < tiles; ++t) {
    const size_t own = windows / tiles + (t < windows % tiles ? 1 : 0);
    const float* const window0[2] = {cols.base + cols.rows[oy * out_w + ox],
                                     cols.base + cols.rows[(oy + 1) * out_w + ox]};
    const size_t first = (oy * out_w + ox) * filters;
    for (size_t f = 0;; f = NextVector(f, L, filters)) {
      if (filters < L) {
        kPartialTiles[own - 1](window0, cols.taps, kh, W, bias, filters, 0, out_w, first, y,
                               argmax);
        break;
      }
      kWhole[own - 1](window0, cols.taps, kh, W, bias, filters, f, out_w, first + f, y, argmax);
      if (f + L >= filters) break;
    }
    ox += 2 * own;
    y += own * filters;
    argmax += own * filters;
  }
}

// Whether the pooling's windows are the 2x2 tiles of a convolution that
// Winograd's F(2x2, 3x3) computes with savings (WinogradSaves, on the part
// the pooling reads), even where 3x3 tiles would save more: the fused pass
// never stores the convolution's output. Windows that tile the output are
// assumed (FusesWithMaxPooling).
inline bool WinogradPools(const WindowShape& conv, Activation conv_act,
                          const WindowShape& pool) {
  return pool.kernel_h == 2 && pool.kernel_w == 2 &&
         WinogradSaves(conv, conv_act, {2 * pool.out_h, 2 * pool.out_w}, 2);
}

// A sample's pooled outputs y (`count` of them) after its windows: the
// convolution's ReLU (max and ReLU commute), then `activated` = act(y)
// when asked for, while the sample is in the cache.
inline void FinishPooledSample(Activation conv_act, Activation act, size_t count, float* y,
                               float* activated) {
  if (conv_act == Activation::kRelu) ApplyActivationInPlace(conv_act, y, count);
  if (activated) {
    std::copy(y, y + count, activated);
    ApplyActivationInPlace(act, activated, count);
  }
}

void Conv2DMaxPooling2DForward(const WindowShape& conv, size_t filters, const float* x,
                               const float* W, const float* b, Activation conv_act,
                               const WindowShape& pool, float* y, uint32_t* argmax,
                               Activation act, float* activated) {
  if (WinogradPools(conv, conv_act, pool)) {
    return Conv2DWinogradPooledForwardImpl(conv, filters, x, W, b, conv_act, pool.out_h,
                                           pool.out_w, y, argmax, act, activated);
  }
  const IndexedMatrix all = Im2ColMatrix(conv, x);
  const size_t pixels = conv.out_h * conv.out_w;
  const size_t pooled = pool.out_h * pool.out_w * filters;
  // The convolution's rows that the windows read: the image's first
  // pool.out_h * kernel_h rows (valid pooling drops the rest).
  const size_t rows = pool.out_h * pool.kernel_h * conv.out_w;
  const long batch = static_cast<long>(conv.batch);
  const bool unit_step = conv.channels == 1 && conv.stride_w == 1;
  const bool pooled_tiles = unit_step && (conv.kernel_w == 3 || conv.kernel_w == 5) &&
                            pool.kernel_h == 2 && pool.kernel_w == 2;
#pragma omp parallel for schedule(static) \
    if (UseTeam(conv.rows() * conv.patch() * filters >= kMinParallelWork))
  for (long n = 0; n < batch; ++n) {
    const IndexedMatrix cols{all.base, all.rows + static_cast<size_t>(n) * pixels, all.taps};
    const size_t out = static_cast<size_t>(n) * pooled;
    if (pooled_tiles) {
      const auto run = conv.kernel_w == 5 ? &SlidingPooledRowRun<5> : &SlidingPooledRowRun<3>;
      for (size_t py = 0; py < pool.out_h; ++py) {
        const size_t at = out + py * pool.out_w * filters;
        run(cols, 2 * py, 2 * pool.out_w, conv.kernel_h, W, b, filters, conv.out_w, y + at,
            argmax + at);
      }
      FinishPooledSample(conv_act, act, pooled, y + out, activated ? activated + out : nullptr);
      continue;
    }
    static thread_local PackBuffer sample_buffer;
    float* sample = sample_buffer.Get(rows * filters);
    const ForwardEpilogue epilogue{sample, nullptr, b, Activation::kLinear, filters};
    if (unit_step) {
      // Each output row's windows start one float apart.
      for (size_t oy = 0; oy < rows / conv.out_w; ++oy) {
        const size_t row0 = oy * conv.out_w;
        const float* window0 = cols.base + cols.rows[row0];
        if (conv.kernel_w == 5) {
          SlidingRowRun<5>(window0, cols.taps, conv.kernel_h, W, filters, epilogue, row0,
                           conv.out_w);
        } else if (conv.kernel_w == 3) {
          SlidingRowRun<3>(window0, cols.taps, conv.kernel_h, W, filters, epilogue, row0,
                           conv.out_w);
        } else {
          UnitStepRow(window0, cols.taps, conv.patch(), W, filters, epilogue, row0, conv.out_w);
        }
      }
    } else {
      GemmShare(1, 0, rows, filters, conv.patch(), nullptr, conv.patch(), 1, W, filters,
                /*b_transposed=*/false, epilogue, nullptr, &cols);
    }
    for (size_t py = 0; py < pool.out_h; ++py) {
      for (size_t px = 0; px < pool.out_w; ++px) {
        const size_t at = out + (py * pool.out_w + px) * filters;
        PoolPixel(pool, WindowOf(pool, py, px), sample, y + at, argmax + at);
      }
    }
    FinishPooledSample(conv_act, act, pooled, y + out, activated ? activated + out : nullptr);
  }
}

void Conv2DMaxPooling2DBackwardWeights(const WindowShape& conv, size_t filters, const float* x,
                                       const WindowShape& pool, const float* dy,
                                       const uint32_t* argmax, const float* relu_y, float* dW,
                                       float* db) {
  // Its two halves, as Conv2DBackwardWeights sums them (batch_halves.h).
  const size_t image = conv.height * conv.width * conv.channels;
  const size_t pooled = pool.out_h * pool.out_w * filters;
  const bool team = conv.rows() * conv.patch() * filters >= kMinParallelWork;
  SumBatchHalves(conv, conv.patch() * filters, filters, team, dW, db,
                 [&](const WindowShape& part, size_t first, float* part_dW, float* part_db) {
                   const size_t at = first * pooled;
                   const PooledGradientRows rows{dy + at,        argmax + at,
                                                 relu_y ? relu_y + at : nullptr,
                                                 part.batch,     conv.out_h,
                                                 conv.out_w,     filters,
                                                 pool.kernel_h,  pool.kernel_w,
                                                 pool.out_h,     pool.out_w};
                   DirectBackwardWeights(part, filters, Im2ColMatrix(part, x + first * image),
                                         rows, part_dW, part_db);
                 });
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mb {

HWY_EXPORT(Conv2DMaxPooling2DForward);

namespace {

// Pooling windows that tile the convolution's output from its top left
// corner: none overlaps another or reaches past the image.
bool PoolingTiles(const WindowShape& conv, const WindowShape& pool) {
  return pool.height == conv.out_h && pool.width == conv.out_w && pool.pad_top == 0 &&
         pool.pad_left == 0 && pool.stride_h == pool.kernel_h && pool.stride_w == pool.kernel_w &&
         pool.out_h > 0 && pool.out_w > 0 && pool.out_h * pool.kernel_h <= pool.height &&
         pool.out_w * pool.kernel_w <= pool.width;
}

}  // namespace

HWY_EXPORT(Conv2DMaxPooling2DBackwardWeights);

bool FusesWithMaxPooling(const WindowShape& conv, Activation act, const WindowShape& pool) {
  return (act == Activation::kLinear || act == Activation::kRelu) && PoolingTiles(conv, pool);
}

bool FoldsMaxPoolingBackward(const WindowShape& conv, Activation act, const WindowShape& pool) {
  return (act == Activation::kLinear || act == Activation::kRelu) && PoolingTiles(conv, pool) &&
         conv.patch() <= kDirectWeightsMaxPatch;
}

void Conv2DMaxPooling2DBackwardWeights(const WindowShape& conv, size_t filters, const float* x,
                                       const WindowShape& pool, const float* dy,
                                       const uint32_t* argmax, const float* relu_y, float* dW,
                                       float* db) {
  HWY_DYNAMIC_DISPATCH(Conv2DMaxPooling2DBackwardWeights)(conv, filters, x, pool, dy, argmax,
                                                          relu_y, dW, db);
}

void Conv2DMaxPooling2DForward(const WindowShape& conv, size_t filters, const float* x,
                               const float* W, const float* b, Activation conv_act,
                               const WindowShape& pool, float* y, uint32_t* argmax,
                               Activation act, float* activated) {
  HWY_DYNAMIC_DISPATCH(Conv2DMaxPooling2DForward)(conv, filters, x, W, b, conv_act, pool, y,
                                                  argmax, act, activated);
}

}  // namespace mb
#endif  // HWY_ONCE
