// The weight gradient of a convolution with a small patch (one to a few
// input channels: a first layer), lanes along the filters, and the two
// places its output gradient dY comes from: stored rows (conv2d.cc), or the
// pooled gradient of a max pooling after the convolution, spread on the fly
// (conv2d_max_pooling2d.cc: the speedrun's first layer then never writes
// and reads back the 9.4 MB of dY per batch of 256 that the pooling's
// backward pass spreads). Both give each dY row the same bits, so the
// sums are the same. Included by those files, once per target.

// Per-target include guard (Highway's idiom for -inl.h files).
#if defined(MB_KERNELS_DIRECT_WEIGHTS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_DIRECT_WEIGHTS_INL_H_
#undef MB_KERNELS_DIRECT_WEIGHTS_INL_H_
#else
#define MB_KERNELS_DIRECT_WEIGHTS_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <omp.h>

#include "common/team.h"
#include "hwy/highway.h"
#include "kernels/gemm-inl.h"
#include "kernels/im2col_index.h"
#include "kernels/masked_segment-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The weight gradient's taps per pass of DirectBackwardWeights: their
// accumulators, dY's vector, the bias sum and a broadcast fit the register
// file (AVX-512's 32: a whole 5x5 kernel in one pass over dY, which at
// batch 256 is 14 MB and comes from memory each pass; AVX2's 16).
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kDirectTaps = 25;
#else
constexpr size_t kDirectTaps = 10;
#endif
constexpr size_t kHalfTaps = (kDirectTaps + 1) / 2;

// dY's rows as stored: row r of [rows, filters], out_w rows (pixels) to an
// output row.
//
// Each source walks its rows in order, output row by output row:
// begin(r0) at the start of the output row whose first pixel is row r0,
// pixel(r, the vector of filters [f_load, f_load + L) of row r) for each
// of its pixels, end() after them.
struct StoredGradientRows {
  const float* dY;
  size_t filters;
  size_t rows, out_w;

  template <class M, class Begin, class Pixel, class End>
  HWY_INLINE void ForEachRow(size_t f_load, bool partial, M mask, const Begin& begin,
                             const Pixel& pixel, const End& end) const {
    const DF d;
    for (size_t r0 = 0; r0 < rows; r0 += out_w) {
      begin(r0);
      for (size_t r = r0; r < r0 + out_w; ++r) {
        pixel(r, LoadSegment(d, dY + r * filters + f_load, partial, mask));
      }
      end();
    }
  }
};

// dY's rows as a max pooling with disjoint windows (stride = pool size, no
// padding) after the convolution spreads its own gradient in its backward
// pass (max_pooling2d.cc's UnpoolPixel), bit for bit: each element gets
// 0 + the window's gradient if it is the window's argmax, else 0 + 0, and
// the rows no window covers 0. With `relu_y` (the pooled outputs), also
// the derivative of a ReLU on the convolution's output: its argmax element
// is positive exactly when the pooled output is, and every other element's
// gradient is zero anyway (ActivationGradientInPlace after the pooling's
// backward pass gives the same bits).
struct PooledGradientRows {
  const float* dy;          // [batch, pooled_h, pooled_w, filters]
  const uint32_t* argmax;   // the same: positions in the sample's image
  const float* relu_y;      // the same, or null
  size_t batch, out_h, out_w, filters;  // the convolution's output
  size_t pool_h, pool_w, pooled_h, pooled_w;

  template <class M, class Begin, class Pixel, class End>
  HWY_INLINE void ForEachRow(size_t f_load, bool partial, M mask, const Begin& begin,
                             const Pixel& body, const End& end) const {
    const DF d;
    const hn::RebindToUnsigned<DF> du;
    const auto lanes = hn::Iota(du, 0);
    const VF zero = hn::Zero(d);
    const size_t C = filters, covered_w = pooled_w * pool_w;
    size_t r = 0;
    for (size_t n = 0; n < batch; ++n) {
      const size_t sample = n * pooled_h * pooled_w;
      for (size_t oy = 0; oy < out_h; ++oy) {
        begin(r);
        const size_t py = oy / pool_h;
        for (size_t px = 0; py < pooled_h && px < pooled_w; ++px) {
          const size_t at = (sample + py * pooled_w + px) * C + f_load;
          // 0 + g, as UnpoolPixel adds (a -0 becomes +0); the other
          // elements' 0 + 0 is the +0 that IfThenElseZero gives.
          VF g = hn::Add(zero, LoadSegment(d, dy + at, partial, mask));
          if (relu_y) {
            g = hn::IfThenElseZero(hn::Gt(LoadSegment(d, relu_y + at, partial, mask), zero), g);
          }
          // Each lane's argmax relative to its element of this row's first
          // pixel in the window: the pixel kx along is chosen where it is
          // kx * C.
          const auto first = static_cast<uint32_t>((oy * out_w + px * pool_w) * C + f_load);
          const auto where = hn::Sub(
              hn::BitCast(du, LoadSegment(d, reinterpret_cast<const float*>(argmax + at), partial,
                                          mask)),
              hn::Add(lanes, hn::Set(du, first)));
          for (size_t kx = 0; kx < pool_w; ++kx) {
            const auto chosen = hn::Eq(where, hn::Set(du, static_cast<uint32_t>(kx * C)));
            body(r++, hn::IfThenElseZero(hn::RebindMask(d, chosen), g));
          }
        }
        for (size_t ox = py < pooled_h ? covered_w : 0; ox < out_w; ++ox) body(r++, zero);
        end();
      }
    }
  }
};

