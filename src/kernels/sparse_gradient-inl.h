// A convolution's backward products when its output gradient dY is mostly
// zeros. Max pooling passes each window's gradient to one pixel, and a ReLU
// zeroes about half of what is left: on the speedrun's second convolution
// 8.5% of dY is non-zero, on the book convnet's first two 12%. A term with
// dY = 0 adds nothing, so these kernels walk only the non-zeros, in the
// order in which the dense kernels (gemm-inl.h) sum all the terms: each
// output element is one fused multiply-add chain from zero, ascending over
// the filters (input gradient) or the rows (weight gradient). Their results
// equal the dense kernels' bitwise, up to the sign of a zero sum (as for
// sparse_gemm.h), so that which kernel runs is a matter of speed alone.
// (An infinite or NaN weight or input differs: the dense kernels make NaN
// of its product with a zero dY. A run that has one has diverged already.)
// Included by conv2d.cc, once per target.

// Per-target include guard (Highway's idiom for -inl.h files).
#if defined(MB_KERNELS_SPARSE_GRADIENT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_SPARSE_GRADIENT_INL_H_
#undef MB_KERNELS_SPARSE_GRADIENT_INL_H_
#else
#define MB_KERNELS_SPARSE_GRADIENT_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "hwy/highway.h"
#include "kernels/im2col_index.h"
#include "kernels/masked_segment-inl.h"
#include "kernels/pack-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Accumulators of a row segment of the sparse product: with the broadcast
// and a loaded vector they fit the register file (32 vectors with AVX-512,
// 16 otherwise). Every loop over a segment's vectors is unrolled whole
// (`#pragma GCC unroll 32`): one left partly rolled keeps its accumulators
// in memory, which made 24 twice as slow as 16 before.
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kSparseVecs = 24;
#else
constexpr size_t kSparseVecs = 12;
#endif

// Vectors per segment of a row of `vecs` vectors: as few segments as
// kSparseVecs allows, of equal length. Each segment walks the non-zeros
// once, so fewer segments walk them fewer times (the book convnet's 18
// vectors, 288 = 9 taps x 32 channels, in one segment instead of 9 + 9:
// 8-12% faster on AVX-512, 36 on AVX2 as 12 + 12 + 12 instead of five of
// 8: 5-20%); but each accumulator takes one fused multiply-add per
// non-zero, a chain whose latency (4 cycles) a short segment cannot hide,
// so the segments are of equal length (18 as 16 + 2 spent as long on the 2
// as on the 16).
inline size_t SparseSegmentVecs(size_t vecs) {
  const size_t segments = (vecs + kSparseVecs - 1) / kSparseVecs;
  return segments == 0 ? 0 : (vecs + segments - 1) / segments;
}

// Where a segment's vectors lie in a window, for its NV vectors t: a list
// of offsets, one per vector, for any shape. Held in general registers
// while a segment walks its non-zeros; at 18 vectors GCC spills them, and
// every multiply-add then reloads its offset and adds it to the window's.
template <size_t NV>
struct ListedVectors {
  static constexpr size_t kVectors = NV;
  size_t at[NV];
  ListedVectors(const uint32_t* offsets, size_t v0) {
#pragma GCC unroll 32
    for (size_t t = 0; t < NV; ++t) at[t] = offsets[v0 + t];
  }
  // visit(t, where vector t of the window at `window` starts), t < NV.
  template <class Visit>
  HWY_INLINE void ForEach(const float* window, const Visit& visit) const {
#pragma GCC unroll 32
    for (size_t t = 0; t < NV; ++t) visit(t, window + at[t]);
  }
};

// The same for KR runs of R adjacent vectors (a kernel row's taps are
// adjacent in the image, so a 3x3 window of 32 channels is 3 runs of 6
// vectors with 16 lanes): KR offsets, and vector t at a constant distance
// from its run's start once the loops over t unroll. Same loads, same sums.
template <size_t R, size_t KR>
struct RunVectors {
  static constexpr size_t kVectors = R * KR;
  static constexpr size_t kLanes = hn::MaxLanes(hn::ScalableTag<float>());
  size_t run[KR];
  RunVectors(const uint32_t* offsets, size_t v0) {
#pragma GCC unroll 32
    for (size_t i = 0; i < KR; ++i) run[i] = offsets[v0 + i * R];
  }
  template <class Visit>
  HWY_INLINE void ForEach(const float* window, const Visit& visit) const {
#pragma GCC unroll 32
    for (size_t i = 0; i < KR; ++i) {
      const float* start = window + run[i];
      // Opaque to the optimiser: otherwise GCC hoists all R * KR sums
      // run[i] + j * kLanes out of the loop over the non-zeros as R * KR
      // offsets, spilled, as with ListedVectors.
      asm("" : "+r"(start));
#pragma GCC unroll 32
      for (size_t j = 0; j < R; ++j) visit(i * R + j, start + j * kLanes);
    }
  }
};

