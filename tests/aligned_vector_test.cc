// AlignedVector: every buffer on a cache line; large buffers staggered so
// that buffers used side by side (W and its velocity) do not map to the
// same cache sets.
#include "common/aligned_vector.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <set>

namespace mb {
namespace {

uintptr_t Address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

TEST_CASE("AlignedVector buffers start on a cache line", "[kernels]") {
  for (size_t n : {1u, 7u, 1000u, 300000u, 1u << 20}) {
    AlignedVector<float> v(n, 1.0f);
    CHECK(Address(v.data()) % kCacheLine == 0);
  }
}

TEST_CASE("Large AlignedVector buffers start at different cache sets", "[kernels]") {
  // 1.6 MB each, the size of the baseline's first-layer weights.
  const size_t n = 784 * 512;
  std::vector<AlignedVector<float>> buffers;
  std::set<uintptr_t> l1_offsets, page_offsets;
  for (int i = 0; i < 16; ++i) {
    buffers.emplace_back(n, static_cast<float>(i));
    const uintptr_t address = Address(buffers.back().data());
    CHECK(address % kCacheLine == 0);
    l1_offsets.insert(address % 4096);
    page_offsets.insert(address % kHugePage);
  }
  CHECK(l1_offsets.size() == 16);
  CHECK(page_offsets.size() == 16);
  // Every byte is usable, and growing one keeps its contents.
  for (int i = 0; i < 16; ++i) {
    CHECK(buffers[i].front() == static_cast<float>(i));
    CHECK(buffers[i].back() == static_cast<float>(i));
  }
  buffers[3].resize(2 * n, -1.0f);
  CHECK(buffers[3][n - 1] == 3.0f);
  CHECK(buffers[3][2 * n - 1] == -1.0f);
  CHECK(Address(buffers[3].data()) % kCacheLine == 0);
}

}  // namespace
}  // namespace mb