// Stores the lanes of v from filter f0 on to to[f0 ...]: all of them but in
// a last vector loaded from f_load < f0, which overlaps the one before.
template <class M>
HWY_INLINE void StoreFilterLanes(VF v, float* to, size_t f_load, size_t f0, size_t filters,
                                 bool partial, M mask) {
  const DF d;
  if (f0 == f_load) return StoreSegment(d, v, to + f0, partial, mask);
  HWY_ALIGN float lanes[hn::MaxLanes(d)];
  hn::Store(v, d, lanes);
  std::copy(lanes + (f0 - f_load), lanes + (filters - f_load), to + f0);
}

// One item of DirectBackwardWeights: taps [k0, k0 + kTaps) (those past P
// repeat the last, and are not stored) of the filters in the vector
// at f_load, stored from filter f0 (f0 > f_load for the last vector when L
// does not divide the filters: it then overlaps the one before, whose lanes
// it computes again but does not store; AMD's Zen 5 ran the masked load that
// read only the filters past the last whole vector five times slower, its
// cache-line splits taking a slow path). kPartial only when there are fewer
// filters than lanes. Out of line, and without branches around the
// multiply-adds, so that its accumulators stay in registers (with a branch
// GCC stored them to the stack every row).
template <bool kPartial, size_t kTaps, class Rows>
HWY_NOINLINE void DirectWeightsItem(size_t P, size_t filters, const IndexedMatrix& cols,
                                    const Rows& dy_rows, size_t k0, size_t f_load, size_t f0,
                                    float* HWY_RESTRICT dW, float* HWY_RESTRICT db) {
  const DF d;
  const size_t taps = std::min(kTaps, P - k0);
  constexpr bool partial = kPartial;
  const auto mask = hn::FirstN(d, filters - f_load);
  size_t tap[kTaps];
  VF acc[kTaps];
#pragma GCC unroll 32
  for (size_t j = 0; j < kTaps; ++j) {
    tap[j] = cols.taps[k0 + std::min(j, taps - 1)];
    acc[j] = hn::Zero(d);
  }
  VF sum = hn::Zero(d);
  const float* HWY_RESTRICT base = cols.base;
  const size_t* HWY_RESTRICT rows = cols.rows;
  dy_rows.ForEachRow(
      f_load, partial, mask, [](size_t) {},
      [&](size_t r, VF dy) {
        const float* HWY_RESTRICT window = base + rows[r];
        sum = hn::Add(sum, dy);
#pragma GCC unroll 32
        for (size_t j = 0; j < kTaps; ++j) {
          acc[j] = hn::MulAdd(hn::Set(d, window[tap[j]]), dy, acc[j]);
        }
      },
      [] {});
  for (size_t j = 0; j < taps; ++j) {
    StoreFilterLanes(acc[j], dW + (k0 + j) * filters, f_load, f0, filters, partial, mask);
  }
  if (k0 == 0) StoreFilterLanes(sum, db, f_load, f0, filters, partial, mask);
}

