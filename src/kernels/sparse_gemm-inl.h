// Highway SIMD kernels for the first dense layer on sparse input (see
// sparse_gemm.h). Included once per target by sparse_gemm.cc.

#if defined(MB_KERNELS_SPARSE_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_SPARSE_GEMM_INL_H_
#undef MB_KERNELS_SPARSE_GEMM_INL_H_
#else
#define MB_KERNELS_SPARSE_GEMM_INL_H_
#endif

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include <omp.h>

#include "hwy/aligned_allocator.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/activation.h"
#include "kernels/sparse_gemm.h"
#include "optim/rmsprop_vector-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Output columns are processed in chunks of this many vectors; threads
// split the chunks, never the inner dimension, so sums do not depend on the
// thread count. Per feature k, the forward product holds the chunk's
// segment of W's row k in registers and updates the rows of its output
// block (batch x chunk floats: 32 KB for 128 x 64, in L1) that the samples
// using k touch; the weight gradient holds the chunk of dW's row k in
// registers while reading the chunk's copy of dY (same size, in L1). W and dW
// stream through once per step.
constexpr size_t kChunkVecs = 4;

// The features of one sample (row of uint8) that are non-zero, in
// ascending order: compares a vector of bytes at a time and walks the set
// bits of the mask.
inline size_t NonZeroFeatures(const uint8_t* HWY_RESTRICT pixels, size_t features,
                              uint16_t* HWY_RESTRICT out) {
  const hn::ScalableTag<uint8_t> d8;
  const size_t L = hn::Lanes(d8);
  size_t count = 0, k = 0;
  for (; k + L <= features; k += L) {
    const auto nonzero = hn::Ne(hn::LoadU(d8, pixels + k), hn::Zero(d8));
    uint8_t bytes[8] = {};
    hn::StoreMaskBits(d8, nonzero, bytes);
    uint64_t bits;
    std::memcpy(&bits, bytes, sizeof bits);
    while (bits != 0) {
      out[count++] = static_cast<uint16_t>(k + static_cast<size_t>(__builtin_ctzll(bits)));
      bits &= bits - 1;
    }
  }
  for (; k < features; ++k) {
    if (pixels[k] != 0) out[count++] = static_cast<uint16_t>(k);
  }
  return count;
}

// How many images ahead of the one being scanned BuildSparseBatch prefetches.
constexpr size_t kPrefetchImagesAhead = 8;

