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
#include <utility>

#include <omp.h>

#include "common/team.h"
#include "data/pixel_scale.h"
#include "hwy/aligned_allocator.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/activation-inl.h"
#include "kernels/activation.h"
#include "kernels/masked_segment-inl.h"
#include "kernels/math-inl.h"
#include "kernels/sparse_gemm.h"
#include "kernels/rmsprop-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Output columns are processed in chunks of this many vectors; threads
// split the chunks, never the inner dimension, so sums do not depend on the
// thread count. Per feature block, the forward product holds the chunk's
// segments of the block's rows of W in registers and updates the rows of
// its output block (batch x chunk floats: 32 KB for 128 x 64, in L1) that
// the samples storing the block touch; the weight gradient holds the
// block's rows of the dW chunk in registers while reading the chunk's copy
// of dY (same size, in L1). W and dW stream through once per step.
// Chunks are 4 vectors with AVX-512's 32 registers. With AVX2's 16, the
// weight gradient's 4 x 4 accumulators, 4 dY vectors and a broadcast
// spilled: 3 vectors (12 accumulators) made it 1.2x faster on 2 threads
// (2 vectors: 1.1x). The forward pass keeps 4 vectors there: its rows of W
// then come from L1 as memory operands of the multiply-adds, and fewer,
// wider chunks walk the batch's block lists fewer times (2 vectors measured
// 1.1x slower on 2 threads).
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kForwardChunkVecs = 4;
constexpr size_t kBackwardChunkVecs = 4;
#else
constexpr size_t kForwardChunkVecs = 4;
constexpr size_t kBackwardChunkVecs = 3;
#endif

#if HWY_TARGET == HWY_AVX2
// Lane permutations for compressing 8 lanes: for each 8-bit mask, the
// indices of its set lanes in order, 4 bits each from the lowest. Highway
// 1.0.3's Compress on AVX2 rebuilds the same table on the stack at every
// call: 74% of the batch build's time. This one is built once, at compile
// time.
struct CompressTable {
  uint32_t packed[256];
};
constexpr CompressTable MakeCompressTable() {
  CompressTable table{};
  for (uint32_t mask = 0; mask < 256; ++mask) {
    uint32_t packed = 0, slot = 0;
    for (uint32_t lane = 0; lane < 8; ++lane) {
      if ((mask >> lane) & 1) packed |= lane << (4 * slot++);
    }
    table.packed[mask] = packed;
  }
  return table;
}
alignas(64) constexpr CompressTable kCompressTable = MakeCompressTable();
#endif

