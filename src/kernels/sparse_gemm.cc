// Run-time dispatch of the sparse first-layer kernels (see gemm.cc).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/sparse_gemm.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/sparse_gemm-inl.h"

#if HWY_ONCE
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

double NonZeroFraction(const uint8_t* data, size_t count, const std::array<float, 256>& values) {
  if (count == 0) return 0.0;
  std::array<size_t, 256> occurrences{};
  for (size_t i = 0; i < count; ++i) ++occurrences[data[i]];
  size_t nonzero = 0;
  for (size_t byte = 0; byte < 256; ++byte) nonzero += values[byte] != 0.0f ? occurrences[byte] : 0;
  return static_cast<double>(nonzero) / static_cast<double>(count);
}

}  // namespace mb
#endif  // HWY_ONCE
