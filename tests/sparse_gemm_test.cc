// The sparse first-layer kernels against the dense reference on every SIMD
// target, on odd shapes and densities, and the sparse batch's two forms
// against a plain scan of the pixels.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>

#include <omp.h>

#include <cmath>
#include <vector>

#include "hwy/targets.h"
#include "kernels/gemm.h"
#include "kernels/sparse_gemm.h"

namespace mb {
namespace {

std::vector<uint8_t> Pixels(size_t count, uint32_t seed, int percent_nonzero) {
  std::vector<uint8_t> pixels(count);
  uint32_t s = seed * 2654435761u + 7;
  for (uint8_t& p : pixels) {
    s = s * 1664525u + 1013904223u;
    p = static_cast<int>((s >> 8) % 100) < percent_nonzero ? static_cast<uint8_t>(1 + (s >> 24) % 255) : 0;
  }
  return pixels;
}

std::vector<float> Floats(size_t count, uint32_t seed) {
  std::vector<float> v(count);
  uint32_t s = seed;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}

std::vector<float> ToDense(const std::vector<uint8_t>& pixels) {
  std::vector<float> x(pixels.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(pixels[i]) / 255.0f;
  return x;
}

void RequireClose(const std::vector<float>& actual, const std::vector<float>& expected,
                  const char* what) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!(std::fabs(actual[i] - expected[i]) <= 1e-4f * (1.0f + std::fabs(expected[i])))) {
      FAIL(what << ": element " << i << " is " << actual[i] << ", reference " << expected[i]);
    }
  }
}

struct Case {
  size_t M, K, N;
  int percent;
};
const Case kCases[] = {{1, 1, 1, 100}, {3, 17, 5, 50},  {128, 784, 512, 19}, {96, 784, 10, 19},
                       {7, 785, 127, 5}, {33, 64, 300, 0}, {17, 100, 129, 90}};

// The block structure, the spans and the scaled values against a direct scan of the
// pixels, on every target (the build compresses a vector of blocks at a
// time and scales the bytes in bulk), at 1-3 threads. K = 130 is not a
// multiple of kFeatureBlock (a partial last block) and leaves a scalar tail
// after the vectors; K = 784 is MNIST's. Every byte value occurs, so each
// scaled value is checked against x / 255.0f.
TEST_CASE("Sparse batch stores every block with a non-zero pixel by row and by column",
          "[kernels]") {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    for (const size_t K : {size_t{130}, size_t{784}}) {
      const size_t M = 37;
      const size_t blocks = (K + kFeatureBlock - 1) / kFeatureBlock;
      auto images = Pixels(100 * K, 3, 25);
      std::vector<uint32_t> order(100);
      for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>((i * 37) % 100);
      for (size_t v = 0; v < 256; ++v) {  // distinct (sample, feature) for each v
        images[order[5 + v % M] * K + v * 3 % K] = static_cast<uint8_t>(v);
      }
      // The pixel of sample m (of the batch) and feature k, 0 past K.
      auto pixel = [&](size_t m, size_t k) -> uint8_t {
        return k < K ? images[order[5 + m] * K + k] : 0;
      };
      for (int threads : {1, 2, 3}) {
        INFO("target " << hwy::TargetName(target) << " K " << K << " threads " << threads);
        omp_set_num_threads(threads);
        SparseBatch batch;
        BuildSparseBatch(images.data(), K, order.data(), 5, M, batch);
        REQUIRE(batch.blocks() == blocks);
        size_t expected_total = 0;
        std::vector<uint8_t> expected_used(blocks, 0);
        for (size_t m = 0; m < M; ++m) {
          std::vector<uint16_t> expected;
          for (size_t q = 0; q < blocks; ++q) {
            bool lit = false;
            for (size_t i = 0; i < kFeatureBlock; ++i) {
              if (pixel(m, q * kFeatureBlock + i) != 0) {
                lit = true;
                expected_used[q] |= static_cast<uint8_t>(1u << i);
              }
            }
            if (lit) expected.push_back(static_cast<uint16_t>(q));
          }
          expected_total += expected.size();
          const std::vector<uint16_t> actual(batch.blocks_of_row.begin() + batch.row_start[m],
                                             batch.blocks_of_row.begin() + batch.row_end[m]);
          REQUIRE(actual == expected);
        }
        REQUIRE(batch.stored_blocks() == expected_total);
        for (size_t q = 0; q < blocks; ++q) {
          REQUIRE(batch.block_used[q] == expected_used[q]);
          REQUIRE(batch.span_start[q * kSpans] == batch.block_start[q]);
          std::vector<uint32_t> samples;
          for (size_t span = 0; span < kSpans; ++span) {
            INFO("block " << q << " span " << span);
            const uint32_t begin = batch.span_start[q * kSpans + span];
            for (uint32_t e = begin; e < batch.span_start[q * kSpans + span + 1]; ++e) {
              const uint32_t m = batch.block_row[e];
              samples.push_back(m);
              if (e > begin) REQUIRE(batch.block_row[e - 1] < m);  // ascending in a span
              size_t first = kFeatureBlock, last = 0;
              for (size_t i = 0; i < kFeatureBlock; ++i) {
                const uint8_t p = pixel(m, q * kFeatureBlock + i);
                REQUIRE(batch.block_value[e * kFeatureBlock + i] == static_cast<float>(p) / 255.0f);
                if (p != 0) first = std::min(first, i), last = i;
              }
              REQUIRE(first == kSpanFirst[span]);  // the span of its lit pixels
              REQUIRE(last == kSpanLast[span]);
            }
          }
          REQUIRE(batch.span_start[(q + 1) * kSpans] == batch.block_start[q + 1]);
          // Every sample that lights the block, once.
          std::sort(samples.begin(), samples.end());
          REQUIRE(std::adjacent_find(samples.begin(), samples.end()) == samples.end());
        }
      }
    }
  }
  hwy::SetSupportedTargetsForTest(0);
  omp_set_num_threads(omp_get_num_procs());
}

