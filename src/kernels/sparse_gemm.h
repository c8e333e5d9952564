// The first dense layer on sparse input. MNIST pixels are 81% zeros, so a
// product that skips zero inputs per sample does ~5x fewer multiply-adds
// than the dense one with exactly the same math: a product with x = 0 adds
// nothing, and the remaining terms are summed in the same ascending order
// (results equal the dense kernels' up to the sign of zero).
//
// The batch is held in compressed sparse column form: for each input
// feature k, the samples of the batch where it is non-zero. The kernels walk
// k in order, hold one row segment of W (or of the gradient) in registers,
// and update only the rows of the output those samples touch, so the
// per-non-zero work is a few L1 loads and stores rather than a pass over W:
// the product is bound by memory traffic, not by FMAs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/activation.h"

namespace mb {

// A batch of `rows` samples x `cols` features in CSC form, built from uint8
// pixels scaled as x / 255.0f. Buffers grow to the largest batch and are
// reused, so building one allocates nothing after the first step.
struct SparseBatch {
  size_t rows = 0, cols = 0;
  std::vector<uint32_t> col_start;  // cols + 1 offsets into row/value
  std::vector<uint32_t> row;        // the sample (row of the batch) of each non-zero
  std::vector<float> value;         // its scaled value
  // Scratch for building: each sample's non-zero features, in order.
  std::vector<uint16_t> features_of_row;
  std::vector<uint32_t> row_start;
  std::vector<uint32_t> column_cursor;

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

// As DenseBackwardWeights: dW = X^T dY ([X.cols, N]), db = column sums of dY.
void SparseDenseBackwardWeights(const SparseBatch& X, const float* dY, size_t N, float* dW,
                                float* db);

// The fraction of non-zero bytes in `count` bytes: decides, once per data
// set, whether the sparse kernels pay off.
double NonZeroFraction(const uint8_t* data, size_t count);

}  // namespace mb
