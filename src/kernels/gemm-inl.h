// Highway SIMD kernels for the three products of a dense layer. Included once
// per target by gemm.cc (through foreach_target.h); nothing else includes it.
//
// All three products are one loop nest, C[M, N] = sum_p A(i, p) B[p, N], with
// A read through two strides so that the same micro-kernel serves X W (the
// forward pass and, with W transposed, the input gradient) and X^T dY (the
// weight gradient). The micro-kernel keeps a kTileRows x kTileVecs register
// tile of C in accumulators: per step of p it loads kTileVecs vectors of one
// row of B and broadcasts kTileRows scalars of A, in the style of BLIS.
//
// Threads split the output tiles, never the inner dimension p, and each tile
// sums p from 0 upward: results do not depend on the thread count.

// Per-target include guard (Highway's idiom for -inl.h files).
#if defined(MB_KERNELS_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_GEMM_INL_H_
#undef MB_KERNELS_GEMM_INL_H_
#else
#define MB_KERNELS_GEMM_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include <omp.h>

#include "common/team.h"
#include "hwy/highway.h"
#include "kernels/activation-inl.h"
#include "kernels/activation.h"
#include "kernels/im2col_index.h"
#include "kernels/masked_segment-inl.h"
#include "kernels/narrow_gemm-inl.h"
#include "kernels/pack-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Register tile per target: accumulators + kTileVecs B vectors + one
// broadcast must fit the register file (32 vector registers with AVX-512,
// 16 otherwise).
#if HWY_TARGET <= HWY_AVX3
constexpr size_t kTileRows = 8;
constexpr size_t kTileVecs = 3;
#else
constexpr size_t kTileRows = 4;
constexpr size_t kTileVecs = 3;
#endif

// Below this many multiply-adds a product runs on the calling thread: waking
// the OpenMP team costs more than it saves.
constexpr size_t kMinParallelWork = size_t{1} << 16;

// What happens to a finished tile of C: each epilogue gets one row segment
// of up to kTileVecs vectors and stores it.
struct StoreEpilogue {
  float* C;
  size_t ldc;
};

struct ForwardEpilogue {
  float* Y;
  float* Z;  // may be null
  const float* bias;
  Activation act;
  size_t ldc;
};

struct InputGradEpilogue {
  float* dX;
  const float* Z_prev;  // may be null
  const float* A_prev;
  Activation prev_act;
  size_t ldc;
};

template <size_t NV, class M>
HWY_INLINE void FinishRow(const StoreEpilogue& e, size_t row, size_t n0, VF (&acc)[NV],
                          bool partial, M mask) {
  DF d;
  const size_t L = hn::Lanes(d);
  float* c = e.C + row * e.ldc + n0;
  for (size_t j = 0; j < NV; ++j) {
    StoreSegment(d, acc[j], c + j * L, partial && j == NV - 1, mask);
  }
}

// In the tile's registers: bias, Z, and ReLU; smooth activations after the
// tile (FinishTile, see IsInlineActivation).
template <size_t NV, class M>
HWY_INLINE void FinishRow(const ForwardEpilogue& e, size_t row, size_t n0, VF (&acc)[NV],
                          bool partial, M mask) {
  DF d;
  const size_t L = hn::Lanes(d);
  float* y = e.Y + row * e.ldc + n0;
  float* z = e.Z ? e.Z + row * e.ldc + n0 : nullptr;
  for (size_t j = 0; j < NV; ++j) {
    const bool part = partial && j == NV - 1;
    VF v = acc[j];
    if (e.bias) v = hn::Add(v, LoadSegment(d, e.bias + n0 + j * L, part, mask));
    if (z) StoreSegment(d, v, z + j * L, part, mask);
    if (e.act == Activation::kRelu) v = hn::Max(v, hn::Zero(d));
    StoreSegment(d, v, y + j * L, part, mask);
  }
}