// DirectWeightsItem for one input channel, stride 1 and a kKw-wide kernel,
// taps [kTap0, kTap0 + kTaps), a whole vector of filters, with each input
// pixel broadcast once per kernel row: the pixel ix of an output row's
// window rows serves the dY of the up to kKw pixels ix - kx, kept in
// registers as they pass (DirectWeightsItem broadcasts a pixel per
// multiply-add, and the loads limited it to half the FMA rate). Each tap
// still sums its terms pixel by pixel, ascending; the kKw - 1 steps past
// an output row's last pixel, and the first ones of a row, also add
// products with the +0 that enters for the pixels outside it, which change
// no sum of finite values (a sum from +0 is never -0). Needs kTaps + kKw + 2
// vector registers (the first item's bias sum included).
template <size_t kKw, size_t kTap0, size_t kTaps, class Rows>
HWY_NOINLINE void SlidingWeightsItem(const IndexedMatrix& cols, const Rows& dy_rows,
                                     size_t filters, size_t f_load, size_t f0,
                                     float* HWY_RESTRICT dW, float* HWY_RESTRICT db) {
  const DF d;
  const auto mask = hn::FirstN(d, filters - f_load);
  constexpr size_t kKy0 = kTap0 / kKw, kKy1 = (kTap0 + kTaps - 1) / kKw + 1;
  VF acc[kTaps], recent[kKw];  // recent[k]: dY of the pixel k steps back
#pragma GCC unroll 32
  for (size_t j = 0; j < kTaps; ++j) acc[j] = hn::Zero(d);
#pragma GCC unroll 8
  for (size_t k = 0; k < kKw; ++k) recent[k] = hn::Zero(d);
  VF sum = hn::Zero(d);
  const float* HWY_RESTRICT in[kKy1 - kKy0];  // the window rows' pixels
  size_t ix = 0;
  const auto step = [&](VF dy) {
#pragma GCC unroll 8
    for (size_t k = kKw - 1; k > 0; --k) recent[k] = recent[k - 1];
    recent[0] = dy;
#pragma GCC unroll 8
    for (size_t ky = kKy0; ky < kKy1; ++ky) {
      const VF x = hn::Set(d, in[ky - kKy0][ix]);
#pragma GCC unroll 8
      for (size_t kx = 0; kx < kKw; ++kx) {
        constexpr size_t kEnd = kTap0 + kTaps;
        const size_t tap = ky * kKw + kx;
        if (tap >= kTap0 && tap < kEnd) {
          acc[tap - kTap0] = hn::MulAdd(x, recent[kx], acc[tap - kTap0]);
        }
      }
    }
    ++ix;
  };
  dy_rows.ForEachRow(
      f_load, false, mask,
      [&](size_t r0) {
        ix = 0;
#pragma GCC unroll 8
        for (size_t ky = kKy0; ky < kKy1; ++ky) {
          in[ky - kKy0] = cols.base + cols.rows[r0] + cols.taps[ky * kKw];
        }
      },
      [&](size_t, VF dy) {
        sum = hn::Add(sum, dy);
        step(dy);
      },
      [&] {
#pragma GCC unroll 8
        for (size_t k = 1; k < kKw; ++k) step(hn::Zero(d));
      });
#pragma GCC unroll 32
  for (size_t j = 0; j < kTaps; ++j) {
    StoreFilterLanes(acc[j], dW + (kTap0 + j) * filters, f_load, f0, filters, false, mask);
  }
  if (kTap0 == 0) StoreFilterLanes(sum, db, f_load, f0, filters, false, mask);
}

