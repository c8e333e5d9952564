// The first dense layer on sparse input. MNIST pixels are 81% zeros, so a
// product that skips zero inputs per sample does ~5x fewer multiply-adds
// than the dense one with exactly the same math: a product with x = 0 adds
// nothing, and the remaining terms are summed in the same ascending order
// (results equal the dense kernels' up to the sign of zero).
//
// Both kernels walk the batch by feature (compressed columns): the forward
// product holds a slice of W's row k in registers and updates the output
// rows of the samples that use k, in an L1-resident block; the weight
// gradient holds a slice of dW's row k in registers and reads those
// samples' rows of dY from an L1-resident copy. W and dW stream through
// once per step; the cost is L1 traffic per non-zero, not FMAs. (Walking
// by sample instead, with the output row in registers, reads a slice of W
// per non-zero from L2 and measured 14% slower per epoch.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/activation.h"

namespace mb {

// A batch of `rows` samples x `cols` features in both compressed sparse
// column and row form, built from uint8 pixels scaled as x / 255.0f. Buffers grow to the largest batch and are
// reused, so building one allocates nothing after the first step.
struct SparseBatch {
  size_t rows = 0, cols = 0;
  std::vector<uint32_t> col_start;  // cols + 1 offsets into row/value
  std::vector<uint32_t> row;        // the sample (row of the batch) of each non-zero
  std::vector<float> value;         // its scaled value
  // The same non-zeros by sample (compressed sparse rows), the first step
  // of building the columns: sample m's features, ascending, are
  // features_of_row[row_start[m] .. row_end[m]).
  std::vector<uint32_t> row_start, row_end;
  std::vector<uint16_t> features_of_row;  // the feature of each non-zero
  std::vector<float> value_of_row;        // its scaled value
  std::vector<uint32_t> column_cursor;    // scratch for building: per thread, per feature

  size_t nonzeros() const { return col_start.empty() ? 0 : col_start[cols]; }
};

// Builds the CSC form of samples order[first .. first + count) (or first ..
// first + count when order is null) of `images` ([*, features] uint8).
// features must be < 65536.
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

// The fraction of non-zero bytes in `count` bytes: decides, once per data
// set, whether the sparse kernels pay off.
double NonZeroFraction(const uint8_t* data, size_t count);

}  // namespace mb
