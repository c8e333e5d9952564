// The first dense layer on sparse input. MNIST pixels are 81% zeros, so a
// product that skips zero inputs per sample does far fewer multiply-adds
// than the dense one with the same math: a product with x = 0 adds nothing,
// and the remaining terms are summed in the same ascending order (results
// equal the dense kernels' up to the sign of zero).
//
// The batch is stored in blocks of kFeatureBlock consecutive features
// (block-compressed columns): a sample's block is stored when any of its
// pixels is non-zero, with the zeros of the block kept. Handwriting comes in
// strokes, so neighbouring pixels are lit together: on MNIST a stored
// 1x4 block holds 2.7 non-zeros on average (0.37 blocks per non-zero). Both
// kernels walk the batch by block: the forward product holds the chunk's
// segments of W's kFeatureBlock rows in registers and applies all of them
// to each stored sample's output row with one load and one store, where
// walking single features took a load and a store per non-zero (the stores
// were the bound); the weight gradient holds kFeatureBlock rows of dW in
// registers and reads each stored sample's row of dY once for all of them.
// A padded zero contributes x * w = 0 to a sum that is not -0, so the
// results are those of skipping it.
//
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/pixel_scale.h"
#include "kernels/activation.h"

namespace mb {

// Features per block of the block-compressed batch (see above). Measured on
// the baseline (interleaved runs): blocks of 2 train 5% slower than 4 (more
// loads and stores), blocks of 8 21% slower (half-empty blocks, and their
// rows of W no longer fit the registers).
constexpr size_t kFeatureBlock = 4;

// A stored block's span: its first to its last non-zero feature. Strokes
// light runs of neighbouring pixels, so on MNIST 98% of the stored blocks
// are lit exactly over their span (1111 34%, 0111 or 1110 22%, 0011, 0110 or
// 1100 32%, one pixel 21%), and the kernels multiply only the span's
// features: 2.7 multiply-adds per stored block instead of 4. The 10 spans,
// numbered in this order, are (first, last) = (0,0) (0,1) (0,2) (0,3) (1,1)
// (1,2) (1,3) (2,2) (2,3) (3,3).
constexpr size_t kSpans = 10;
constexpr size_t kSpanFirst[kSpans] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 3};
constexpr size_t kSpanLast[kSpans] = {0, 1, 2, 3, 1, 2, 3, 2, 3, 3};

// A batch of `rows` samples x `cols` features as block-compressed columns,
// built from uint8 pixels scaled as x / 255.0f. Buffers grow to the largest
// batch and are reused, so building one allocates nothing after the first
// step.
struct SparseBatch {
  size_t rows = 0, cols = 0;
  // Block q covers features [q * kFeatureBlock, (q + 1) * kFeatureBlock); its
  // stored samples are block_row[block_start[q] .. block_start[q + 1]),
  // grouped by span: those of span s are block_row[span_start[q * kSpans +
  // s] .. span_start[q * kSpans + s + 1]), ascending. Each has kFeatureBlock
  // values in block_value (zero where the pixel is zero or past cols).
  std::vector<uint32_t> block_start;  // blocks() + 1 offsets
  std::vector<uint32_t> span_start;   // blocks() * kSpans + 1 offsets
  std::vector<uint32_t> block_row;
  std::vector<float> block_value;
  // Bit i of block_used[q]: feature q * kFeatureBlock + i is non-zero in
  // some sample of the batch.
  std::vector<uint8_t> block_used;
  // The same blocks by sample, the first step of building the columns:
  // sample m's blocks, ascending, are blocks_of_row[row_start[m] ..
  // row_end[m]), with their spans in spans_of_row and their kFeatureBlock
  // pixels each in pixels_of_row (bytes, a quarter of the floats that the
  // other thread reads back).
  std::vector<uint32_t> row_start, row_end;
  std::vector<uint16_t> blocks_of_row;
  std::vector<uint8_t> spans_of_row;
  std::vector<uint8_t> pixels_of_row;
  // Scratch for building: per thread, per block and span counts; the
  // columns' pixels as bytes in block_value's order, scaled to floats in
  // bulk.
  std::vector<uint32_t> block_cursor;
  std::vector<uint8_t> block_pixels;

  size_t blocks() const { return (cols + kFeatureBlock - 1) / kFeatureBlock; }
  size_t stored_blocks() const { return block_start.empty() ? 0 : block_start[blocks()]; }
  // The multiply-adds per output column of a product with this batch.
  size_t stored_span_features() const;
};

// The bytes a SparseBatch's buffers grow to for batches of up to `rows`
// samples of `features`, built on `threads` threads (for budgeting memory
// before the first batch is built).
size_t SparseBatchBytes(size_t rows, size_t features, size_t threads);

// Builds the block-compressed form of samples order[first .. first + count)
// (or first .. first + count when order is null) of `images` ([*, features]
// uint8). features must be < 65536.
void BuildSparseBatch(const uint8_t* images, size_t features, const uint32_t* order,
                      size_t first, size_t count, SparseBatch& batch);

// As DenseForward (gemm.h) with X given as a sparse batch: Z = X W + b,
// Y = act(Z); W is [X.cols, N].
void SparseDenseForward(const SparseBatch& X, const float* W, const float* b, size_t N,
                        Activation act, float* Z, float* Y);

// Keras' RMSprop applied to W inside the weight-gradient kernel: each row
// segment of dW is used while it is in registers, never stored.
struct SparseRmspropUpdate {
  float* W;         // [X.cols, N], updated in place
  float* velocity;  // RMSprop's v for W, same shape
  float learning_rate, rho, epsilon;
};

// As DenseBackwardWeights: dW = X^T dY ([X.cols, N]), db = column sums of dY.
// With `update` (and N a multiple of the SIMD width, so the whole row is
// covered by vectors), W and its velocity are updated instead and dW is
// left untouched; returns whether that happened. The bias gradient is
// always written.
bool SparseDenseBackwardWeights(const SparseBatch& X, const float* dY, size_t N, float* dW,
                                float* db, const SparseRmspropUpdate* update = nullptr);

// The fraction of the `count` pixels whose value as an input (values[pixel])
// is not zero: by default the non-zero bytes. Decides, once per data set,
// whether the sparse kernels pay off.
double NonZeroFraction(const uint8_t* data, size_t count,
                       const std::array<float, 256>& values = PixelScale());

}  // namespace mb