// SlidingWeightsItem's sums for dY from PooledGradientRows with 2x2
// windows, with half its multiply-adds. In an output row, each lane's
// window has its argmax at one of its two pixels there or in the other
// row, so of a window's two pixels at most one carries that lane's
// gradient: one multiply-add per tap and window takes the input pixel under
// the chosen one (a blend), where SlidingWeightsItem ran one per pixel and
// added the other's +0 product. Adding +0 changes no sum that starts from
// +0 (it is never -0), and the remaining products come in the same order,
// output row by output row, pixel by pixel: the same bits. The rows and
// columns no window covers carry no gradient and are skipped.
template <size_t kKw, size_t kTap0, size_t kTaps>
HWY_NOINLINE void PooledWindowWeightsItem(const IndexedMatrix& cols,
                                          const PooledGradientRows& dy_rows, size_t filters,
                                          size_t f_load, size_t f0, float* HWY_RESTRICT dW,
                                          float* HWY_RESTRICT db) {
  const DF d;
  const hn::RebindToUnsigned<DF> du;
  const auto mask = hn::FirstN(d, filters - f_load);
  constexpr size_t kKy0 = kTap0 / kKw, kKy1 = (kTap0 + kTaps - 1) / kKw + 1;
  VF acc[kTaps];
#pragma GCC unroll 32
  for (size_t j = 0; j < kTaps; ++j) acc[j] = hn::Zero(d);
  VF sum = hn::Zero(d);
  const VF zero = hn::Zero(d);
  const size_t C = filters, out_w = dy_rows.out_w, pooled_w = dy_rows.pooled_w;
  const auto lanes = hn::Iota(du, 0);
  const auto next = hn::Set(du, static_cast<uint32_t>(C));
  const auto window_step = hn::Set(du, static_cast<uint32_t>(2 * C));
  for (size_t n = 0; n < dy_rows.batch; ++n) {
    const size_t sample = n * dy_rows.pooled_h * pooled_w;
    for (size_t oy = 0; oy < 2 * dy_rows.pooled_h; ++oy) {
      const size_t r0 = (n * dy_rows.out_h + oy) * out_w;
      const float* HWY_RESTRICT in[kKy1 - kKy0];  // the window rows' pixels
#pragma GCC unroll 8
      for (size_t ky = kKy0; ky < kKy1; ++ky) {
        in[ky - kKy0] = cols.base + cols.rows[r0] + cols.taps[ky * kKw];
      }
      const size_t at0 = (sample + oy / 2 * pooled_w) * C + f_load;
      // Each lane's argmax minus its element of the window's first pixel
      // in this row: 0 or C when the argmax is in this row.
      auto first = hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(oy * out_w * C + f_load)));
      for (size_t px = 0; px < pooled_w; ++px, first = hn::Add(first, window_step)) {
        const size_t at = at0 + px * C;
        VF g = hn::Add(zero, LoadSegment(d, dy_rows.dy + at, false, mask));
        if (dy_rows.relu_y) {
          g = hn::IfThenElseZero(
              hn::Gt(LoadSegment(d, dy_rows.relu_y + at, false, mask), zero), g);
        }
        const auto where = hn::Sub(
            hn::BitCast(du, LoadSegment(d, reinterpret_cast<const float*>(dy_rows.argmax + at),
                                        false, mask)),
            first);
        const auto left = hn::RebindMask(d, hn::Eq(where, hn::Zero(du)));
        const auto right = hn::RebindMask(d, hn::Eq(where, next));
        g = hn::IfThenElseZero(hn::Or(left, right), g);
        if constexpr (kTap0 == 0) sum = hn::Add(sum, g);
        const size_t x0 = 2 * px;
#pragma GCC unroll 8
        for (size_t ky = kKy0; ky < kKy1; ++ky) {
          const float* HWY_RESTRICT row = in[ky - kKy0] + x0;
#pragma GCC unroll 8
          for (size_t kx = 0; kx < kKw; ++kx) {
            const size_t tap = ky * kKw + kx;
            if (tap >= kTap0 && tap < kTap0 + kTaps) {
              const VF x = hn::IfThenElse(right, hn::Set(d, row[kx + 1]), hn::Set(d, row[kx]));
              acc[tap - kTap0] = hn::MulAdd(x, g, acc[tap - kTap0]);
            }
          }
        }
      }
    }
  }
#pragma GCC unroll 32
  for (size_t j = 0; j < kTaps; ++j) {
    StoreFilterLanes(acc[j], dW + (kTap0 + j) * filters, f_load, f0, filters, false, mask);
  }
  if (kTap0 == 0) StoreFilterLanes(sum, db, f_load, f0, filters, false, mask);
}

// An item of SlidingBackwardWeights: taps of a vector of filters.
template <class Rows>
using WeightsItem = void (*)(const IndexedMatrix&, const Rows&, size_t, size_t, size_t, float*,
                             float*);

// Whether PooledWindowWeightsItem takes these rows: a pooling's, 2x2.
template <class Rows>
bool PooledWindows(const Rows& rows) {
  if constexpr (std::is_same_v<Rows, PooledGradientRows>) {
    return rows.pool_h == 2 && rows.pool_w == 2;
  }
  return false;
}

// The item for taps [kTap0, kTap0 + kTaps) of a kKw-wide kernel: by
// pooled windows when `windows`, else sliding.
template <size_t kKw, size_t kTap0, size_t kTaps, class Rows>
WeightsItem<Rows> ItemFor(const Rows&, bool windows) {
  if constexpr (std::is_same_v<Rows, PooledGradientRows>) {
    if (windows) return &PooledWindowWeightsItem<kKw, kTap0, kTaps>;
  }
  return &SlidingWeightsItem<kKw, kTap0, kTaps, Rows>;
}

