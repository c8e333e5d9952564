// std::vector with its buffer on a cache-line boundary.
//
// The kernels split a matrix's columns among threads in chunks of whole
// cache lines (64 floats), which only holds if the rows start on one: glibc
// places large allocations 16 bytes past a page boundary, so each row of a
// plain std::vector<float> put the last line of one thread's chunk and the
// first of the next thread's chunk on the same line, and the two cores
// passed it back and forth on every write (the fused RMSprop weight
// gradient ran 1.5x slower on 2 threads, bench_kernels).
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace mb {

constexpr size_t kCacheLine = 64;

template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}  // NOLINT: rebinding is implicit
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kCacheLine)));
  }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(kCacheLine)); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const CacheLineAllocator<U>&) const { return false; }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace mb