// The blocks of kFeatureBlock pixels of one sample (row of uint8) that hold
// a non-zero pixel, in ascending order, with their pixels: compares a vector
// of blocks at a time (one block per lane of kFeatureBlock bytes) and
// compresses the lit lanes' indices and pixels into the outputs (walking the
// mask's bits a block at a time measured slower). Each vector's stores
// may write a whole vector past the blocks found so far, which stays inside
// the sample's `blocks` slots. Returns the number of blocks.
inline size_t NonZeroBlocks(const uint8_t* HWY_RESTRICT pixels, size_t features,
                            uint16_t* HWY_RESTRICT out, uint8_t* HWY_RESTRICT block_pixels) {
  size_t count = 0, k = 0;
#if HWY_TARGET != HWY_SCALAR  // its one-lane vectors cannot hold a block's bytes
  using Block = hwy::UnsignedFromSize<kFeatureBlock>;
  const hn::ScalableTag<Block> db;
  const hn::Repartition<uint8_t, decltype(db)> d8;
  const hn::RebindToSigned<decltype(db)> di;
  const hn::Rebind<uint16_t, decltype(db)> d16;
  const size_t L8 = hn::Lanes(d8);
  const auto lane = hn::Iota(di, 0);
#if HWY_TARGET == HWY_AVX2
  const auto nibble_shifts = hn::ShiftLeft<2>(lane);  // 0, 4, 8, ... 28
#endif
  for (; k + L8 <= features; k += L8) {
    const auto blocks = hn::BitCast(db, hn::LoadU(d8, pixels + k));
    const auto lit = hn::Ne(blocks, hn::Zero(db));
    const auto index = hn::Add(lane, hn::Set(di, static_cast<int32_t>(k / kFeatureBlock)));
#if HWY_TARGET == HWY_AVX2
    uint8_t bits;
    hn::StoreMaskBits(db, lit, &bits);
    const auto packed = hn::Set(db, kCompressTable.packed[bits]);
    const auto lanes = hn::And(packed >> hn::BitCast(db, nibble_shifts), hn::Set(db, 7));
    const auto compressed_index =
        hn::TableLookupLanes(index, hn::IndicesFromVec(di, hn::BitCast(di, lanes)));
    hn::StoreU(hn::DemoteTo(d16, compressed_index), d16, out + count);
    hn::StoreU(hn::TableLookupLanes(blocks, hn::IndicesFromVec(db, lanes)), db,
               reinterpret_cast<Block*>(block_pixels + count * kFeatureBlock));
    count += static_cast<size_t>(hwy::PopCount(bits));
#else
    // Compress in registers, then store: AVX-512's compressing store
    // (vpcompressd to memory) is microcoded on Zen 4, and the batch build
    // took 1.9x as long with it.
    hn::StoreU(hn::DemoteTo(d16, hn::Compress(index, hn::RebindMask(di, lit))), d16,
               out + count);
    hn::StoreU(hn::Compress(blocks, lit), db,
               reinterpret_cast<Block*>(block_pixels + count * kFeatureBlock));
    count += hn::CountTrue(db, lit);
#endif
  }
#endif
  for (size_t q = k / kFeatureBlock; q * kFeatureBlock < features; ++q) {
    const size_t k0 = q * kFeatureBlock;
    bool lit = false;
    for (size_t i = k0; i < std::min(features, k0 + kFeatureBlock); ++i) lit |= pixels[i] != 0;
    if (!lit) continue;
    out[count] = static_cast<uint16_t>(q);
    uint8_t* p = block_pixels + count * kFeatureBlock;
    for (size_t i = 0; i < kFeatureBlock; ++i) p[i] = k0 + i < features ? pixels[k0 + i] : 0;
    ++count;
  }
  return count;
}

// out[i] = pixels[i] / 255.0f, the same floats as PixelScale()'s table (the
// division is exact in both): a vector at a time, where looking each byte up
// in the table cost a load and a store per pixel.
inline void ScalePixels(const uint8_t* HWY_RESTRICT pixels, size_t count,
                        float* HWY_RESTRICT out) {
  size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::Rebind<uint8_t, decltype(di)> d8;
  const size_t L = hn::Lanes(df);
  const auto scale = hn::Set(df, 255.0f);
  for (; i + L <= count; i += L) {
    const auto bytes = hn::LoadU(d8, pixels + i);
    hn::StoreU(hn::Div(hn::ConvertTo(df, hn::PromoteTo(di, bytes)), scale), df, out + i);
  }
#endif
  const std::array<float, 256>& pixel_scale = PixelScale();
  for (; i < count; ++i) out[i] = pixel_scale[pixels[i]];
}

// The span (sparse_gemm.h) of a stored block, given its 4 pixels as the
// bytes of a little-endian word (not 0): the high bit of each non-zero byte,
// found without a branch, then the first and last of them.
HWY_INLINE uint8_t SpanOfBlock(uint32_t pixels) {
  const uint32_t nonzero = (((pixels & 0x7f7f7f7fu) + 0x7f7f7f7fu) | pixels) & 0x80808080u;
  const uint32_t first = static_cast<uint32_t>(hwy::Num0BitsBelowLS1Bit_Nonzero32(nonzero)) >> 3;
  const uint32_t last = (31 - static_cast<uint32_t>(hwy::Num0BitsAboveMS1Bit_Nonzero32(nonzero))) >> 3;
  // Spans are numbered by first, then last: first f starts at 4f - f(f-1)/2.
  return static_cast<uint8_t>(4 * first - first * (first - 1) / 2 + (last - first));
}
static_assert(kFeatureBlock == 4, "the spans are those of blocks of 4");

