// Conv2D through im2col and the dense products, and max pooling, against
// direct loops: on every SIMD target, valid and same padding, strides, and
// at 1, 2 and 4 threads bitwise alike.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <omp.h>

#include "kernel_test_support.h"
#include "kernels/batch_halves.h"
#include "kernels/conv2d.h"
#include "kernels/max_pooling2d.h"

namespace mb {
namespace {

struct ConvCase {
  size_t batch, height, width, channels, filters, kernel_h, kernel_w, stride_h, stride_w;
  Padding padding;
};
// The convnets' shapes (the book's 3x3 layers, the speedrun's 5x5 on one
// channel, with 24 and 16 filters: on one thread and AVX-512 the weight
// gradient of the latter is one item, on more its taps split in two) and
// odd ones: a kernel wider than tall, strides, "same" padding
// that is uneven, and a kernel larger than the image.
const ConvCase kCases[] = {
    {2, 5, 5, 1, 3, 3, 3, 1, 1, Padding::kValid},   {3, 7, 6, 2, 4, 3, 2, 2, 1, Padding::kSame},
    {2, 28, 28, 1, 32, 3, 3, 1, 1, Padding::kValid}, {2, 13, 13, 32, 64, 3, 3, 1, 1, Padding::kValid},
    {1, 4, 4, 3, 5, 5, 5, 1, 1, Padding::kSame},    {2, 9, 9, 3, 2, 3, 3, 2, 2, Padding::kSame},
    {2, 12, 12, 1, 24, 5, 5, 1, 1, Padding::kValid}, {1, 6, 5, 2, 3, 2, 3, 3, 2, Padding::kValid},
    {2, 12, 12, 1, 16, 5, 5, 1, 1, Padding::kValid},
};

WindowShape ShapeOf(const ConvCase& c) {
  return MakeWindowShape(c.batch, c.height, c.width, c.channels, c.kernel_h, c.kernel_w,
                         c.stride_h, c.stride_w, c.padding);
}

std::string Describe(const ConvCase& c) {
  return std::to_string(c.batch) + "x" + std::to_string(c.height) + "x" + std::to_string(c.width) +
         "x" + std::to_string(c.channels) + " -> " + std::to_string(c.filters) + " filters " +
         std::to_string(c.kernel_h) + "x" + std::to_string(c.kernel_w) + " stride " +
         std::to_string(c.stride_h) + "," + std::to_string(c.stride_w) +
         (c.padding == Padding::kSame ? " same" : " valid");
}

TEST_CASE("Window shapes follow Keras' valid and same padding", "[kernels]") {
  WindowShape s = MakeWindowShape(1, 28, 28, 1, 3, 3, 1, 1, Padding::kValid);
  CHECK((s.out_h == 26 && s.out_w == 26 && s.pad_top == 0 && s.pad_left == 0));
  CHECK(s.patch() == 9);
  CHECK(s.rows() == 26 * 26);
  s = MakeWindowShape(1, 13, 13, 1, 2, 2, 2, 2, Padding::kValid);  // MaxPooling2D(2) on 13
  CHECK((s.out_h == 6 && s.out_w == 6));
  s = MakeWindowShape(1, 7, 7, 1, 3, 3, 2, 2, Padding::kSame);
  // ceil(7 / 2) = 4; total padding (4 - 1) * 2 + 3 - 7 = 2: one each side.
  CHECK((s.out_h == 4 && s.pad_top == 1));
  s = MakeWindowShape(1, 6, 6, 1, 2, 2, 1, 1, Padding::kSame);
  // Total padding 1: none before, one after (TensorFlow's choice).
  CHECK((s.out_h == 6 && s.pad_top == 0));
  s = MakeWindowShape(1, 3, 3, 1, 5, 5, 1, 1, Padding::kValid);
  CHECK((s.out_h == 0 && s.out_w == 0));
}

TEST_CASE("Conv2D forward matches direct loops on every target", "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (const ConvCase& c : kCases) {
      for (Activation act : {Activation::kLinear, Activation::kRelu, Activation::kGelu}) {
        INFO(Describe(c) << " act " << ActivationName(act));
        const WindowShape s = ShapeOf(c);
        const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 1, 0.5f);
        const auto W = RandomMatrix(s.patch() * c.filters, 2);
        const auto b = RandomMatrix(c.filters, 3);
        std::vector<float> Z(s.rows() * c.filters), Y(Z.size()), Yr(Z.size());
        Conv2DForward(s, c.filters, x.data(), W.data(), b.data(), act, Z.data(), Y.data());
        reference::Conv2DForward(s, c.filters, x.data(), W.data(), b.data(), act, Yr.data());
        RequireClose(Y, Yr, 1e-4f, "Y");
      }
    }
  });
}