// Builds both forms in one parallel region. Pass 1: thread t takes a
// contiguous range of samples, finds each sample's non-zeros (written at the
// sample's fixed slot m * features, so no thread waits for another's count)
// and counts them per feature. Pass 2: thread t takes a contiguous range of
// features holding about 1/threads of the non-zeros and fills those columns
// from every sample in ascending order: the threads write disjoint memory
// (splitting by samples instead put both threads' writes to every column
// on shared cache lines, which made two threads slower than one), and each
// column lists its samples in ascending order whatever the thread count.
inline void BuildSparseBatch(const uint8_t* images, size_t features, const uint32_t* order,
                             size_t first, size_t count, SparseBatch& batch) {
  static const auto kScale = [] {
    std::array<float, 256> table;
    for (int i = 0; i < 256; ++i) table[i] = static_cast<float>(i) / 255.0f;
    return table;
  }();
  batch.rows = count;
  batch.cols = features;
  if (batch.features_of_row.size() < count * features) {
    batch.features_of_row.resize(count * features);
    batch.value_of_row.resize(count * features);
    batch.row.resize(count * features);
    batch.value.resize(count * features);
  }
  batch.row_start.resize(count);
  batch.row_end.resize(count);
  batch.col_start.resize(features + 1);
  const size_t threads = static_cast<size_t>(omp_get_max_threads());
  batch.column_cursor.resize(threads * features);

  uint16_t* HWY_RESTRICT found = batch.features_of_row.data();
  float* HWY_RESTRICT row_values = batch.value_of_row.data();
  uint32_t* HWY_RESTRICT row_start = batch.row_start.data();
  uint32_t* HWY_RESTRICT row_end = batch.row_end.data();
  uint32_t* HWY_RESTRICT col_start = batch.col_start.data();
  uint32_t* HWY_RESTRICT cursors = batch.column_cursor.data();
  uint32_t* HWY_RESTRICT rows = batch.row.data();
  float* HWY_RESTRICT values = batch.value.data();
  const bool parallel = count * features >= (size_t{1} << 15);

#pragma omp parallel num_threads(parallel ? threads : 1)
  {
    const size_t team = static_cast<size_t>(omp_get_num_threads());
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    const size_t m_begin = count * t / team, m_end = count * (t + 1) / team;
    uint32_t* HWY_RESTRICT cursor = cursors + t * features;

    // Pass 1: each sample's non-zero features; counts per feature.
    for (size_t k = 0; k < features; ++k) cursor[k] = 0;
    for (size_t m = m_begin; m < m_end; ++m) {
      // A shuffled batch reads images scattered over the whole data set,
      // so each one is a fresh trip to memory that the hardware prefetcher
      // cannot predict: fetch a few images ahead while scanning this one.
      if (m + kPrefetchImagesAhead < m_end) {
        const size_t ahead = m + kPrefetchImagesAhead;
        const uint8_t* next = images + (order ? order[first + ahead] : first + ahead) * features;
        for (size_t byte = 0; byte < features; byte += 64) hwy::Prefetch(next + byte);
      }
      const size_t sample = order ? order[first + m] : first + m;
      const uint8_t* pixels = images + sample * features;
      const size_t slot = m * features;
      const size_t n = NonZeroFeatures(pixels, features, found + slot);
      row_start[m] = static_cast<uint32_t>(slot);
      row_end[m] = static_cast<uint32_t>(slot + n);
      for (size_t e = slot; e < slot + n; ++e) {
        ++cursor[found[e]];
        row_values[e] = kScale[pixels[found[e]]];
      }
    }
#pragma omp barrier
#pragma omp single
    {
      uint32_t total = 0;
      for (size_t k = 0; k < features; ++k) {
        col_start[k] = total;
        for (size_t u = 0; u < team; ++u) total += cursors[u * features + k];
      }
      col_start[features] = total;
    }
    // Pass 2: this thread's features [k_begin, k_end).
    const uint32_t total = col_start[features];
    const size_t k_begin = static_cast<size_t>(
        std::lower_bound(col_start, col_start + features, total * t / team) - col_start);
    const size_t k_end = t + 1 == team ? features
                                       : static_cast<size_t>(std::lower_bound(
                                             col_start, col_start + features,
                                             total * (t + 1) / team) - col_start);
    for (size_t k = k_begin; k < k_end; ++k) cursor[k] = col_start[k];
    for (size_t m = 0; m < count; ++m) {
      const uint16_t* begin = found + row_start[m];
      const uint16_t* end = found + row_end[m];
      const uint16_t* e = t == 0 ? begin : std::lower_bound(begin, end, k_begin);
      for (; e < end && *e < k_end; ++e) {
        const uint32_t slot = cursor[*e]++;
        rows[slot] = static_cast<uint32_t>(m);
        values[slot] = row_values[e - found];
      }
    }
  }
}

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Per-thread scratch that grows to the largest chunk and is kept.
inline float* ChunkScratch(size_t floats) {
  static thread_local hwy::AlignedFreeUniquePtr<float[]> buffer;
  static thread_local size_t capacity = 0;
  if (floats > capacity) {
    buffer = hwy::AllocateAligned<float>(floats);
    capacity = floats;
  }
  return buffer.get();
}

// The chunk kernels below keep each sample's row of the chunk in one
// contiguous block whose row stride is a compile-time constant, NV full
// vectors plus one for a tail of tail < L columns, so addressing a row is a
// shift rather than a multiply inside the innermost loops.
template <size_t NV, bool kTail>
constexpr size_t ChunkWidth() {
  return (NV + (kTail ? 1 : 0)) * hn::MaxLanes(DF());
}

