// Loads and stores of a row segment of up to one vector at the right edge of
// a matrix, where the vector would reach past the row's last column.
// Included by the kernels whose epilogues walk rows a vector at a time.

// Per-target include guard (Highway's idiom for -inl.h files).
#if defined(MB_KERNELS_MASKED_SEGMENT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_MASKED_SEGMENT_INL_H_
#undef MB_KERNELS_MASKED_SEGMENT_INL_H_
#else
#define MB_KERNELS_MASKED_SEGMENT_INL_H_
#endif

#include <cstddef>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Where the vector of L channels after the one at c starts: c + L, or C - L
// when a whole vector no longer fits, overlapping channels already done
// (C >= L; loops stop after the vector that ends at C). For element-wise
// work, where redoing a lane gives the same value again: masked segments
// cost more (AMD's Zen 5 ran masked loads that split cache lines five times
// slower), and scalar tails left a third of the data to scalar loops at 24
// channels on 16 lanes.
inline size_t NextVector(size_t c, size_t L, size_t C) {
  return c + 2 * L > C ? C - L : c + L;
}

// AVX2 and AVX-512 have true masked loads and stores that never touch memory
// past the mask; on older targets Highway's MaskedLoad/BlendedStore access
// the whole vector, which could fault past the end of a buffer or race with
// the thread that owns the neighbouring columns, so the segment goes through
// a stack buffer instead. Lanes past the mask load as zero.
template <class D, class M>
HWY_INLINE hn::Vec<D> LoadSegment(D d, const float* p, bool partial, M mask) {
  if (!partial) return hn::LoadU(d, p);
#if HWY_TARGET <= HWY_AVX2
  return hn::MaskedLoad(mask, d, p);
#else
  HWY_ALIGN float buffer[hn::MaxLanes(d)] = {};
  const size_t count = hn::CountTrue(d, mask);
  for (size_t i = 0; i < count; ++i) buffer[i] = p[i];
  return hn::Load(d, buffer);
#endif
}

template <class D, class M>
HWY_INLINE void StoreSegment(D d, hn::Vec<D> v, float* p, bool partial, M mask) {
  if (!partial) return hn::StoreU(v, d, p);
#if HWY_TARGET <= HWY_AVX2
  hn::BlendedStore(v, mask, d, p);
#else
  HWY_ALIGN float buffer[hn::MaxLanes(d)];
  hn::Store(v, d, buffer);
  const size_t count = hn::CountTrue(d, mask);
  for (size_t i = 0; i < count; ++i) p[i] = buffer[i];
#endif
}

// Calls body(d, i, partial, mask) for i = 0, L, 2L, ... below n: the vectors
// of a row of n floats, the last one partial when L does not divide n (mask
// then holds its first n - i lanes), so that every element of the row goes
// through the same vector code.
template <class Body>
HWY_INLINE void ForEachSegment(size_t n, const Body& body) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  for (size_t i = 0; i < n; i += L) body(d, i, n - i < L, hn::FirstN(d, n - i));
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_MASKED_SEGMENT_INL_H_