// A window's vectors (their offsets from its start) as runs of R adjacent
// vectors, KR runs a segment within kSparseVecs, as few segments as that
// allows (the last may have fewer runs: the speedrun's 3 runs of 6 on AVX2
// as 12 + 6, which beat 9 + 9 listed offsets by a fifth); R = 0 when they
// are not, or R is not one of the lengths with kernels of their own (3, 6
// and 12: a 3x3 kernel over 8, 16, 32 or 64 channels), which then take
// ListedVectors.
struct WindowRuns {
  size_t R = 0, KR = 0;
};
inline WindowRuns RunsOf(const uint32_t* offsets, size_t vecs) {
  const size_t L = hn::Lanes(hn::ScalableTag<float>());
  size_t R = 1;
  while (R < vecs && offsets[R] == offsets[0] + R * L) ++R;
  if (R != 3 && R != 6 && R != 12) return {};
  if (R > kSparseVecs || vecs % R != 0) return {};
  for (size_t v = 0; v < vecs; ++v) {
    if (offsets[v] != offsets[v - v % R] + v % R * L) return {};
  }
  const size_t runs = vecs / R, most = kSparseVecs / R;
  const size_t segments = (runs + most - 1) / most;
  return {R, (runs + segments - 1) / segments};
}

// A thread's buffer of positions, grown to the longest need and kept.
inline uint32_t* PositionBuffer(size_t n) {
  static thread_local std::vector<uint32_t> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// Bit i is set when row[i] is non-zero (or NaN, so that it spreads as in
// the dense product), for i < n <= 64.
HWY_INLINE uint64_t NonzeroBits(const float* HWY_RESTRICT row, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  uint64_t word = 0;
  size_t i = 0;
  for (; i + L <= n; i += L) {
    uint8_t bytes[8] = {};  // one bit per lane
    hn::StoreMaskBits(d, hn::Ne(hn::LoadU(d, row + i), hn::Zero(d)), bytes);
    uint64_t bits;
    std::memcpy(&bits, bytes, sizeof(bits));
    word |= bits << i;
  }
  for (; i < n; ++i) word |= static_cast<uint64_t>(row[i] != 0.0f) << i;
  return word;
}

// The share of non-zeros in a rows x cols matrix, from every 16th row: a
// pass over all of dY would cost a tenth of the sparse product it chooses.
inline double SampledDensity(const float* m, size_t rows, size_t cols) {
  constexpr size_t kRowStep = 16;
  size_t nonzero = 0, seen = 0;
  for (size_t r = 0; r < rows; r += kRowStep) {
    const float* row = m + r * cols;
    for (size_t c = 0; c < cols; ++c) nonzero += row[c] != 0.0f;
    seen += cols;
  }
  return seen == 0 ? 1.0 : static_cast<double>(nonzero) / static_cast<double>(seen);
}

// Vectors [n0, n0 + NV * L) of one row of C = A B, from A's row a (K
// long) and the bits of its non-zeros (NonzeroBits of each 64 of a): Gemm's
// sums for its columns with A's zeros skipped, into acc.
template <size_t NV, class V>
HWY_INLINE void SparseRowSums(const float* HWY_RESTRICT a, const uint64_t* HWY_RESTRICT words,
                              size_t K, const float* HWY_RESTRICT B, size_t ldb, size_t n0,
                              V* acc) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
#pragma GCC unroll 32
  for (size_t j = 0; j < NV; ++j) acc[j] = hn::Zero(d);
  for (size_t k0 = 0; k0 < K; k0 += 64) {
    for (uint64_t bits = words[k0 / 64]; bits != 0; bits &= bits - 1) {
      const size_t k = k0 + static_cast<size_t>(__builtin_ctzll(bits));
      const auto g = hn::Set(d, a[k]);
      const float* HWY_RESTRICT b = B + k * ldb + n0;
#pragma GCC unroll 32
      for (size_t j = 0; j < NV; ++j) acc[j] = hn::MulAdd(g, hn::LoadU(d, b + j * L), acc[j]);
    }
  }
}