// acc[m, 0 .. NV * L + tail) = sum over the batch's non-zeros (m, k), k
// ascending, of value * W[k, n0 ...]. The chunk's accumulators are one
// contiguous block: rows of the output itself lie a power-of-two apart and
// would fall into the same few L1 sets.
template <size_t NV, bool kTail>
HWY_NOINLINE void ForwardChunk(const SparseBatch& X, const float* HWY_RESTRICT W, size_t N,
                               size_t n0, size_t tail, float* HWY_RESTRICT acc) {
  const DF d;
  constexpr size_t L = hn::MaxLanes(DF());
  constexpr size_t kWidth = ChunkWidth<NV, kTail>();
  for (size_t i = 0; i < X.rows * kWidth; ++i) acc[i] = 0.0f;
  const uint32_t* HWY_RESTRICT col_start = X.col_start.data();
  const uint32_t* HWY_RESTRICT rows = X.row.data();
  const float* HWY_RESTRICT values = X.value.data();
  for (size_t k = 0; k < X.cols; ++k) {
    const uint32_t begin = col_start[k], end = col_start[k + 1];
    if (begin == end) continue;
    const float* w = W + k * N + n0;
    VF wv[NV];
    for (size_t j = 0; j < NV; ++j) wv[j] = hn::LoadU(d, w + j * L);
    for (uint32_t e = begin; e < end; ++e) {
      float* y = acc + static_cast<size_t>(rows[e]) * kWidth;
      const VF x = hn::Set(d, values[e]);
      for (size_t j = 0; j < NV; ++j) {
        hn::Store(hn::MulAdd(x, wv[j], hn::Load(d, y + j * L)), d, y + j * L);
      }
      if (kTail) {
        for (size_t j = NV * L; j < NV * L + tail; ++j) y[j] += values[e] * w[j];
      }
    }
  }
}

// Features whose gradient rows BackwardWeightsChunk sums at once: 4 x NV
// accumulators fit AVX-512's 32 registers with room for the broadcasts.
constexpr size_t kSideBySide = 4;

// One row of dW's chunk being summed in registers.
template <size_t NV>
struct GradientRow {
  VF acc[NV];
  float tail[hn::MaxLanes(DF())];
};

// Adds non-zero e (value * its sample's row of the dY chunk) to `row`.
template <size_t NV, bool kTail>
HWY_INLINE void AccumulateNonZero(const float* HWY_RESTRICT dy_chunk, uint32_t row, float value,
                                  size_t tail, GradientRow<NV>& out) {
  const DF d;
  constexpr size_t L = hn::MaxLanes(DF());
  const float* dy = dy_chunk + static_cast<size_t>(row) * ChunkWidth<NV, kTail>();
  const VF x = hn::Set(d, value);
  for (size_t j = 0; j < NV; ++j) out.acc[j] = hn::MulAdd(x, hn::Load(d, dy + j * L), out.acc[j]);
  if (kTail) {
    for (size_t j = 0; j < tail; ++j) out.tail[j] += value * dy[NV * L + j];
  }
}

// Stores row k's finished gradient segment, or applies it with RMSprop.
template <size_t NV, bool kTail>
HWY_INLINE void FinishGradientRow(const GradientRow<NV>& g, bool used, size_t k, size_t N,
                                  size_t n0, size_t tail, float* HWY_RESTRICT dW,
                                  const SparseRmspropUpdate* update) {
  const DF d;
  constexpr size_t L = hn::MaxLanes(DF());
  if (update) {
    float* w = update->W + k * N + n0;
    float* v = update->velocity + k * N + n0;
    if (!used) {
      const VF rho = hn::Set(d, update->rho);
      for (size_t j = 0; j < NV; ++j) hn::StoreU(hn::Mul(rho, hn::LoadU(d, v + j * L)), d, v + j * L);
      return;
    }
    const RmspropParams params{update->learning_rate, update->rho, update->epsilon};
    for (size_t j = 0; j < NV; ++j) RmspropVector(d, params, g.acc[j], w + j * L, v + j * L);
    return;
  }
  float* dw = dW + k * N + n0;
  for (size_t j = 0; j < NV; ++j) hn::StoreU(g.acc[j], d, dw + j * L);
  if (kTail) {
    for (size_t j = 0; j < tail; ++j) dw[NV * L + j] = g.tail[j];
  }
}