template <size_t NV, class M>
HWY_INLINE void FinishRow(const InputGradEpilogue& e, size_t row, size_t n0, VF (&acc)[NV],
                          bool partial, M mask) {
  DF d;
  const size_t L = hn::Lanes(d);
  float* dx = e.dX + row * e.ldc + n0;
  const float* a = e.A_prev + row * e.ldc + n0;
  for (size_t j = 0; j < NV; ++j) {
    const bool part = partial && j == NV - 1;
    VF v = acc[j];
    if (e.prev_act == Activation::kRelu) {
      v = hn::IfThenElseZero(hn::Gt(LoadSegment(d, a + j * L, part, mask), hn::Zero(d)), v);
    }
    StoreSegment(d, v, dx + j * L, part, mask);
  }
}

// After a tile's rows are stored: the activations that call out of line.
inline void FinishTile(const StoreEpilogue&, size_t, size_t, size_t, size_t) {}

inline void FinishTile(const ForwardEpilogue& e, size_t i0, size_t rows, size_t n0,
                       size_t cols) {
  if (IsInlineActivation(e.act)) return;
  for (size_t i = i0; i < i0 + rows; ++i) ApplyActivationInPlace(e.act, e.Y + i * e.ldc + n0, cols);
}

inline void FinishTile(const InputGradEpilogue& e, size_t i0, size_t rows, size_t n0,
                       size_t cols) {
  if (IsInlineActivation(e.prev_act)) return;
  for (size_t i = i0; i < i0 + rows; ++i) {
    const size_t offset = i * e.ldc + n0;
    ApplyActivationGradientInPlace(e.prev_act, e.Z_prev ? e.Z_prev + offset : nullptr,
                                   e.A_prev + offset, e.dX + offset, cols);
  }
}

// Where a tile reads its operands: A(i, p) = a[i * a_row + p * a_inner], or
// a[a_rows[i] + a_taps[p]] for an indexed A (see IndexedMatrix), and row p
// of B's packed panel at b + p * b_row. A is either its packed row block
// (a_row = 1, a_inner = kTileRows) or the matrix itself.
struct TileOperands {
  const float* a;
  size_t a_row;
  size_t a_inner;
  const size_t* a_rows;  // the tile's first row's offset, for an indexed A
  const size_t* a_taps;
  const float* b;
  size_t b_row;
  float* pack_to;  // with kPackB: where B's rows are copied, NV * L floats apart
  // With kContinue, the tile's sums so far: C's rows from i0, c_ldc apart
  // (and b_sums' columns), from the earlier part of p.
  const float* c_init;
  size_t c_ldc;
};