// Vectors [v0, v0 + NV) of one output pixel's dcols row (a: its dY, K =
// filters long, with the bits of its non-zeros; B = W^T, ldb = patch),
// added to the input gradient at `window`, vector t's lanes at window +
// offsets[v0 + t].
template <size_t NV>
HWY_INLINE void SparseScatterSegment(const float* HWY_RESTRICT a,
                                     const uint64_t* HWY_RESTRICT words, size_t K,
                                     const float* HWY_RESTRICT B, size_t ldb, size_t v0,
                                     const uint32_t* HWY_RESTRICT offsets,
                                     float* HWY_RESTRICT window) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  hn::Vec<decltype(d)> acc[NV];
  SparseRowSums<NV>(a, words, K, B, ldb, v0 * L, acc);
#pragma GCC unroll 32
  for (size_t t = 0; t < NV; ++t) {
    float* HWY_RESTRICT to = window + offsets[v0 + t];
    hn::StoreU(hn::Add(hn::LoadU(d, to), acc[t]), d, to);
  }
}

template <size_t NV>
HWY_INLINE void SparseScatterSegmentOf(size_t nv, const float* a, const uint64_t* words,
                                       size_t K, const float* B, size_t ldb, size_t v0,
                                       const uint32_t* offsets, float* window) {
  if constexpr (NV > 1) {
    if (nv < NV) {
      return SparseScatterSegmentOf<NV - 1>(nv, a, words, K, B, ldb, v0, offsets, window);
    }
  }
  SparseScatterSegment<NV>(a, words, K, B, ldb, v0, offsets, window);
}

// Whether the sparse kernels can read a window of `channels` a vector at a
// time: a whole number of vectors per window, each within one tap.
inline bool SparseWindowsFit(size_t channels) {
  const size_t L = hn::Lanes(hn::ScalableTag<float>());
  return channels % L == 0;
}

// Samples [n0, n1) of dx = Col2Im(dY W^T) for a mostly-zero dY, with Wt =
// W^T (filters x patch) stored: each output pixel's row of dcols is summed
// in registers from its non-zero dY and added at once into the sample's dx,
// which stays in L1. The pixels go in ascending order, so each element of
// dx sums its terms in Col2Im's order from zero; a pixel whose dY is all
// zero, adding zeros, is skipped. (dcols through memory, 9 times the size
// of dx, took as long as the products.) Requires SparseWindowsFit(channels)
// and no padding.
HWY_NOINLINE void SparseInputGradient(const WindowShape& s, size_t filters,
                                      const float* HWY_RESTRICT dY, const float* HWY_RESTRICT Wt,
                                      size_t n0, size_t n1, float* HWY_RESTRICT dx) {
  const size_t L = hn::Lanes(hn::ScalableTag<float>());
  const size_t C = s.channels, patch = s.patch(), vecs = patch / L;
  const size_t segment = SparseSegmentVecs(vecs);
  const size_t image = s.height * s.width * C, pixels = s.out_h * s.out_w;
  // Where each vector of a window lies, from the window's first element.
  uint32_t* offsets = PositionBuffer(vecs);
  for (size_t v = 0; v < vecs; ++v) {
    const size_t tap = v * L / C, c = v * L % C;
    offsets[v] = static_cast<uint32_t>((tap / s.kernel_w * s.width + tap % s.kernel_w) * C + c);
  }
  // A pixel's non-zero dY, found once for all its segments.
  static thread_local std::vector<uint64_t> words;
  words.resize((filters + 63) / 64);
  for (size_t n = n0; n < n1; ++n) {
    float* HWY_RESTRICT x = dx + n * image;
    std::fill(x, x + image, 0.0f);
    const float* HWY_RESTRICT dy = dY + n * pixels * filters;
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = 0; ox < s.out_w; ++ox, dy += filters) {
        uint64_t any = 0;
        for (size_t k0 = 0; k0 < filters; k0 += 64) {
          words[k0 / 64] = NonzeroBits(dy + k0, std::min<size_t>(64, filters - k0));
          any |= words[k0 / 64];
        }
        if (any == 0) continue;
        float* window = x + (oy * s.stride_h * s.width + ox * s.stride_w) * C;
        for (size_t v = 0; v < vecs; v += segment) {
          SparseScatterSegmentOf<kSparseVecs>(std::min(segment, vecs - v), dy, words.data(),
                                              filters, Wt, patch, v, offsets, window);
        }
      }
    }
  }
}