// dW[k, n0 .. n0 + NV * L + tail) = sum over the batch's non-zeros (m, k)
// of value * dY[m, ...], m ascending, in registers; a feature no sample of
// the batch uses gets a zero gradient row.
// dY's chunk is first copied into one contiguous block: the rows of dY itself
// lie a power of two apart and would compete for the same few L1 sets.
// kSideBySide features are summed side by side: each row's sum is a chain
// of dependent FMAs, and interleaving independent chains (over the length
// the features' columns have in common) keeps the FMA units busy instead of
// waiting on their latency. Each row's terms are still added in ascending
// order.
// With an RMSprop update (update != null, tail == 0) the gradient row
// segment is applied to W and the velocity V right away instead of being
// stored: dW never goes to memory, and a feature no sample of the batch
// uses only decays its velocity (its weights do not move).
template <size_t NV, bool kTail>
HWY_NOINLINE void BackwardWeightsChunk(const SparseBatch& X, const float* HWY_RESTRICT dY,
                                       size_t N, size_t n0, size_t tail,
                                       float* HWY_RESTRICT dy_chunk, float* HWY_RESTRICT dW,
                                       const SparseRmspropUpdate* update) {
  const DF d;
  constexpr size_t L = hn::MaxLanes(DF());
  constexpr size_t kWidth = ChunkWidth<NV, kTail>();
  for (size_t m = 0; m < X.rows; ++m) {
    for (size_t j = 0; j < NV * L + tail; ++j) dy_chunk[m * kWidth + j] = dY[m * N + n0 + j];
  }
  const uint32_t* HWY_RESTRICT col_start = X.col_start.data();
  const uint32_t* HWY_RESTRICT rows = X.row.data();
  const float* HWY_RESTRICT values = X.value.data();
  size_t k = 0;
  for (; k + kSideBySide <= X.cols; k += kSideBySide) {
    GradientRow<NV> g[kSideBySide];
    uint32_t e[kSideBySide], end[kSideBySide];
    uint32_t common = ~0u;
    for (size_t f = 0; f < kSideBySide; ++f) {
      for (size_t j = 0; j < NV; ++j) g[f].acc[j] = hn::Zero(d);
      for (size_t j = 0; j < L; ++j) g[f].tail[j] = 0.0f;
      e[f] = col_start[k + f];
      end[f] = col_start[k + f + 1];
      common = std::min(common, end[f] - e[f]);
    }
    for (uint32_t i = 0; i < common; ++i) {
      for (size_t f = 0; f < kSideBySide; ++f) {
        AccumulateNonZero<NV, kTail>(dy_chunk, rows[e[f] + i], values[e[f] + i], tail, g[f]);
      }
    }
    for (size_t f = 0; f < kSideBySide; ++f) {
      for (uint32_t i = e[f] + common; i < end[f]; ++i) {
        AccumulateNonZero<NV, kTail>(dy_chunk, rows[i], values[i], tail, g[f]);
      }
      FinishGradientRow<NV, kTail>(g[f], e[f] != end[f], k + f, N, n0, tail, dW, update);
    }
  }
  for (; k < X.cols; ++k) {
    GradientRow<NV> g;
    for (size_t j = 0; j < NV; ++j) g.acc[j] = hn::Zero(d);
    for (size_t j = 0; j < L; ++j) g.tail[j] = 0.0f;
    for (uint32_t e = col_start[k]; e < col_start[k + 1]; ++e) {
      AccumulateNonZero<NV, kTail>(dy_chunk, rows[e], values[e], tail, g);
    }
    FinishGradientRow<NV, kTail>(g, col_start[k] != col_start[k + 1], k, N, n0, tail, dW, update);
  }
}

// Splits [0, N) into chunks of chunk_vecs vectors and calls
// chunk(n0, full_vectors, tail) for each on the OpenMP team.
template <class Chunk>
void ForEachChunk(size_t N, size_t chunk_vecs, size_t work, const Chunk& chunk) {
  const size_t L = hn::Lanes(DF());
  const size_t width = chunk_vecs * L;
  const size_t chunks = (N + width - 1) / width;
#pragma omp parallel for schedule(static) if (work >= (size_t{1} << 15))
  for (size_t c = 0; c < chunks; ++c) {
    const size_t n0 = c * width;
    const size_t cols = std::min(width, N - n0);
    chunk(n0, cols / L, cols % L);
  }
}