// One register tile: rows [i0, i0 + rows) x columns [n0, n0 + cols) of C,
// NV vectors wide. Every load is a full vector and the loop has no tails:
// packed blocks are zero-padded past the matrix edges, and an unpacked A's
// missing rows repeat its last row; only the epilogue minds the edges. With
// kSumB the tile also sums its columns of B over p into `b_sums` (the bias
// gradient). With kPackB, B is read in place (its rows b_row apart, the last
// vector masked at the matrix edge) and each row is also stored, zero-padded,
// to ops.pack_to: the thread's first tile of a panel packs it for the rest.
// With kContinue its sums start from ops.c_init (and b_sums) instead of 0.
template <size_t NV, bool kSumB, bool kPackB, bool kIndexedA, bool kContinue, class Epilogue>
HWY_NOINLINE void Tile(size_t P, const TileOperands& ops, size_t i0, size_t rows, size_t n0,
                       size_t cols, const Epilogue& epilogue, float* HWY_RESTRICT b_sums) {
  DF d;
  const size_t L = hn::Lanes(d);
  const bool partial = cols < NV * L;
  const auto mask = hn::FirstN(d, cols - (NV - 1) * L);

  VF acc[kTileRows][NV];
  VF sums[NV];
#pragma GCC unroll 16
  for (size_t j = 0; j < NV; ++j) {
    sums[j] = hn::Zero(d);
#pragma GCC unroll 16
    for (size_t i = 0; i < kTileRows; ++i) acc[i][j] = hn::Zero(d);
  }

  if (kContinue) {
#pragma GCC unroll 16
    for (size_t i = 0; i < kTileRows; ++i) {
      const float* c = ops.c_init + std::min(i, rows - 1) * ops.c_ldc + n0;
      for (size_t j = 0; j < NV; ++j) {
        acc[i][j] = LoadSegment(d, c + j * L, partial && j == NV - 1, mask);
      }
    }
    for (size_t j = 0; kSumB && j < NV; ++j) {
      sums[j] = LoadSegment(d, b_sums + n0 + j * L, partial && j == NV - 1, mask);
    }
  }

  const float* HWY_RESTRICT a_row[kTileRows];
#pragma GCC unroll 16
  for (size_t i = 0; i < kTileRows; ++i) {
    const size_t row = std::min(i, rows - 1);
    a_row[i] = ops.a + (kIndexedA ? ops.a_rows[row] : row * ops.a_row);
  }
  const size_t* HWY_RESTRICT a_taps = ops.a_taps;
  const float* HWY_RESTRICT b = ops.b;
  const size_t a_inner = ops.a_inner;
  const size_t b_row = ops.b_row;
  float* HWY_RESTRICT pack_to = ops.pack_to;
  for (size_t p = 0; p < P; ++p, b += b_row) {
    VF bv[NV];
    if (kPackB) {
      for (size_t j = 0; j < NV; ++j) {
        bv[j] = LoadSegment(d, b + j * L, partial && j == NV - 1, mask);  // zero past the mask
        hn::Store(bv[j], d, pack_to + p * NV * L + j * L);
      }
    } else {
      for (size_t j = 0; j < NV; ++j) bv[j] = hn::Load(d, b + j * L);
    }
    if (kSumB) {
      for (size_t j = 0; j < NV; ++j) sums[j] = hn::Add(sums[j], bv[j]);
    }
    const size_t offset = kIndexedA ? a_taps[p] : p * a_inner;
    for (size_t i = 0; i < kTileRows; ++i) {
      const VF av = hn::Set(d, a_row[i][offset]);
      for (size_t j = 0; j < NV; ++j) acc[i][j] = hn::MulAdd(av, bv[j], acc[i][j]);
    }
  }

  // Unrolled with constant row indices: indexing acc by a run-time row made
  // the compiler give the tile a stack copy, zeroed by a memset that cost
  // a tenth of the time of a product with P = 10.
#pragma GCC unroll 16
  for (size_t i = 0; i < kTileRows; ++i) {
    if (i < rows) FinishRow(epilogue, i0 + i, n0, acc[i], partial, mask);
  }
  if (kSumB) {
    for (size_t j = 0; j < NV; ++j) {
      StoreSegment(d, sums[j], b_sums + n0 + j * L, partial && j == NV - 1, mask);
    }
  }
  FinishTile(epilogue, i0, rows, n0, cols);
}