// How many images ahead of the one being scanned BuildSparseBatch prefetches.
constexpr size_t kPrefetchImagesAhead = 8;

// Builds both forms in one parallel region. Pass 1: thread t takes a
// contiguous range of samples, finds each sample's stored blocks (written at
// the sample's fixed slot, so no thread waits for another's count) and their
// spans, and counts them per block and span. Pass 2: thread t takes a
// contiguous range of blocks holding about 1/threads of the stored blocks
// and fills those columns from every sample in ascending order: the threads
// write disjoint memory (splitting by samples instead put both threads'
// writes to every column on shared cache lines, which made two threads
// slower than one), and each span of a column lists its samples in
// ascending order whatever the thread count.
inline void BuildSparseBatch(const uint8_t* images, size_t features, const uint32_t* order,
                             size_t first, size_t count, SparseBatch& batch) {
  batch.rows = count;
  batch.cols = features;
  const size_t blocks = batch.blocks();
  if (batch.blocks_of_row.size() < count * blocks) {
    batch.blocks_of_row.resize(count * blocks);
    batch.spans_of_row.resize(count * blocks);
    batch.pixels_of_row.resize(count * blocks * kFeatureBlock);
    batch.block_row.resize(count * blocks);
    batch.block_value.resize(count * blocks * kFeatureBlock);
    batch.block_pixels.resize(count * blocks * kFeatureBlock);
  }
  batch.row_start.resize(count);
  batch.row_end.resize(count);
  batch.block_start.resize(blocks + 1);
  batch.span_start.resize(blocks * kSpans + 1);
  batch.block_used.resize(blocks);
  const size_t threads = static_cast<size_t>(omp_get_max_threads());
  const size_t groups = blocks * kSpans;  // (block, span) pairs
  batch.block_cursor.resize(threads * groups);

  uint16_t* HWY_RESTRICT found = batch.blocks_of_row.data();
  uint8_t* HWY_RESTRICT found_span = batch.spans_of_row.data();
  uint8_t* HWY_RESTRICT row_pixels = batch.pixels_of_row.data();
  uint32_t* HWY_RESTRICT row_start = batch.row_start.data();
  uint32_t* HWY_RESTRICT row_end = batch.row_end.data();
  uint32_t* HWY_RESTRICT block_start = batch.block_start.data();
  uint32_t* HWY_RESTRICT span_start = batch.span_start.data();
  uint8_t* HWY_RESTRICT block_used = batch.block_used.data();
  uint32_t* HWY_RESTRICT cursors = batch.block_cursor.data();
  uint32_t* HWY_RESTRICT rows = batch.block_row.data();
  float* HWY_RESTRICT values = batch.block_value.data();
  uint8_t* HWY_RESTRICT column_pixels = batch.block_pixels.data();
  const bool parallel = UseTeam(count * features >= (size_t{1} << 15));

#pragma omp parallel num_threads(parallel ? threads : 1)
  {
    const size_t team = static_cast<size_t>(omp_get_num_threads());
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    const size_t m_begin = count * t / team, m_end = count * (t + 1) / team;
    uint32_t* HWY_RESTRICT cursor = cursors + t * groups;

    // Pass 1: each sample's stored blocks and their spans; counts per block
    // and span.
    for (size_t g = 0; g < groups; ++g) cursor[g] = 0;
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
      const size_t slot = m * blocks;
      const size_t n = NonZeroBlocks(images + sample * features, features, found + slot,
                                     row_pixels + slot * kFeatureBlock);
      row_start[m] = static_cast<uint32_t>(slot);
      row_end[m] = static_cast<uint32_t>(slot + n);
    }
    // The spans and counts in a loop of their own: reading a block's pixels
    // right after the vector stores that wrote them stalled on store
    // forwarding.
    for (size_t m = m_begin; m < m_end; ++m) {
      for (size_t e = row_start[m]; e < row_end[m]; ++e) {
        uint32_t word;
        std::memcpy(&word, row_pixels + e * kFeatureBlock, sizeof word);
        found_span[e] = SpanOfBlock(word);
        ++cursor[found[e] * kSpans + found_span[e]];
      }
    }
#pragma omp barrier
#pragma omp single
    {
      uint32_t total = 0;
      for (size_t g = 0; g < groups; ++g) {
        if (g % kSpans == 0) block_start[g / kSpans] = total;
        span_start[g] = total;
        for (size_t u = 0; u < team; ++u) total += cursors[u * groups + g];
      }
      block_start[blocks] = total;
      span_start[groups] = total;
    }
    // Pass 2: this thread's blocks [q_begin, q_end).
    const uint32_t total = block_start[blocks];
    const size_t q_begin = static_cast<size_t>(
        std::lower_bound(block_start, block_start + blocks, total * t / team) - block_start);
    const size_t q_end = t + 1 == team ? blocks
                                       : static_cast<size_t>(std::lower_bound(
                                             block_start, block_start + blocks,
                                             total * (t + 1) / team) - block_start);
    for (size_t g = q_begin * kSpans; g < q_end * kSpans; ++g) cursor[g] = span_start[g];
    for (size_t m = 0; m < count; ++m) {
      const uint16_t* begin = found + row_start[m];
      const uint16_t* end = found + row_end[m];
      const uint16_t* e = t == 0 ? begin : std::lower_bound(begin, end, q_begin);
      for (; e < end && *e < q_end; ++e) {
        const uint32_t slot = cursor[*e * kSpans + found_span[e - found]]++;
        rows[slot] = static_cast<uint32_t>(m);
        std::memcpy(column_pixels + slot * kFeatureBlock,
                    row_pixels + (e - found) * kFeatureBlock, kFeatureBlock);
      }
    }
    // Then the columns' bytes in bulk: which features are lit, and the
    // values a vector at a time.
    for (size_t q = q_begin; q < q_end; ++q) {
      uint8_t lit[kFeatureBlock] = {};
      for (size_t e = block_start[q]; e < block_start[q + 1]; ++e) {
        for (size_t i = 0; i < kFeatureBlock; ++i) lit[i] |= column_pixels[e * kFeatureBlock + i];
      }
      uint8_t used = 0;
      for (size_t i = 0; i < kFeatureBlock; ++i) used |= static_cast<uint8_t>((lit[i] != 0) << i);
      block_used[q] = used;
    }
    ScalePixels(column_pixels + block_start[q_begin] * kFeatureBlock,
                (block_start[q_end] - block_start[q_begin]) * kFeatureBlock,
                values + block_start[q_begin] * kFeatureBlock);
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

// Pointers to the chunk's segments of the rows of W ([K, N]) for block q's
// features; a feature past K (the last block of a K that is not a multiple
// of kFeatureBlock) gets a row of zeros, so its padded zero inputs add
// exactly nothing.
inline void BlockRows(const float* W, size_t K, size_t N, size_t q, size_t n0,
                      const float* zeros, const float* (&rows)[kFeatureBlock]) {
  for (size_t i = 0; i < kFeatureBlock; ++i) {
    const size_t k = q * kFeatureBlock + i;
    rows[i] = k < K ? W + k * N + n0 : zeros;
  }
}

// Calls f(integral_constant span) for each span (sparse_gemm.h) in turn, so
// that the kernels' loops over a span's samples have its features as
// compile-time constants.
template <class F, size_t... kSpan>
HWY_INLINE void ForEachSpanOf(const F& f, std::index_sequence<kSpan...>) {
  (f(std::integral_constant<size_t, kSpan>()), ...);
}
template <class F>
HWY_INLINE void ForEachSpan(const F& f) {
  ForEachSpanOf(f, std::make_index_sequence<kSpans>());
}

// acc[m, 0 .. NV * L + tail) = sum over the batch's non-zeros (m, k), k
// ascending, of value * W[k, n0 ...]: per stored block, the block's
// features in order, each a multiply-add on the row held in registers
// between one load and one store. The chunk's accumulators are one
// contiguous block: rows of the output itself lie a power-of-two apart and
// would fall into the same few L1 sets.
template <size_t NV, bool kTail>
HWY_NOINLINE void ForwardChunk(const SparseBatch& X, const float* HWY_RESTRICT W, size_t N,
                               size_t n0, size_t tail, float* HWY_RESTRICT acc) {
  const DF d;
  constexpr size_t L = hn::MaxLanes(DF());
  constexpr size_t kWidth = ChunkWidth<NV, kTail>();
  HWY_ALIGN static const float kZeros[kWidth] = {};
  for (size_t i = 0; i < X.rows * kWidth; ++i) acc[i] = 0.0f;
  const uint32_t* HWY_RESTRICT block_start = X.block_start.data();
  const uint32_t* HWY_RESTRICT span_start = X.span_start.data();
  const uint32_t* HWY_RESTRICT rows = X.block_row.data();
  const float* HWY_RESTRICT values = X.block_value.data();
  for (size_t q = 0; q < X.blocks(); ++q) {
    if (block_start[q] == block_start[q + 1]) continue;
    const float* w[kFeatureBlock];
    BlockRows(W, X.cols, N, q, n0, kZeros, w);
    VF wv[kFeatureBlock][NV];
    for (size_t i = 0; i < kFeatureBlock; ++i) {
      for (size_t j = 0; j < NV; ++j) wv[i][j] = hn::LoadU(d, w[i] + j * L);
    }
    // The next block's rows of W are 2 KB strides apart, which the hardware
    // prefetchers do not follow: request them while this block is applied.
    if ((q + 2) * kFeatureBlock <= X.cols) {
      for (size_t i = 0; i < kFeatureBlock; ++i) {
        const float* next = w[i] + kFeatureBlock * N;
        for (size_t j = 0; j < NV * L + tail; j += 64 / sizeof(float)) hwy::Prefetch(next + j);
      }
    }
    ForEachSpan([&](auto span) {
      constexpr size_t kFirst = kSpanFirst[span], kLast = kSpanLast[span];
      const uint32_t span_end = span_start[q * kSpans + span + 1];
      for (uint32_t e = span_start[q * kSpans + span]; e < span_end; ++e) {
        float* y = acc + static_cast<size_t>(rows[e]) * kWidth;
        const float* x = values + static_cast<size_t>(e) * kFeatureBlock;
        if constexpr (NV > 0) {
          VF xv[kFeatureBlock];
          for (size_t i = kFirst; i <= kLast; ++i) xv[i] = hn::Set(d, x[i]);
          for (size_t j = 0; j < NV; ++j) {
            VF sum = hn::Load(d, y + j * L);
            for (size_t i = kFirst; i <= kLast; ++i) sum = hn::MulAdd(xv[i], wv[i][j], sum);
            hn::Store(sum, d, y + j * L);
          }
        }
        if (kTail) {  // rounded as the lanes round, so a column's bits do not depend on L
          for (size_t j = NV * L; j < NV * L + tail; ++j) {
            for (size_t i = kFirst; i <= kLast; ++i) y[j] = MulAddLane(x[i], w[i][j], y[j]);
          }
        }
      }
    });
  }
}

// Stores row k's finished gradient segment, or applies it with RMSprop
// (`used`: some sample of the batch has feature k; an unused feature only
// decays its velocity, its weights do not move).
template <size_t NV, bool kTail>
HWY_INLINE void FinishGradientRow(const VF* acc, const float* tail_acc, bool used,
                                  size_t k, size_t N, size_t n0, size_t tail,
                                  float* HWY_RESTRICT dW, const SparseRmspropUpdate* update) {
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
    for (size_t j = 0; j < NV; ++j) RmspropVector(d, params, acc[j], w + j * L, v + j * L);
    return;
  }
  float* dw = dW + k * N + n0;
  for (size_t j = 0; j < NV; ++j) hn::StoreU(acc[j], d, dw + j * L);
  if (kTail) {
    for (size_t j = 0; j < tail; ++j) dw[NV * L + j] = tail_acc[j];
  }
}

