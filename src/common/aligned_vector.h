// std::vector with its buffer on a cache-line boundary, and large buffers
// on transparent huge pages.
//
// The kernels split a matrix's columns among threads in chunks of whole
// cache lines (64 floats), which only holds if the rows start on one: glibc
// places large allocations 16 bytes past a page boundary, so each row of a
// plain std::vector<float> put the last line of one thread's chunk and the
// first of the next thread's chunk on the same line, and the two cores
// passed it back and forth on every write (the fused RMSprop weight
// gradient ran 1.5x slower on 2 threads, bench_kernels).
//
// Buffers of kHugeMin bytes or more (the weights, their optimizer state and
// the activations of large batches) are asked to live on 2 MiB pages: the
// sparse first layer reads its weight and velocity rows in data-dependent
// order, and with 4 KiB pages every other row was a new page for the TLB.
// Each such buffer starts at a different offset into its first huge page:
// aligned alike, W[i] and v[i] fell on the same cache sets and training ran
// 1.09x slower than on plain pages; staggered, 0.94x (16 interleaved runs of
// the baseline, training seconds, median of the per-pair ratio).
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <new>
#include <vector>

namespace mb {

constexpr size_t kCacheLine = 64;
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugeMin = size_t{1} << 20;

// Where the next large buffer starts within its first huge page: 16
// offsets, distinct modulo 4 KiB (the L1 set period) and modulo 128 KiB
// (the L2's), at least a cache line in so the allocation's own address can
// sit just before the buffer.
constexpr size_t kHugeOffsets = 16;
constexpr size_t HugeOffset(size_t i) { return kCacheLine * (1 + 37 * (i % kHugeOffsets)); }
inline size_t NextHugeOffset() {
  static std::atomic<size_t> counter{0};
  return HugeOffset(counter.fetch_add(1, std::memory_order_relaxed));
}

// The bytes an AlignedVector holding `bytes` bytes takes from the system at
// most: a large one is rounded up to whole huge pages from its offset on
// (for budgeting memory before allocating it).
constexpr size_t AlignedAllocationBytes(size_t bytes) {
  if (bytes < kHugeMin) return bytes;
  const size_t largest_offset = HugeOffset(kHugeOffsets - 1);
  return (largest_offset + bytes + kHugePage - 1) / kHugePage * kHugePage;
}

inline void* AllocateHuge(size_t bytes) {
  const size_t offset = NextHugeOffset();
  const size_t rounded = (offset + bytes + kHugePage - 1) / kHugePage * kHugePage;
  char* base = static_cast<char*>(::operator new(rounded, std::align_val_t(kHugePage)));
  madvise(base, rounded, MADV_HUGEPAGE);  // advice: plain pages if refused
  char* buffer = base + offset;
  reinterpret_cast<void**>(buffer)[-1] = base;
  return buffer;
}

inline void FreeHuge(void* buffer) {
  ::operator delete(static_cast<void**>(buffer)[-1], std::align_val_t(kHugePage));
}

template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}  // NOLINT: rebinding is implicit
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes >= kHugeMin) return static_cast<T*>(AllocateHuge(bytes));
    return static_cast<T*>(::operator new(bytes, std::align_val_t(kCacheLine)));
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) >= kHugeMin) return FreeHuge(p);
    ::operator delete(p, std::align_val_t(kCacheLine));
  }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const CacheLineAllocator<U>&) const { return false; }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace mb