TEST_CASE("Sparse forward and weight gradient match the dense reference on every target",
          "[kernels]") {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    INFO("target " << hwy::TargetName(target));
    for (const Case& c : kCases) {
      INFO("M=" << c.M << " K=" << c.K << " N=" << c.N << " density=" << c.percent);
      const auto pixels = Pixels(c.M * c.K, 11, c.percent);
      const auto X = ToDense(pixels);
      const auto W = Floats(c.K * c.N, 12), b = Floats(c.N, 13), dY = Floats(c.M * c.N, 14);
      SparseBatch batch;
      BuildSparseBatch(pixels.data(), c.K, nullptr, 0, c.M, batch);
      for (Activation act : {Activation::kRelu, Activation::kLinear, Activation::kTanh,
                             Activation::kGelu}) {
        std::vector<float> Z(c.M * c.N), Y(c.M * c.N), Zr(c.M * c.N), Yr(c.M * c.N);
        SparseDenseForward(batch, W.data(), b.data(), c.N, act, Z.data(), Y.data());
        reference::DenseForward(c.M, c.K, c.N, X.data(), W.data(), b.data(), act, Zr.data(),
                                Yr.data());
        RequireClose(Z, Zr, "Z");
        RequireClose(Y, Yr, "Y");
      }
      std::vector<float> dW(c.K * c.N), db(c.N), dWr(c.K * c.N), dbr(c.N);
      SparseDenseBackwardWeights(batch, dY.data(), c.N, dW.data(), db.data());
      reference::DenseBackwardWeights(c.M, c.K, c.N, X.data(), dY.data(), dWr.data(),
                                      dbr.data());
      RequireClose(dW, dWr, "dW");
      RequireClose(db, dbr, "db");
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST_CASE("Sparse and dense kernels agree up to float rounding", "[kernels]") {
  const size_t M = 128, K = 784, N = 512;
  const auto pixels = Pixels(M * K, 21, 19);
  const auto X = ToDense(pixels);
  const auto W = Floats(K * N, 22), b = Floats(N, 23), dY = Floats(M * N, 24);
  SparseBatch batch;
  BuildSparseBatch(pixels.data(), K, nullptr, 0, M, batch);
  std::vector<float> Ys(M * N), Yd(M * N), dWs(K * N), dWd(K * N), dbs(N), dbd(N);
  SparseDenseForward(batch, W.data(), b.data(), N, Activation::kRelu, nullptr, Ys.data());
  DenseForward(M, K, N, X.data(), W.data(), b.data(), Activation::kRelu, nullptr, Yd.data());
  SparseDenseBackwardWeights(batch, dY.data(), N, dWs.data(), dbs.data());
  DenseBackwardWeights(M, K, N, X.data(), dY.data(), dWd.data(), dbd.data());
  RequireClose(Ys, Yd, "Y");
  RequireClose(dWs, dWd, "dW");
  RequireClose(dbs, dbd, "db");
}

TEST_CASE("Sparse kernels are bitwise identical at 1, 2 and 4 threads", "[kernels]") {
  const size_t M = 128, K = 784, N = 512;
  const auto pixels = Pixels(M * K, 31, 19);
  const auto W = Floats(K * N, 32), b = Floats(N, 33), dY = Floats(M * N, 34);
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    SparseBatch batch;
    BuildSparseBatch(pixels.data(), K, nullptr, 0, M, batch);
    std::vector<float> out(M * N + K * N + N);
    SparseDenseForward(batch, W.data(), b.data(), N, Activation::kRelu, nullptr, out.data());
    SparseDenseBackwardWeights(batch, dY.data(), N, out.data() + M * N,
                               out.data() + M * N + K * N);
    return out;
  };
  const auto one = run(1);
  CHECK(one == run(2));
  CHECK(one == run(4));
  omp_set_num_threads(omp_get_num_procs());
}

// Every buffer's bytes, as allocated.
template <class T>
size_t CapacityBytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

TEST_CASE("SparseBatchBytes is what a built batch allocates", "[kernels]") {
  // MNIST's 784 features and an odd width, full and sparse batches: the
  // buffers do not depend on the density.
  for (const size_t K : {size_t{784}, size_t{37}}) {
    for (const int percent : {100, 19}) {
      INFO("K " << K << ", " << percent << "% non-zero");
      const size_t M = 128;
      const std::vector<uint8_t> pixels = Pixels(M * K, 11, percent);
      SparseBatch batch;
      BuildSparseBatch(pixels.data(), K, nullptr, 0, M, batch);
      const size_t allocated =
          CapacityBytes(batch.block_start) + CapacityBytes(batch.span_start) +
          CapacityBytes(batch.block_row) + CapacityBytes(batch.block_value) +
          CapacityBytes(batch.block_used) + CapacityBytes(batch.row_start) +
          CapacityBytes(batch.row_end) + CapacityBytes(batch.blocks_of_row) +
          CapacityBytes(batch.spans_of_row) + CapacityBytes(batch.pixels_of_row) +
          CapacityBytes(batch.block_cursor) + CapacityBytes(batch.block_pixels);
      CHECK(allocated == SparseBatchBytes(M, K, static_cast<size_t>(omp_get_max_threads())));
    }
  }
}

TEST_CASE("NonZeroFraction counts non-zero bytes", "[kernels]") {
  const uint8_t bytes[] = {0, 1, 0, 255, 0, 0, 7, 0};
  CHECK(NonZeroFraction(bytes, 8) == 3.0 / 8.0);
  CHECK(NonZeroFraction(bytes, 0) == 0.0);
}

// The fraction by a histogram of every byte, as NonZeroFraction once did.
double HistogramNonZeroFraction(const std::vector<uint8_t>& data,
                                const std::array<float, 256>& values) {
  size_t nonzero = 0;
  for (const uint8_t byte : data) nonzero += values[byte] != 0.0f;
  return static_cast<double>(nonzero) / static_cast<double>(data.size());
}

TEST_CASE("NonZeroFraction equals a histogram's count for any table of values", "[kernels]") {
  // Counts past the byte-wide counters' 255 and odd lengths; every byte
  // value present.
  std::vector<uint8_t> data = Pixels(100003, 5, 30);
  for (size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<uint8_t>(i * 13);
  std::array<float, 256> scaled{}, normalised{}, two_zeros{}, many_zeros{};
  for (size_t b = 0; b < 256; ++b) {
    scaled[b] = static_cast<float>(b) / 255.0f;
    normalised[b] = (static_cast<float>(b) / 255.0f - 0.1307f) / 0.3081f;
    two_zeros[b] = b == 3 || b == 200 ? -0.0f : 1.0f;
    many_zeros[b] = b % 3 == 0 ? 0.0f : std::nanf("");  // NaN counts as non-zero
  }
  for (const auto* values : {&scaled, &normalised, &two_zeros, &many_zeros}) {
    CHECK(NonZeroFraction(data.data(), data.size(), *values) ==
          HistogramNonZeroFraction(data, *values));
  }
  CHECK(NonZeroFraction(data.data(), data.size(), normalised) == 1.0);
  const std::vector<uint8_t> zeros(1000, 0);
  CHECK(NonZeroFraction(zeros.data(), zeros.size()) == 0.0);
}

}  // namespace
}  // namespace mb