// dW[k, n0 .. n0 + NV * L + tail) = sum over the batch's non-zeros (m, k)
// of value * dY[m, ...], m ascending, in registers: per block, its
// kFeatureBlock rows of dW at once, each stored sample's row of dY loaded
// once for all of them (kFeatureBlock x NV independent FMA chains). A
// feature no sample of the batch uses gets a zero gradient row.
// dY's chunk is first copied into one contiguous block: the rows of dY itself
// lie a power of two apart and would compete for the same few L1 sets.
// With an RMSprop update (update != null, tail == 0) the gradient row
// segment is applied to W and the velocity V right away instead of being
// stored: dW never goes to memory.
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
  const uint32_t* HWY_RESTRICT span_start = X.span_start.data();
  const uint32_t* HWY_RESTRICT rows = X.block_row.data();
  const float* HWY_RESTRICT values = X.block_value.data();
  for (size_t q = 0; q < X.blocks(); ++q) {
    VF acc[kFeatureBlock][NV];
    float tail_acc[kFeatureBlock][L] = {};
    for (size_t i = 0; i < kFeatureBlock; ++i) {
      for (size_t j = 0; j < NV; ++j) acc[i][j] = hn::Zero(d);
    }
    ForEachSpan([&](auto span) {
      constexpr size_t kFirst = kSpanFirst[span], kLast = kSpanLast[span];
      const uint32_t span_end = span_start[q * kSpans + span + 1];
      for (uint32_t e = span_start[q * kSpans + span]; e < span_end; ++e) {
        const float* dy = dy_chunk + static_cast<size_t>(rows[e]) * kWidth;
        const float* x = values + static_cast<size_t>(e) * kFeatureBlock;
        VF dyv[NV > 0 ? NV : 1];
        if constexpr (NV > 0) {
          for (size_t j = 0; j < NV; ++j) dyv[j] = hn::Load(d, dy + j * L);
        }
        for (size_t i = kFirst; i <= kLast; ++i) {
          if constexpr (NV > 0) {
            const VF xv = hn::Set(d, x[i]);
            for (size_t j = 0; j < NV; ++j) acc[i][j] = hn::MulAdd(xv, dyv[j], acc[i][j]);
          }
          if (kTail) {  // rounded as the lanes round
            for (size_t j = 0; j < tail; ++j) {
              tail_acc[i][j] = MulAddLane(x[i], dy[NV * L + j], tail_acc[i][j]);
            }
          }
        }
      }
    });
    for (size_t i = 0; i < kFeatureBlock; ++i) {
      const size_t k = q * kFeatureBlock + i;
      if (k >= X.cols) break;
      FinishGradientRow<NV, kTail>(acc[i], tail_acc[i], (X.block_used[q] >> i) & 1, k, N, n0,
                                   tail, dW, update);
    }
  }
}