// Calls the Tile for the panel's vector count (1..kTileVecs), whether it
// sums B's columns (b_sums not null), whether it packs B and whether A is
// indexed.
template <size_t NV = kTileVecs, class Epilogue>
HWY_INLINE void TileDispatch(size_t nv, bool pack_b, bool indexed_a, size_t P,
                             const TileOperands& ops, size_t i0, size_t rows, size_t n0,
                             size_t cols, const Epilogue& e, float* b_sums) {
  if constexpr (NV > 1) {
    if (nv < NV) {
      return TileDispatch<NV - 1>(nv, pack_b, indexed_a, P, ops, i0, rows, n0, cols, e, b_sums);
    }
  }
  if (indexed_a) {  // a convolution's forward pass, which sums no B
    if (pack_b) return Tile<NV, false, true, true, false>(P, ops, i0, rows, n0, cols, e, nullptr);
    return Tile<NV, false, false, true, false>(P, ops, i0, rows, n0, cols, e, nullptr);
  }
  // Continuing a chunk's sums: only the weight gradients' store epilogue
  // (a separate instantiation: a run-time test in every tile slowed the
  // dense forward pass by 14%).
  if constexpr (std::is_same_v<Epilogue, StoreEpilogue>) {
    if (ops.c_init) {
      if (pack_b) {
        if (b_sums) return Tile<NV, true, true, false, true>(P, ops, i0, rows, n0, cols, e, b_sums);
        return Tile<NV, false, true, false, true>(P, ops, i0, rows, n0, cols, e, nullptr);
      }
      if (b_sums) return Tile<NV, true, false, false, true>(P, ops, i0, rows, n0, cols, e, b_sums);
      return Tile<NV, false, false, false, true>(P, ops, i0, rows, n0, cols, e, nullptr);
    }
  }
  if (pack_b) {
    if (b_sums) return Tile<NV, true, true, false, false>(P, ops, i0, rows, n0, cols, e, b_sums);
    return Tile<NV, false, true, false, false>(P, ops, i0, rows, n0, cols, e, nullptr);
  }
  if (b_sums) return Tile<NV, true, false, false, false>(P, ops, i0, rows, n0, cols, e, b_sums);
  Tile<NV, false, false, false, false>(P, ops, i0, rows, n0, cols, e, nullptr);
}

// PackRows for an indexed A^T (A(i, p) = base[rows[p] + taps[i]], the
// weight gradient's), for `blocks` row blocks from `first_block` on at
// once, so that the windows are read from the cache for all the blocks
// (block by block over all rows, the thread read the whole image once per
// block). A group's 8 values are one contiguous run when all the blocks'
// taps are (channels in multiples of 8); otherwise they are gathered one by
// one, row by row.
inline void PackIndexedRows(const IndexedMatrix& S, size_t M, size_t P, size_t first_block,
                            size_t blocks, float* HWY_RESTRICT packed) {
  // Whether every block is 8 contiguous taps, checked once rather than per
  // row (the checks cost more than the copies).
  bool runs = true;
  for (size_t b = 0; b < blocks; ++b) {
    const size_t i0 = (first_block + b) * kTileRows;
    runs = runs && M - i0 >= kTileRows && S.taps[i0 + kTileRows - 1] == S.taps[i0] + kTileRows - 1;
  }
  // Rows kPackIndexedChunk at a time, block by block within a chunk: each
  // block's destination is then one sequential run (writing to every block
  // for each row scattered the stores over dozens of streams), and the
  // chunk's windows stay in the cache for all the blocks.
  constexpr size_t kPackIndexedChunk = 64;
  for (size_t p0 = 0; p0 < P && runs; p0 += kPackIndexedChunk) {
    const size_t p1 = std::min(P, p0 + kPackIndexedChunk);
    for (size_t b = 0; b < blocks; ++b) {
      const size_t tap = S.taps[(first_block + b) * kTileRows];
      float* dst = packed + (b * P + p0) * kTileRows;
      for (size_t p = p0; p < p1; ++p, dst += kTileRows) {
        const float* from = S.base + S.rows[p] + tap;
        for (size_t i = 0; i < kTileRows; ++i) dst[i] = from[i];
      }
    }
  }
  for (size_t p = 0; p < P && !runs; ++p) {
    const float* src = S.base + S.rows[p];
    for (size_t b = 0; b < blocks; ++b) {
      const size_t i0 = (first_block + b) * kTileRows;
      const size_t rows = std::min(kTileRows, M - i0);
      const size_t* taps = S.taps + i0;
      float* dst = packed + (b * P + p) * kTileRows;
      for (size_t i = 0; i < kTileRows; ++i) dst[i] = i < rows ? src[taps[i]] : 0.0f;
    }
  }
}