TEST_CASE("Conv2D gradients match direct loops on every target", "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (const ConvCase& c : kCases) {
      INFO(Describe(c));
      const WindowShape s = ShapeOf(c);
      const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 4, 0.5f);
      const auto W = RandomMatrix(s.patch() * c.filters, 5);
      const auto dY = RandomMatrix(s.rows() * c.filters, 6);
      std::vector<float> dW(W.size()), db(c.filters), dWr(W.size()), dbr(c.filters);
      Conv2DBackwardWeights(s, c.filters, x.data(), dY.data(), dW.data(), db.data());
      reference::Conv2DBackwardWeights(s, c.filters, x.data(), dY.data(), dWr.data(), dbr.data());
      RequireClose(dW, dWr, 1e-4f, "dW");
      RequireClose(db, dbr, 1e-4f, "db");
      std::vector<float> dx(x.size()), dxr(x.size());
      Conv2DBackwardInput(s, c.filters, dY.data(), W.data(), dx.data());
      reference::Conv2DBackwardInput(s, c.filters, dY.data(), W.data(), dxr.data());
      RequireClose(dx, dxr, 1e-4f, "dx");
    }
  });
}

// dcols = dY W^T, each element summed over the filters from the first up,
// one fused multiply-add each.
std::vector<float> FmaDcols(const WindowShape& s, size_t filters, const std::vector<float>& dY,
                            const std::vector<float>& W) {
  std::vector<float> dcols(s.rows() * s.patch());
  for (size_t r = 0; r < s.rows(); ++r) {
    for (size_t p = 0; p < s.patch(); ++p) {
      float sum = 0.0f;
      for (size_t f = 0; f < filters; ++f) {
        sum = std::fma(dY[r * filters + f], W[p * filters + f], sum);
      }
      dcols[r * s.patch() + p] = sum;
    }
  }
  return dcols;
}

// The input gradient is defined as Col2Im(dY W^T) with each dcols element
// summed over the filters from the first up, one fused multiply-add each:
// computed a few samples at a time, it must be bitwise that on every target
// with fused multiply-add (a batch of 9 samples on the speedrun's second
// convolution spans chunks).
TEST_CASE("Conv2D input gradient is bitwise Col2Im of the fused-multiply-add dcols",
          "[kernels]") {
  std::vector<ConvCase> cases(std::begin(kCases), std::end(kCases));
  cases.push_back({9, 12, 12, 16, 32, 3, 3, 1, 1, Padding::kValid});
  ForEachTarget([&](const std::string&) {
    if (NumericsClass() != "fma") return;
    for (const ConvCase& c : cases) {
      INFO(Describe(c));
      const WindowShape s = ShapeOf(c);
      const auto W = RandomMatrix(s.patch() * c.filters, 11);
      const auto dY = RandomMatrix(s.rows() * c.filters, 12);
      const std::vector<float> dcols = FmaDcols(s, c.filters, dY, W);
      const size_t inputs = c.batch * c.height * c.width * c.channels;
      std::vector<float> expected(inputs), dx(inputs);
      Col2Im(s, dcols.data(), expected.data());
      Conv2DBackwardInput(s, c.filters, dY.data(), W.data(), dx.data());
      CHECK(std::memcmp(dx.data(), expected.data(), inputs * sizeof(float)) == 0);
    }
  });
}

// Every kernel's results on case c, one after another: the convolution's Y,
// dW, db and dx, and the pooled image and its gradient with the
// convolution's window.
std::vector<float> AllResults(const ConvCase& c, Activation act) {
  const WindowShape s = ShapeOf(c);
  const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 7, 0.5f);
  const auto W = RandomMatrix(s.patch() * c.filters, 8);
  const auto b = RandomMatrix(c.filters, 9);
  const auto dY = RandomMatrix(s.rows() * c.filters, 10);
  std::vector<float> Y(s.rows() * c.filters), dW(W.size()),
      db(c.filters), dx(x.size()), pooled(s.rows() * c.channels), pool_dx(x.size());
  std::vector<uint32_t> argmax(pooled.size());
  Conv2DForward(s, c.filters, x.data(), W.data(), b.data(), act, nullptr, Y.data());
  Conv2DBackwardWeights(s, c.filters, x.data(), dY.data(), dW.data(), db.data());
  Conv2DBackwardInput(s, c.filters, dY.data(), W.data(), dx.data());
  MaxPooling2DForward(s, x.data(), pooled.data(), argmax.data());
  MaxPooling2DBackward(s, pooled.data(), argmax.data(), pool_dx.data());
  std::vector<float> all;
  for (const auto* v : {&Y, &dW, &db, &dx, &pooled, &pool_dx}) {
    all.insert(all.end(), v->begin(), v->end());
  }
  return all;
}