// A chunk of output columns [n0, n0 + cols): nv full vectors and `tail`
// more columns, with a thread's scratch of X.rows rows of `width` floats
// (cols rounded up to whole vectors).
struct Chunk {
  size_t n0, nv, tail, cols, width;
  float* scratch;
};

// Splits [0, N) into chunks of chunk_vecs vectors and calls body(chunk) for
// each on the OpenMP team (on the calling thread for small batches).
template <class Body>
void ForEachChunk(const SparseBatch& X, size_t N, size_t chunk_vecs, const Body& body) {
  const size_t L = hn::Lanes(DF());
  const size_t chunk_width = chunk_vecs * L;
  const size_t chunks = (N + chunk_width - 1) / chunk_width;
  const size_t work = X.stored_blocks() * kFeatureBlock * N;
#pragma omp parallel for schedule(static) if (UseTeam(work >= (size_t{1} << 15)))
  for (size_t c = 0; c < chunks; ++c) {
    const size_t n0 = c * chunk_width;
    const size_t cols = std::min(chunk_width, N - n0);
    const size_t width = (cols + L - 1) / L * L;
    body(Chunk{n0, cols / L, cols % L, cols, width, ChunkScratch(X.rows * width)});
  }
}

// Calls kernel(integral_constant nv, integral_constant has_tail) with the
// chunk's shape as compile-time constants: a chunk is kMaxVecs full
// vectors, or (the last one) fewer vectors and possibly a tail.
template <size_t kMaxVecs, size_t NV = kMaxVecs, class Kernel>
void DispatchChunk(size_t nv, size_t tail, const Kernel& kernel) {
  using std::integral_constant;
  if constexpr (NV > 0) {
    if (nv < NV) return DispatchChunk<kMaxVecs, NV - 1>(nv, tail, kernel);
  }
  if (tail != 0) {
    if constexpr (NV < kMaxVecs) kernel(integral_constant<size_t, NV>(), integral_constant<bool, true>());
  } else if constexpr (NV > 0) {
    kernel(integral_constant<size_t, NV>(), integral_constant<bool, false>());
  }
}

