// Copies of GEMM operands into the layouts the micro-kernels stream, and the
// scratch they live in. Included by gemm-inl.h and narrow_gemm-inl.h.

// Per-target include guard (Highway's idiom for -inl.h files).
#if defined(MB_KERNELS_PACK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_PACK_INL_H_
#undef MB_KERNELS_PACK_INL_H_
#else
#define MB_KERNELS_PACK_INL_H_
#endif

#include <algorithm>
#include <cstddef>

#include "hwy/aligned_allocator.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Scratch for packed operands, grown on demand and kept: after the first
// step of training no product allocates.
class PackBuffer {
 public:
  float* Get(size_t floats) {
    if (floats > capacity_) {
      buffer_ = hwy::AllocateAligned<float>(floats);
      capacity_ = floats;
    }
    return buffer_.get();
  }

 private:
  hwy::AlignedFreeUniquePtr<float[]> buffer_;
  size_t capacity_ = 0;
};

// packed[p * stride + c] = B[(n0 + c) * ldb + p] for p < P, c < cols, and
// zero for c in [cols, stride): columns [n0, n0 + cols) of a transposed
// matrix (B(p, n) = B[n * ldb + p], such as W^T in the input gradient) as P
// contiguous rows, the layout the micro-kernels stream. Whole 4 x 4 blocks
// go through registers: four 4-float loads from four rows of B, a
// transpose, four stores (copying element by element took 15-20% of the
// 10-unit layer's input gradient); the rest is copied one element at a
// time. Rows are handled kPackBlockRows at a time so that the block being
// written stays in L1.
constexpr size_t kPackBlockRows = 64;
inline void PackTransposed(const float* B, size_t ldb, size_t P, size_t n0, size_t cols,
                           size_t stride, float* HWY_RESTRICT packed) {
  size_t whole_cols = 0, whole_rows = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::FixedTag<float, 4> d4;
  whole_cols = cols / 4 * 4;
  whole_rows = P / 4 * 4;
  for (size_t p0 = 0; p0 < whole_rows; p0 += kPackBlockRows) {
    const size_t p1 = std::min(whole_rows, p0 + kPackBlockRows);
    for (size_t c = 0; c < whole_cols; c += 4) {
      const float* src = B + (n0 + c) * ldb;
      for (size_t p = p0; p < p1; p += 4) {
        const auto r0 = hn::LoadU(d4, src + p);
        const auto r1 = hn::LoadU(d4, src + ldb + p);
        const auto r2 = hn::LoadU(d4, src + 2 * ldb + p);
        const auto r3 = hn::LoadU(d4, src + 3 * ldb + p);
        const auto lower01 = hn::InterleaveLower(d4, r0, r1);
        const auto lower23 = hn::InterleaveLower(d4, r2, r3);
        const auto upper01 = hn::InterleaveUpper(d4, r0, r1);
        const auto upper23 = hn::InterleaveUpper(d4, r2, r3);
        float* dst = packed + p * stride + c;
        hn::StoreU(hn::ConcatLowerLower(d4, lower23, lower01), d4, dst);
        hn::StoreU(hn::ConcatUpperUpper(d4, lower23, lower01), d4, dst + stride);
        hn::StoreU(hn::ConcatLowerLower(d4, upper23, upper01), d4, dst + 2 * stride);
        hn::StoreU(hn::ConcatUpperUpper(d4, upper23, upper01), d4, dst + 3 * stride);
      }
    }
  }
#endif
  for (size_t c = 0; c < cols; ++c) {
    const float* src = B + (n0 + c) * ldb;
    for (size_t p = c < whole_cols ? whole_rows : 0; p < P; ++p) packed[p * stride + c] = src[p];
  }
  for (size_t p = 0; p < P; ++p) {
    for (size_t c = cols; c < stride; ++c) packed[p * stride + c] = 0.0f;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_PACK_INL_H_