// Copies rows [i0, i0 + rows) of A (A(i, p) = A[i * row_stride + p *
// inner_stride]) into `packed` as P groups of kTileRows values, zero rows
// past `rows`: the micro-kernel's broadcasts then walk one contiguous block.
// Gemm packs A only when its rows are not contiguous (A^T, in the weight
// gradient).
inline void PackRows(const float* A, size_t row_stride, size_t inner_stride, size_t P,
                     size_t i0, size_t rows, float* HWY_RESTRICT packed) {
  if (row_stride == 1 && rows == kTileRows) {
    // A^T (the weight gradient): each group is kTileRows contiguous floats.
    for (size_t p = 0; p < P; ++p) {
      const float* src = A + i0 + p * inner_stride;
      float* dst = packed + p * kTileRows;
      for (size_t i = 0; i < kTileRows; ++i) dst[i] = src[i];
    }
    return;
  }
  for (size_t p = 0; p < P; ++p) {
    float* dst = packed + p * kTileRows;
    const float* src = A + i0 * row_stride + p * inner_stride;
    size_t i = 0;
    for (; i < rows; ++i) dst[i] = src[i * row_stride];
    for (; i < kTileRows; ++i) dst[i] = 0.0f;
  }
}

// The inner dimension's chunk for a transposed A (see GemmShare): the
// thread's packed A (up to half the row blocks of a 144-tap patch) and B
// (dY, 32 filters) of 512 rows come to about 200 KB, within L2 (512 KB
// per core on Zen 3, 1 MB on Zen 5).
constexpr size_t kGemmChunkP = 512;

// Where a chunked product keeps its sums between chunks: C, for the
// epilogue that only stores (the weight gradients'); the others are
// never chunked.
template <class Epilogue>
const float* ChunkedOutput(const Epilogue&, size_t*) {
  return nullptr;
}
inline const float* ChunkedOutput(const StoreEpilogue& e, size_t* ldc) {
  *ldc = e.ldc;
  return e.C;
}

// C[M, N] = sum_p A(i, p) B(p, n) with A(i, p) = A[i * a_row_stride +
// p * a_inner_stride] and B(p, n) = B[p * ldb + n], or B[n * ldb + p] when
// b_transposed, finished by `epilogue`. When b_sums is not null it receives
// the column sums of B (computed by the tiles of the first row block, so no
// extra pass over B). When `indexed` is not null A is that IndexedMatrix,
// read in place when a_inner_stride is 1 (A(i, p) as IndexedMatrix says)
// and packed as PackRows packs a stored A^T otherwise (A(i, p) =
// base[rows[p] + taps[i]]): the strides then only say which.
//
// One parallel region without barriers: each thread packs what it reads
// into its own buffers just before using it, so packed operands stay in its
// cache and never move between cores. (One team-wide packing pass into
// shared buffers, then a barrier, cost 7-9% of the forward product at the
// baseline's shapes, and made the weight gradient slow down by 10-15% in
// the spells when this shared machine's caches were busy.) Each thread
// walks its tiles panel by panel (a panel: kTileVecs vectors of columns):
// - A's rows contiguous (the forward pass and the input gradient): A is
//   read in place (the tile's broadcasts follow kTileRows sequential
//   streams, measured no slower than one packed block) and the threads
//   split the tiles into contiguous ranges, so each packs about 1/team of B;
// - A transposed (the weight gradient): the threads split the row blocks,
//   each packs its own blocks of A once, and every thread packs all of B,
//   which is the short matrix there (dY).
// B's panel is packed by the thread's first tile in it when B's rows are
// contiguous (the tile reads them in place once, where reading B in place
// for every tile measured up to 2x slower), and by PackTransposed
// when B is transposed.
//
// GemmShare is one thread's share of a team of `team`; Gemm runs it on the
// OpenMP team (kernels that split work their own way call it with team 1).
// C's columns as panels of at most kTileVecs vectors, as few as that
// allows, their vectors shared out evenly: the first `wider` panels have
// one vector more than the rest. (Whole panels of kTileVecs and a narrow
// last one split 64 filters on AVX-512 into 3 + 1 vectors: the 1-vector
// tile makes one multiply-add per broadcast, and the thread given its
// tiles waited for the other for a tenth of the book's convnet's training.)
struct Panels {
  size_t count, vecs, wider;  // vecs: the narrower panels' vectors
  Panels(size_t N, size_t L) {
    const size_t total = (N + L - 1) / L;
    count = (total + kTileVecs - 1) / kTileVecs;
    vecs = count ? total / count : 0;
    wider = count ? total % count : 0;
  }
  size_t Vecs(size_t k) const { return vecs + (k < wider ? 1 : 0); }
  size_t FirstVec(size_t k) const { return k * vecs + std::min(k, wider); }
  // The first of the row_tiles * count tiles (panel-major) whose share of
  // the work, counted in vectors, starts at or after `work`.
  size_t TileAt(size_t work, size_t row_tiles) const {
    size_t t = 0;
    for (size_t k = 0; k < count; ++k) {
      const size_t v = Vecs(k), panel_work = row_tiles * v;
      if (work < panel_work) return t + (work + v - 1) / v;
      work -= panel_work;
      t += row_tiles;
    }
    return t;
  }
};