inline void SparseDenseForward(const SparseBatch& X, const float* W, const float* b, size_t N,
                               Activation act, float* Z, float* Y) {
  ForEachChunk(X, N, kForwardChunkVecs, [&](const Chunk& chunk) {
    const size_t n0 = chunk.n0, cols = chunk.cols, width = chunk.width;
    float* acc = chunk.scratch;
    DispatchChunk<kForwardChunkVecs>(chunk.nv, chunk.tail, [&](auto nv_tag, auto tail_tag) {
      ForwardChunk<decltype(nv_tag)::value, decltype(tail_tag)::value>(X, W, N, n0, chunk.tail,
                                                                       acc);
    });
    // Epilogue while the chunk is in L1: bias and activation, into Y (and Z).
    for (size_t m = 0; m < X.rows; ++m) {
      const float* a = acc + m * width;
      float* y = Y + m * N + n0;
      float* z = Z ? Z + m * N + n0 : nullptr;
      ForEachSegment(cols, [&](auto d, size_t j, bool partial, auto mask) {
        VF v = hn::Load(d, a + j);  // the scratch row is whole vectors wide
        if (b) v = hn::Add(v, LoadSegment(d, b + n0 + j, partial, mask));
        if (z) StoreSegment(d, v, z + j, partial, mask);
        StoreSegment(d, ApplyActivation(d, act, v), y + j, partial, mask);
      });
    }
  });
}

inline bool SparseDenseBackwardWeights(const SparseBatch& X, const float* dY, size_t N,
                                       float* dW, float* db,
                                       const SparseRmspropUpdate* update) {
  const size_t L = hn::Lanes(DF());
  if (N % L != 0) update = nullptr;  // no fused tail: the caller's pass applies it
  ForEachChunk(X, N, kBackwardChunkVecs, [&](const Chunk& chunk) {
    const size_t n0 = chunk.n0, cols = chunk.cols, width = chunk.width;
    float* dy_chunk = chunk.scratch;
    DispatchChunk<kBackwardChunkVecs>(chunk.nv, chunk.tail, [&](auto nv_tag, auto tail_tag) {
      BackwardWeightsChunk<decltype(nv_tag)::value, decltype(tail_tag)::value>(
          X, dY, N, n0, chunk.tail, dy_chunk, dW, update);
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