bool BitwiseEqual(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// SumBatchHalves: the first (batch + 1) / 2 samples, then the rest, each
// into sums of its own, the second's added to the first's; a batch of one
// has no second half. The same on the team and off it.
TEST_CASE("Weight gradients sum the batch's two halves and add them", "[kernels]") {
  for (const bool team : {false, true}) {
    for (const size_t batch : {size_t{1}, size_t{2}, size_t{5}, size_t{64}}) {
      INFO("batch " << batch << (team ? ", on the team" : ", one thread"));
      WindowShape s = MakeWindowShape(batch, 4, 4, 1, 3, 3, 1, 1, Padding::kValid);
      std::vector<std::pair<size_t, size_t>> parts;  // (first sample, samples)
      std::vector<float> dW(3, 7.0f), db(2, 7.0f);
      SumBatchHalves(s, dW.size(), db.size(), team, dW.data(), db.data(),
                     [&](const WindowShape& part, size_t first, float* w, float* b) {
#pragma omp critical
                       parts.emplace_back(first, part.batch);
                       // Sums that tell the halves apart: 1 + first, and samples.
                       for (size_t i = 0; i < 3; ++i) w[i] = 1.0f + static_cast<float>(first);
                       b[0] = static_cast<float>(part.batch);
                       b[1] = -0.0f;
                     });
      std::sort(parts.begin(), parts.end());
      // One thread allowed: one thread runs both halves.
      omp_set_num_threads(1);
      std::vector<int> teams;
      std::vector<float> dW1(dW.size()), db1(db.size());
      SumBatchHalves(s, dW1.size(), db1.size(), team, dW1.data(), db1.data(),
                     [&](const WindowShape&, size_t, float* w, float* b) {
#pragma omp critical
                       teams.push_back(omp_get_num_threads());
                       std::fill(w, w + 3, 0.0f);
                       std::fill(b, b + 2, 0.0f);
                     });
      omp_set_num_threads(omp_get_num_procs());
      for (int t : teams) CHECK(t == 1);
      const size_t half = (batch + 1) / 2;
      CHECK(FirstHalfSamples(batch) == half);
      if (batch == 1) {
        REQUIRE(parts.size() == 1);
        CHECK(dW[0] == 1.0f);
        CHECK(std::signbit(db[1]));  // the first half's sums, nothing added
      } else {
        REQUIRE(parts.size() == 2);
        CHECK(parts[1] == std::pair<size_t, size_t>(half, batch - half));
        CHECK(dW[2] == 2.0f + static_cast<float>(half));
        CHECK(db[0] == static_cast<float>(batch));
      }
      CHECK(parts[0] == std::pair<size_t, size_t>(0, half));
    }
  }
}

// A mostly-zero dY, as max pooling and ReLU leave it, takes the kernels that
// skip its zeros (kernels/sparse_gradient-inl.h) where its channels fill
// whole vectors; they must give the dense order's bits: dW and db as one
// fused multiply-add (or add) chain over each half of the batch's rows from
// its first, the second half's added to the first's (batch_halves.h), dx as
// Col2Im of the fused-multiply-add dcols, on every FMA target and at 1, 2
// and 4 threads. Densities on both sides of the switch to the sparse
// kernels; the speedrun's and the book's shapes, 8 channels (whole vectors
// on AVX2 only), a stride, and "same" padding (dense input gradient). The
// weight gradient reads a window's kernel rows as runs of 3, 6 or 12
// vectors where it can (the shapes with 8, 16, 32 and 64 channels; 64 in
// segments of two runs of 12 and one on AVX-512, 16 of two runs of 6 and
// one on AVX2) and by a list of offsets otherwise (48 channels, 64 on
// AVX2). (No shape here has 3x3 outputs or 5x5 ones: their weight
// gradient is by Winograd's F(3x3, 3x3), winograd_test.cc.) Also the first
// layers' direct weight gradient on one channel (a 3x3 or 5x5 kernel over
// whole vectors of filters takes the sliding items on AVX-512: whole, in
// halves, with "same" padding and an overlapping last vector).
TEST_CASE("Conv2D gradients of a mostly-zero dY are bitwise the dense sums", "[kernels]") {
  const ConvCase cases[] = {
      {9, 12, 12, 16, 32, 3, 3, 1, 1, Padding::kValid},
      {3, 13, 13, 32, 64, 3, 3, 1, 1, Padding::kValid},
      {2, 6, 6, 48, 20, 3, 3, 1, 1, Padding::kValid},
      {2, 6, 6, 64, 16, 3, 3, 1, 1, Padding::kValid},
      {2, 6, 7, 64, 16, 2, 3, 1, 1, Padding::kValid},
      {2, 9, 9, 8, 24, 3, 3, 1, 1, Padding::kValid},
      {2, 11, 10, 16, 20, 3, 3, 2, 2, Padding::kValid},
      {2, 7, 7, 16, 17, 3, 3, 1, 1, Padding::kSame},
      {2, 12, 12, 1, 16, 5, 5, 1, 1, Padding::kValid},
      {2, 10, 11, 1, 24, 5, 5, 1, 1, Padding::kSame},
      {3, 8, 9, 1, 32, 3, 3, 1, 1, Padding::kValid},
      {2, 9, 11, 1, 16, 3, 3, 1, 1, Padding::kSame},
  };
  for (const ConvCase& c : cases) {
    for (const float density : {0.05f, 0.2f, 1.0f}) {
      INFO(Describe(c) << ", dY density " << density);
      const WindowShape s = ShapeOf(c);
      const size_t inputs = c.batch * c.height * c.width * c.channels;
      const auto x = RandomMatrix(inputs, 21, 0.5f);
      const auto W = RandomMatrix(s.patch() * c.filters, 22);
      const auto dY = RandomMatrix(s.rows() * c.filters, 23, density);
      // The dense sums, element by element.
      std::vector<float> cols(s.rows() * s.patch(), 0.0f);
      for (size_t r = 0; r < s.rows(); ++r) {
        const size_t n = r / (s.out_h * s.out_w), oy = r / s.out_w % s.out_h, ox = r % s.out_w;
        for (size_t k = 0; k < s.patch(); ++k) {
          const size_t tap = k / c.channels, ch = k % c.channels;
          const long iy = static_cast<long>(oy * s.stride_h + tap / s.kernel_w) -
                          static_cast<long>(s.pad_top);
          const long ix = static_cast<long>(ox * s.stride_w + tap % s.kernel_w) -
                          static_cast<long>(s.pad_left);
          if (iy < 0 || ix < 0 || iy >= static_cast<long>(c.height) ||
              ix >= static_cast<long>(c.width)) {
            continue;
          }
          cols[r * s.patch() + k] = x[((n * c.height + iy) * c.width + ix) * c.channels + ch];
        }
      }
      // The weight gradient's sums over each half of the batch, the second
      // added to the first (batch_halves.h).
      const size_t half = FirstHalfSamples(c.batch) * s.out_h * s.out_w;
      const auto halves = [&](const auto& sum_rows) {
        const float first = sum_rows(size_t{0}, half);
        return half == s.rows() ? first : first + sum_rows(half, s.rows());
      };
      std::vector<float> dW_expected(W.size()), db_expected(c.filters);
      for (size_t f = 0; f < c.filters; ++f) {
        db_expected[f] = halves([&](size_t r0, size_t r1) {
          float bias = 0.0f;
          for (size_t r = r0; r < r1; ++r) bias += dY[r * c.filters + f];
          return bias;
        });
        for (size_t k = 0; k < s.patch(); ++k) {
          dW_expected[k * c.filters + f] = halves([&](size_t r0, size_t r1) {
            float sum = 0.0f;
            for (size_t r = r0; r < r1; ++r) {
              sum = std::fma(cols[r * s.patch() + k], dY[r * c.filters + f], sum);
            }
            return sum;
          });
        }
      }
      const std::vector<float> dcols = FmaDcols(s, c.filters, dY, W);
      std::vector<float> dx_expected(inputs);
      Col2Im(s, dcols.data(), dx_expected.data());
      ForEachTarget([&](const std::string&) {
        if (NumericsClass() != "fma") return;
        for (int threads : {1, 2, 4}) {
          INFO(threads << " threads");
          omp_set_num_threads(threads);
          std::vector<float> dW(W.size()), db(c.filters), dx(inputs);
          Conv2DBackwardWeights(s, c.filters, x.data(), dY.data(), dW.data(), db.data());
          Conv2DBackwardInput(s, c.filters, dY.data(), W.data(), dx.data());
          CHECK(BitwiseEqual(dW, dW_expected));
          CHECK(BitwiseEqual(db, db_expected));
          CHECK(BitwiseEqual(dx, dx_expected));
        }
        omp_set_num_threads(omp_get_num_procs());
      });
    }
  }
}

// Every result at 1, 2 and 4 threads: bitwise the same.
TEST_CASE("Conv2D and max pooling are bitwise the same at 1, 2 and 4 threads", "[kernels]") {
  for (const ConvCase& c : kCases) {
    INFO(Describe(c));
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 4}) {
      omp_set_num_threads(threads);
      results.push_back(AllResults(c, Activation::kRelu));
    }
    omp_set_num_threads(omp_get_num_procs());
    CHECK(BitwiseEqual(results[0], results[1]));
    CHECK(BitwiseEqual(results[0], results[2]));
  }
}

