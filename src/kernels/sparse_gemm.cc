// Run-time dispatch of the sparse first-layer kernels (see gemm.cc).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/sparse_gemm.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/sparse_gemm-inl.h"

#if HWY_ONCE
#include <algorithm>
#include <vector>

namespace mb {

HWY_EXPORT(BuildSparseBatch);
HWY_EXPORT(SparseDenseForward);
HWY_EXPORT(SparseDenseBackwardWeights);

void BuildSparseBatch(const uint8_t* images, size_t features, const uint32_t* order,
                      size_t first, size_t count, SparseBatch& batch) {
  HWY_DYNAMIC_DISPATCH(BuildSparseBatch)(images, features, order, first, count, batch);
}

void SparseDenseForward(const SparseBatch& X, const float* W, const float* b, size_t N,
                        Activation act, float* Z, float* Y) {
  HWY_DYNAMIC_DISPATCH(SparseDenseForward)(X, W, b, N, act, Z, Y);
}

bool SparseDenseBackwardWeights(const SparseBatch& X, const float* dY, size_t N, float* dW,
                                float* db, const SparseRmspropUpdate* update) {
  return HWY_DYNAMIC_DISPATCH(SparseDenseBackwardWeights)(X, dY, N, dW, db, update);
}

size_t SparseBatch::stored_span_features() const {
  size_t features = 0;
  for (size_t q = 0; q < blocks(); ++q) {
    for (size_t s = 0; s < kSpans; ++s) {
      const size_t group = q * kSpans + s;
      features += (span_start[group + 1] - span_start[group]) * (kSpanLast[s] - kSpanFirst[s] + 1);
    }
  }
  return features;
}

// Every buffer at the size BuildSparseBatch (sparse_gemm-inl.h) resizes it to.
size_t SparseBatchBytes(size_t rows, size_t features, size_t threads) {
  const size_t blocks = (features + kFeatureBlock - 1) / kFeatureBlock;
  const size_t cells = rows * blocks;  // a block of every sample
  const size_t per_cell = sizeof(uint16_t)                   // blocks_of_row
                          + sizeof(uint8_t)                  // spans_of_row
                          + kFeatureBlock * sizeof(uint8_t)  // pixels_of_row
                          + sizeof(uint32_t)                 // block_row
                          + kFeatureBlock * sizeof(float)    // block_value
                          + kFeatureBlock * sizeof(uint8_t);  // block_pixels
  const size_t offsets = 2 * rows                      // row_start, row_end
                         + (blocks + 1)                // block_start
                         + (blocks * kSpans + 1)       // span_start
                         + threads * blocks * kSpans;  // block_cursor
  return cells * per_cell + offsets * sizeof(uint32_t) + blocks /* block_used */;
}

// Counts the bytes equal to `value`: a compare per byte that GCC
// vectorises, where a histogram of all 256 values (a load and store per
// byte on one of 256 counters) took 50 ms of every run's set-up for
// MNIST's 47 million training pixels.
static size_t CountByte(const uint8_t* data, size_t count, uint8_t value) {
  size_t total = 0;
  constexpr size_t kChunk = 255;  // the most a byte-wide lane counter holds
  for (size_t begin = 0; begin < count; begin += kChunk) {
    const size_t end = std::min(count, begin + kChunk);
    uint8_t in_chunk = 0;
    for (size_t i = begin; i < end; ++i) in_chunk += data[i] == value;
    total += in_chunk;
  }
  return total;
}

double NonZeroFraction(const uint8_t* data, size_t count, const std::array<float, 256>& values) {
  if (count == 0) return 0.0;
  // The byte values that become zero: one for the usual scalings (0 / 255),
  // usually none after normalisation. With many, one pass over a
  // histogram is cheaper than a pass per value.
  std::vector<uint8_t> zeros;
  for (size_t byte = 0; byte < 256; ++byte) {
    if (values[byte] == 0.0f) zeros.push_back(static_cast<uint8_t>(byte));
  }
  size_t zero = 0;
  if (zeros.size() <= 4) {
    for (const uint8_t value : zeros) zero += CountByte(data, count, value);
  } else {
    std::array<size_t, 256> occurrences{};
    for (size_t i = 0; i < count; ++i) ++occurrences[data[i]];
    for (const uint8_t value : zeros) zero += occurrences[value];
  }
  return static_cast<double>(count - zero) / static_cast<double>(count);
}

}  // namespace mb
#endif  // HWY_ONCE