// The weight gradient by SlidingWeightsItem when it applies (one channel,
// stride 1, a 3x3 or 5x5 kernel, at least a vector of filters): items of a
// vector of filters and all taps of a 3x3 kernel (half of them when that
// leaves a thread idle), or a share of a 5x5 kernel's that fits the
// register file: halves with AVX-512's 32 registers, thirds with 16.
// Returns false when it does not apply.
template <class Rows>
bool SlidingBackwardWeights(const WindowShape& s, size_t filters, const IndexedMatrix& cols,
                            const Rows& dy_rows, float* dW, float* db, bool team,
                            size_t threads) {
  const size_t L = hn::Lanes(DF());
  if (s.channels != 1 || s.stride_w != 1 || filters < L || s.kernel_h != s.kernel_w ||
      (s.kernel_w != 3 && s.kernel_w != 5)) {
    return false;
  }
  const size_t vecs = (filters + L - 1) / L;
  const bool windows = PooledWindows(dy_rows);
#if HWY_TARGET <= HWY_AVX3
  WeightsItem<Rows> parts[3] = {ItemFor<5, 0, 13>(dy_rows, windows),
                                ItemFor<5, 13, 12>(dy_rows, windows)};
  size_t count = 2;
#else
  WeightsItem<Rows> parts[3] = {ItemFor<5, 0, 8>(dy_rows, windows),
                                ItemFor<5, 8, 9>(dy_rows, windows),
                                ItemFor<5, 17, 8>(dy_rows, windows)};
  size_t count = 3;
#endif
  if (s.kernel_w == 3 && vecs >= threads) {
    parts[0] = ItemFor<3, 0, 9>(dy_rows, windows);
    count = 1;
  } else if (s.kernel_w == 3) {
    parts[0] = ItemFor<3, 0, 5>(dy_rows, windows);
    parts[1] = ItemFor<3, 5, 4>(dy_rows, windows);
    count = 2;
  }
  const long items = static_cast<long>(vecs * count);
#pragma omp parallel for schedule(static) if (team)
  for (long item = 0; item < items; ++item) {
    const size_t f0 = static_cast<size_t>(item) % vecs * L;
    parts[static_cast<size_t>(item) / vecs](cols, dy_rows, filters, std::min(f0, filters - L),
                                            f0, dW, db);
  }
  return true;
}

// dW = cols^T dY for a small patch (a convolution of one to a few
// channels, the first layer's), with lanes along the filters: each item, a
// vector of filters and up to kDirectTaps taps, runs once over the rows,
// with one accumulator per tap, and the threads split the items. When that
// leaves a thread idle (one vector of 16 filters and a 5x5 kernel on
// AVX-512: one item), items take half as many taps, each thread then
// reading all of dY. The taps' grouping changes no sum. (Gemm
// split the patch, 9 for a 3x3 kernel on one channel, into row blocks of
// kTileRows: one block and a second of one row, each thread packing all
// of dY.) The sums are Gemm's: from row 0 up, one fused multiply-add per
// row, and one add per row for the bias gradient.
template <class Rows>
void DirectBackwardWeights(const WindowShape& s, size_t filters, const IndexedMatrix& cols,
                           const Rows& dy_rows, float* dW, float* db) {
  const size_t L = hn::Lanes(DF()), M = s.rows(), P = s.patch();
  const size_t vecs = (filters + L - 1) / L;
  const bool team = UseTeam(M * P * filters >= kMinParallelWork);
  const size_t threads = team ? static_cast<size_t>(omp_get_max_threads()) : 1;
  if (SlidingBackwardWeights(s, filters, cols, dy_rows, dW, db, team, threads)) return;
  const bool halve = vecs * ((P + kDirectTaps - 1) / kDirectTaps) < threads && P > kHalfTaps;
  const size_t group = halve ? kHalfTaps : kDirectTaps;
  const long items = static_cast<long>(vecs * ((P + group - 1) / group));
  // The instantiation for these filters and taps, chosen once.
  const auto run_item = filters < L ? (halve ? &DirectWeightsItem<true, kHalfTaps, Rows>
                                             : &DirectWeightsItem<true, kDirectTaps, Rows>)
                                    : (halve ? &DirectWeightsItem<false, kHalfTaps, Rows>
                                             : &DirectWeightsItem<false, kDirectTaps, Rows>);
#pragma omp parallel for schedule(static) if (team)
  for (long item = 0; item < items; ++item) {
    const size_t k0 = static_cast<size_t>(item) / vecs * group;
    const size_t f0 = static_cast<size_t>(item) % vecs * L;
    const size_t f_load = filters < L ? 0 : std::min(f0, filters - L);
    const size_t f_store = filters < L ? 0 : f0;
    run_item(P, filters, cols, dy_rows, k0, f_load, f_store, dW, db);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_DIRECT_WEIGHTS_INL_H_