// Rows per block of the sparse weight gradient, in words of 32: a block's
// rows of the image stay in L1 while each filter walks them.
constexpr size_t kWordRows = 32;
constexpr size_t kSparseRowBlock = 8 * kWordRows;

// Accumulators [v0, v0 + NV) (vectors of P) of one filter's row of the
// weight gradient, continued over the rows whose bits are set in `words`
// (bit i of word w: row r0 + w * kWordRows + i, `stride` apart): each adds
// its window's vectors (where.ForEach says where they lie) times its
// gradient, g[r * g_stride], in registers, and the gradient to *bias unless
// it is null. NV = Where::kVectors.
template <class Where>
HWY_INLINE void SparseColumnSegment(const uint32_t* HWY_RESTRICT words, size_t count,
                                    size_t stride, size_t r0, const IndexedMatrix& cols,
                                    const Where where, size_t v0, const float* HWY_RESTRICT g,
                                    size_t g_stride, float* HWY_RESTRICT acc,
                                    float* HWY_RESTRICT bias) {
  constexpr size_t NV = Where::kVectors;
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  hn::Vec<decltype(d)> sum[NV];
#pragma GCC unroll 32
  for (size_t t = 0; t < NV; ++t) sum[t] = hn::Load(d, acc + (v0 + t) * L);
  float bias_sum = bias ? *bias : 0.0f;
  for (size_t w = 0; w < count; ++w) {
    for (uint32_t bits = words[w * stride]; bits != 0; bits &= bits - 1) {
      const size_t r = r0 + w * kWordRows + static_cast<size_t>(__builtin_ctz(bits));
      const float gr = g[r * g_stride];
      const auto gv = hn::Set(d, gr);
      where.ForEach(cols.base + cols.rows[r], [&](size_t t, const float* HWY_RESTRICT at) {
        sum[t] = hn::MulAdd(hn::LoadU(d, at), gv, sum[t]);
      });
      bias_sum += gr;
    }
  }
#pragma GCC unroll 32
  for (size_t t = 0; t < NV; ++t) hn::Store(sum[t], d, acc + (v0 + t) * L);
  if (bias) *bias = bias_sum;
}

// SparseColumnSegment from v0 for Where<n>, n <= N: n listed vectors
// (ListedVectors) or n runs (RunsOfLength<R>::Vectors).
template <template <size_t> class Where, size_t N>
HWY_INLINE void SparseColumnSegmentOf(size_t n, const uint32_t* words, size_t count,
                                      size_t stride, size_t r0, const IndexedMatrix& cols,
                                      const uint32_t* vector_taps, size_t v0, const float* g,
                                      size_t g_stride, float* acc, float* bias) {
  if constexpr (N > 1) {
    if (n < N) {
      return SparseColumnSegmentOf<Where, N - 1>(n, words, count, stride, r0, cols, vector_taps,
                                                 v0, g, g_stride, acc, bias);
    }
  }
  SparseColumnSegment(words, count, stride, r0, cols, Where<N>(vector_taps, v0), v0, g,
                      g_stride, acc, bias);
}

// RunVectors of runs of R, by their count.
template <size_t R>
struct RunsOfLength {
  template <size_t KR>
  using Vectors = RunVectors<R, KR>;
};

// One segment of SparseBackwardWeightsItem: nv vectors from v0, as runs
// when `runs` has them.
HWY_INLINE void SparseColumnSegmentAny(const WindowRuns& runs, size_t nv, const uint32_t* words,
                                       size_t count, size_t stride, size_t r0,
                                       const IndexedMatrix& cols, const uint32_t* vector_taps,
                                       size_t v0, const float* g, size_t g_stride, float* acc,
                                       float* bias) {
  switch (runs.R) {
    case 3:
      return SparseColumnSegmentOf<RunsOfLength<3>::Vectors, kSparseVecs / 3>(
          nv / 3, words, count, stride, r0, cols, vector_taps, v0, g, g_stride, acc, bias);
    case 6:
      return SparseColumnSegmentOf<RunsOfLength<6>::Vectors, kSparseVecs / 6>(
          nv / 6, words, count, stride, r0, cols, vector_taps, v0, g, g_stride, acc, bias);
    case 12:
      return SparseColumnSegmentOf<RunsOfLength<12>::Vectors, kSparseVecs / 12>(
          nv / 12, words, count, stride, r0, cols, vector_taps, v0, g, g_stride, acc, bias);
    default:
      return SparseColumnSegmentOf<ListedVectors, kSparseVecs>(
          nv, words, count, stride, r0, cols, vector_taps, v0, g, g_stride, acc, bias);
  }
}