template <class Epilogue>
void GemmShare(size_t team, size_t thread, size_t M, size_t N, size_t P, const float* A,
               size_t a_row_stride, size_t a_inner_stride, const float* B, size_t ldb,
               bool b_transposed, const Epilogue& epilogue, float* b_sums,
               const IndexedMatrix* indexed = nullptr) {
  const size_t L = hn::Lanes(DF());
  const size_t panel_width = kTileVecs * L;  // the widest panel
  const size_t row_tiles = (M + kTileRows - 1) / kTileRows;
  const Panels panels(N, L);
  const bool direct_a = a_inner_stride == 1;
  // This thread's tiles t in [t_begin, t_end): panel t / row_count, row
  // block row_begin + t % row_count; an equal share of the vectors' work.
  size_t row_begin = 0, row_count = row_tiles;
  const size_t work = row_tiles * ((N + L - 1) / L);
  size_t t_begin = panels.TileAt(work * thread / team, row_tiles);
  size_t t_end = panels.TileAt(work * (thread + 1) / team, row_tiles);
  if (!direct_a) {
    row_begin = row_tiles * thread / team;
    row_count = row_tiles * (thread + 1) / team - row_begin;
    t_begin = 0;
    t_end = row_count * panels.count;
  }
  // A transposed over a long p (a convolution's weight gradient sums over
  // every output pixel of the batch) goes kGemmChunkP of p at a time, so
  // that the packed A and B of a chunk stay in the cache for all the tiles
  // that read them; each tile continues the sums the last chunk stored in
  // C. (Packed whole, the speedrun's second convolution's A was 7.4 MB per
  // thread, and every row block read all of dY from memory again.)
  size_t c_ldc = 0;
  const float* c_stored = ChunkedOutput(epilogue, &c_ldc);
  const size_t chunk =
      !direct_a && !b_transposed && c_stored && P > kGemmChunkP ? kGemmChunkP : P;
  static thread_local PackBuffer a_buffer, b_buffer;
  for (size_t p0 = 0; p0 < P; p0 += chunk) {
    const size_t pc = std::min(chunk, P - p0);
    float* a_packed = nullptr;
    if (!direct_a) {
      a_packed = a_buffer.Get(row_count * pc * kTileRows);
      if (indexed) {
        const IndexedMatrix part{indexed->base, indexed->rows + p0, indexed->taps};
        PackIndexedRows(part, M, pc, row_begin, row_count, a_packed);
      }
      for (size_t r = 0; r < row_count && !indexed; ++r) {
        const size_t i0 = (row_begin + r) * kTileRows;
        PackRows(A + p0 * a_inner_stride, a_row_stride, a_inner_stride, pc, i0,
                 std::min(kTileRows, M - i0), a_packed + r * pc * kTileRows);
      }
    }
    float* b_packed = b_buffer.Get(pc * panel_width);
    size_t packed_panel = panels.count;  // none yet
    for (size_t t = t_begin; t < t_end; ++t) {
      const size_t panel = t / row_count;
      const size_t row_tile = row_begin + t % row_count;
      const size_t n0 = panels.FirstVec(panel) * L;
      const size_t cols = std::min(panels.Vecs(panel) * L, N - n0);
      const size_t nv = (cols + L - 1) / L;
      const size_t i0 = row_tile * kTileRows;
      const size_t rows = std::min(kTileRows, M - i0);
      TileOperands ops{};
      const bool indexed_a = direct_a && indexed;
      if (indexed_a) {
        ops.a = indexed->base;
        ops.a_rows = indexed->rows + i0;
        ops.a_taps = indexed->taps;
      } else if (direct_a) {
        ops.a = A + i0 * a_row_stride;
        ops.a_row = a_row_stride;
        ops.a_inner = a_inner_stride;
      } else {
        ops.a = a_packed + (row_tile - row_begin) * pc * kTileRows;
        ops.a_row = 1;
        ops.a_inner = kTileRows;
      }
      const bool pack_in_tile = panel != packed_panel && !b_transposed;
      if (panel != packed_panel && b_transposed) {
        PackTransposed(B, ldb, P, n0, cols, nv * L, b_packed);
      }
      packed_panel = panel;
      ops.b = pack_in_tile ? B + p0 * ldb + n0 : b_packed;
      ops.b_row = pack_in_tile ? ldb : nv * L;
      ops.pack_to = b_packed;
      ops.c_init = p0 > 0 ? c_stored + i0 * c_ldc : nullptr;
      ops.c_ldc = c_ldc;
      TileDispatch(nv, pack_in_tile, indexed_a, pc, ops, i0, rows, n0, cols, epilogue,
                   row_tile == 0 ? b_sums : nullptr);
    }
  }
}