// Every result on every FMA target the CPU supports (AVX2, AVX3, ...):
// bitwise the same, as each sum's order does not depend on the vector width.
TEST_CASE("Conv2D and max pooling are bitwise the same on every FMA target", "[kernels]") {
  for (const ConvCase& c : kCases) {
    INFO(Describe(c));
    std::vector<std::vector<float>> results;
    std::vector<std::string> targets;
    ForEachTarget([&](const std::string& target) {
      if (NumericsClass() != "fma") return;
      results.push_back(AllResults(c, Activation::kGelu));
      targets.push_back(target);
    });
    for (size_t i = 1; i < results.size(); ++i) {
      INFO(targets[0] << " vs " << targets[i]);
      CHECK(BitwiseEqual(results[0], results[i]));
    }
  }
}

// Values on a coarse grid, so that windows hold ties.
std::vector<float> WithTies(size_t count, uint32_t seed) {
  std::vector<float> v = RandomMatrix(count, seed);
  for (float& x : v) x = std::round(x * 2.0f);
  return v;
}

TEST_CASE("Max pooling matches direct loops on every target, ties going to the first maximum",
          "[kernels]") {
  // Channel counts below a vector (the scalar loop), at it and past it (a
  // last vector overlapping the one before), and
  // windows that overlap, leave gaps or are clipped by "same" padding.
  const ConvCase kPools[] = {
      {2, 26, 26, 32, 0, 2, 2, 2, 2, Padding::kValid}, {2, 11, 11, 3, 0, 2, 2, 2, 2, Padding::kValid},
      {1, 7, 7, 2, 0, 3, 3, 2, 2, Padding::kSame},     {2, 5, 6, 1, 0, 3, 2, 1, 1, Padding::kValid},
      {1, 6, 6, 4, 0, 2, 2, 1, 1, Padding::kSame},     {2, 13, 13, 37, 0, 2, 2, 2, 2, Padding::kValid},
      {1, 9, 9, 19, 0, 2, 2, 3, 3, Padding::kValid},   {1, 7, 8, 24, 0, 3, 3, 3, 3, Padding::kSame},
      {1, 8, 8, 40, 0, 3, 3, 2, 2, Padding::kValid},
  };
  ForEachTarget([&](const std::string&) {
    for (const ConvCase& c : kPools) {
      INFO(Describe(c));
      const WindowShape s = ShapeOf(c);
      const auto x = WithTies(c.batch * c.height * c.width * c.channels, 11);
      const size_t outputs = s.rows() * c.channels;
      std::vector<float> y(outputs), yr(outputs);
      std::vector<uint32_t> argmax(outputs), argmax_r(outputs);
      MaxPooling2DForward(s, x.data(), y.data(), argmax.data());
      reference::MaxPooling2DForward(s, x.data(), yr.data(), argmax_r.data());
      CHECK(y == yr);
      CHECK(argmax == argmax_r);
      // Backward: each output's gradient lands on its first maximum, summed
      // where windows overlap; a -0 gradient lands as 0 + -0 = +0.
      auto dy = RandomMatrix(outputs, 12);
      dy[0] = -0.0f;
      std::vector<float> dx(x.size(), 1.0f), expected(x.size());
      MaxPooling2DBackward(s, dy.data(), argmax.data(), dx.data());
      reference::MaxPooling2DBackward(s, dy.data(), argmax_r.data(), expected.data());
      CHECK(BitwiseEqual(dx, expected));
    }
  });
}

}  // namespace
}  // namespace mb