// The buffer SparseBackwardWeightsItem needs for G filters and patch P, in
// floats: the accumulators and bias sums, then a block's words.
inline size_t SparseWeightsScratch(size_t G, size_t P) {
  const size_t L = hn::Lanes(hn::ScalableTag<float>());
  const size_t padded = (G + L - 1) / L * L;
  return G * (P + 1) + kSparseRowBlock / kWordRows * padded;
}

// Filters [f0, f0 + G) of dW = cols^T dY and db = dY's column sums (dW is
// P x filters, P = cols' columns), skipping dY's zeros: Gemm's sums, one
// chain per element ascending over the M rows from zero, without the terms
// that add nothing. A block of rows at a time, it marks each filter's
// non-zero rows in words of bits, a vector of filters per compare, then
// walks each filter's set bits with its row of dW in registers. (Adding
// each non-zero's window to dW's row in memory, a load and a store per
// vector, ran at a third of the speed, and listing the rows one filter and
// row at a time took two thirds of the time.) `scratch` holds
// SparseWeightsScratch(G, P) floats, the calling thread's; the accumulators
// are filter-major, and dW's columns are stored from them at the end.
// Requires SparseWindowsFit(channels).
HWY_NOINLINE void SparseBackwardWeightsItem(size_t M, size_t P, size_t filters,
                                            const IndexedMatrix& cols,
                                            const float* HWY_RESTRICT dY, size_t f0, size_t G,
                                            float* HWY_RESTRICT scratch, float* HWY_RESTRICT dW,
                                            float* HWY_RESTRICT db) {
  const hn::ScalableTag<float> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  const size_t L = hn::Lanes(d), vecs = P / L;
  const size_t padded = (G + L - 1) / L * L;  // words' stride
  float* HWY_RESTRICT acc = scratch;
  float* HWY_RESTRICT bias = acc + G * P;
  uint32_t* HWY_RESTRICT words = reinterpret_cast<uint32_t*>(bias + G);
  std::fill(acc, acc + G * (P + 1), 0.0f);
  uint32_t* vector_taps = PositionBuffer(vecs);  // where each vector of a window starts
  for (size_t v = 0; v < vecs; ++v) vector_taps[v] = static_cast<uint32_t>(cols.taps[v * L]);
  const WindowRuns runs = RunsOf(vector_taps, vecs);
  const size_t segment = runs.R != 0 ? runs.R * runs.KR : SparseSegmentVecs(vecs);
  const float* g = dY + f0;
  for (size_t r0 = 0; r0 < M; r0 += kSparseRowBlock) {
    const size_t r1 = std::min(M, r0 + kSparseRowBlock);
    const size_t count = (r1 - r0 + kWordRows - 1) / kWordRows;
    for (size_t w = 0; w < count; ++w) {
      const size_t first = r0 + w * kWordRows, last = std::min(r1, first + kWordRows);
      for (size_t q = 0; q < G; q += L) {
        const bool partial = q + L > G;
        const auto lanes = hn::FirstN(d, G - q);
        auto bits = hn::Zero(du);
        for (size_t r = first; r < last; ++r) {
          const auto nonzero = hn::Ne(LoadSegment(d, g + r * filters + q, partial, lanes),
                                      hn::Zero(d));
          bits = hn::Or(bits, hn::IfThenElseZero(hn::RebindMask(du, nonzero),
                                                 hn::Set(du, uint32_t{1} << (r - first))));
        }
        hn::StoreU(bits, du, words + w * padded + q);
      }
    }
    for (size_t j = 0; j < G; ++j) {
      for (size_t v = 0; v < vecs; v += segment) {
        SparseColumnSegmentAny(runs, std::min(segment, vecs - v), words + j, count, padded, r0,
                               cols, vector_taps, v, g + j, filters, acc + j * P,
                               v == 0 ? bias + j : nullptr);
      }
    }
  }
  for (size_t k = 0; k < P; ++k) {
    for (size_t j = 0; j < G; ++j) dW[k * filters + f0 + j] = acc[j * P + k];
  }
  for (size_t j = 0; j < G; ++j) db[f0 + j] = bias[j];
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_SPARSE_GRADIENT_INL_H_