template <class Epilogue>
void Gemm(size_t M, size_t N, size_t P, const float* A, size_t a_row_stride,
          size_t a_inner_stride, const float* B, size_t ldb, bool b_transposed,
          const Epilogue& epilogue, float* b_sums, const IndexedMatrix* indexed = nullptr) {
#pragma omp parallel if (UseTeam(M * N * P >= kMinParallelWork))
  GemmShare(static_cast<size_t>(omp_get_num_threads()), static_cast<size_t>(omp_get_thread_num()),
            M, N, P, A, a_row_stride, a_inner_stride, B, ldb, b_transposed, epilogue, b_sums,
            indexed);
}

inline void DenseForward(size_t M, size_t K, size_t N, const float* X, const float* W,
                         const float* b, Activation act, float* Z, float* Y) {
  if (N <= kNarrowMaxN) return NarrowForward(M, K, N, X, W, b, act, Z, Y);
  Gemm(M, N, K, X, K, 1, W, N, /*b_transposed=*/false, ForwardEpilogue{Y, Z, b, act, N},
       nullptr);
}

inline void DenseBackwardInput(size_t M, size_t K, size_t N, const float* dY,
                               const float* W, Activation prev_act, const float* Z_prev,
                               const float* A_prev, float* dX) {
  // dX = dY W^T: B(p, n) = W[n, p], which each thread transposes panel by
  // panel as it needs them (a separate transpose of all of W before the
  // product was serial and took a third of the time on a 1024 square).
  Gemm(M, K, N, dY, N, 1, W, N, /*b_transposed=*/true,
       InputGradEpilogue{dX, Z_prev, A_prev, prev_act, K}, nullptr);
}

inline void DenseBackwardWeights(size_t M, size_t K, size_t N, const float* X,
                                 const float* dY, float* dW, float* db) {
  if (N <= kNarrowMaxN) return NarrowBackwardWeights(M, K, N, X, dY, dW, db);
  // dW = X^T dY: output row k reads column k of X, so A's row stride is 1
  // and its inner stride is K.
  Gemm(K, N, M, X, 1, K, dY, N, /*b_transposed=*/false, StoreEpilogue{dW, N}, db);
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_GEMM_INL_H_