// Calls kernel(integral_constant nv, integral_constant has_tail) with the
// chunk's shape as compile-time constants: a chunk is kChunkVecs full
// vectors, or (the last one) fewer vectors and possibly a tail.
template <class Kernel>
void DispatchChunk(size_t nv, size_t tail, const Kernel& kernel) {
  using std::integral_constant;
  static_assert(kChunkVecs == 4, "one case per vector count below");
  const bool has_tail = tail != 0;
  switch (nv * 2 + has_tail) {
    case 1: kernel(integral_constant<size_t, 0>(), integral_constant<bool, true>()); break;
    case 2: kernel(integral_constant<size_t, 1>(), integral_constant<bool, false>()); break;
    case 3: kernel(integral_constant<size_t, 1>(), integral_constant<bool, true>()); break;
    case 4: kernel(integral_constant<size_t, 2>(), integral_constant<bool, false>()); break;
    case 5: kernel(integral_constant<size_t, 2>(), integral_constant<bool, true>()); break;
    case 6: kernel(integral_constant<size_t, 3>(), integral_constant<bool, false>()); break;
    case 7: kernel(integral_constant<size_t, 3>(), integral_constant<bool, true>()); break;
    default: kernel(integral_constant<size_t, kChunkVecs>(), integral_constant<bool, false>()); break;
  }
}

inline void SparseDenseForward(const SparseBatch& X, const float* W, const float* b, size_t N,
                               Activation act, float* Z, float* Y) {
  const DF d;
  const size_t L = hn::Lanes(d);
  ForEachChunk(N, kChunkVecs, X.nonzeros() * N, [&](size_t n0, size_t nv, size_t tail) {
    const size_t cols = nv * L + tail;
    const size_t width = (cols + L - 1) / L * L;
    float* acc = ChunkScratch(X.rows * width);
    DispatchChunk(nv, tail, [&](auto nv_tag, auto tail_tag) {
      ForwardChunk<decltype(nv_tag)::value, decltype(tail_tag)::value>(X, W, N, n0, tail, acc);
    });
    // Epilogue while the chunk is in L1: bias and activation, into Y (and Z).
    const bool simd = act == Activation::kRelu || act == Activation::kLinear ||
                      act == Activation::kSoftmax;
    for (size_t m = 0; m < X.rows; ++m) {
      const float* a = acc + m * width;
      float* y = Y + m * N + n0;
      float* z = Z ? Z + m * N + n0 : nullptr;
      size_t j = 0;
      if (simd) {
        for (; j + L <= cols; j += L) {
          VF v = hn::Load(d, a + j);
          if (b) v = hn::Add(v, hn::LoadU(d, b + n0 + j));
          if (z) hn::StoreU(v, d, z + j);
          if (act == Activation::kRelu) v = hn::Max(v, hn::Zero(d));
          hn::StoreU(v, d, y + j);
        }
      }
      for (; j < cols; ++j) {
        const float pre = a[j] + (b ? b[n0 + j] : 0.0f);
        if (z) z[j] = pre;
        y[j] = ActivationForward(act, pre);
      }
    }
  });
}

inline bool SparseDenseBackwardWeights(const SparseBatch& X, const float* dY, size_t N,
                                       float* dW, float* db,
                                       const SparseRmspropUpdate* update) {
  const size_t L = hn::Lanes(DF());
  if (N % L != 0) update = nullptr;  // no fused tail: the caller's pass applies it
  ForEachChunk(N, kChunkVecs, X.nonzeros() * N, [&](size_t n0, size_t nv, size_t tail) {
    const size_t cols = nv * L + tail;
    const size_t width = (cols + L - 1) / L * L;
    float* dy_chunk = ChunkScratch(X.rows * width);
    DispatchChunk(nv, tail, [&](auto nv_tag, auto tail_tag) {
      BackwardWeightsChunk<decltype(nv_tag)::value, decltype(tail_tag)::value>(
          X, dY, N, n0, tail, dy_chunk, dW, update);
    });
    // The bias gradient: the chunk's column sums, m ascending.
    for (size_t j = 0; j < cols; ++j) db[n0 + j] = 0.0f;
    for (size_t m = 0; m < X.rows; ++m) {
      for (size_t j = 0; j < cols; ++j) db[n0 + j] += dy_chunk[m * width + j];
    }
  });
  return update != nullptr;
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_SPARSE_GEMM_INL_H_
