// The convolution that pools its own output against the two passes it
// replaces: bitwise on every SIMD target and at 1, 2 and 4 threads, and
// close to the direct loops of the references.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <omp.h>

#include "kernel_test_support.h"
#include "kernels/conv2d.h"
#include "kernels/conv2d_max_pooling2d.h"
#include "kernels/max_pooling2d.h"
#include "kernels/vector_math.h"

namespace mb {
namespace {

struct FusedCase {
  size_t batch, height, width, channels, filters, kernel, pool;
};
// The speedrun's first convolution (5x5, one channel, 16 and 24 filters:
// one vector and one and a half on AVX-512), one whose output has a row and
// a column the pooling drops, a 3x3 pool, fewer filters than lanes, and
// more than one panel of filters on several channels.
// The book convnet's first convolution (3x3, 32 filters) for the backward
// fold, whose ReLU it takes; on one channel, output rows that leave
// partial tiles of SlidingRows (13 and 29 wide) with fewer filters than
// lanes and with 16. Pooled in Winograd's output transform (WinogradPools):
// the book convnet's second convolution (its 11x11 output pooled to 5x5),
// the speedrun's second, and filters that end in a partial vector.
const FusedCase kCases[] = {
    {3, 28, 28, 1, 16, 5, 2},  {2, 28, 28, 1, 24, 5, 2},  {2, 12, 13, 3, 8, 2, 2},
    {2, 11, 11, 2, 5, 3, 3},   {2, 9, 9, 4, 70, 3, 2},    {2, 28, 28, 1, 32, 3, 2},
    {2, 14, 15, 1, 5, 3, 2},   {2, 30, 33, 1, 16, 5, 2},  {2, 13, 13, 32, 64, 3, 2},
    {3, 12, 12, 16, 32, 3, 2}, {2, 10, 11, 24, 20, 3, 2},
};
const size_t kWinogradCases = 3;  // the last ones


std::string Describe(const FusedCase& c) {
  return std::to_string(c.batch) + "x" + std::to_string(c.height) + "x" + std::to_string(c.width) +
         "x" + std::to_string(c.channels) + " -> " + std::to_string(c.filters) + " filters " +
         std::to_string(c.kernel) + "x" + std::to_string(c.kernel) + ", pool " +
         std::to_string(c.pool);
}

struct Shapes {
  WindowShape conv, pool;
};

Shapes ShapesOf(const FusedCase& c) {
  Shapes s;
  s.conv = MakeWindowShape(c.batch, c.height, c.width, c.channels, c.kernel, c.kernel, 1, 1,
                           Padding::kValid);
  s.pool = MakeWindowShape(c.batch, s.conv.out_h, s.conv.out_w, c.filters, c.pool, c.pool,
                           c.pool, c.pool, Padding::kValid);
  return s;
}

TEST_CASE("The Winograd cases of the fused convolution take the Winograd path", "[kernels]") {
  const size_t count = sizeof(kCases) / sizeof(kCases[0]);
  for (size_t i = 0; i < count; ++i) {
    const FusedCase& c = kCases[i];
    INFO(Describe(c));
    const Shapes s = ShapesOf(c);
    const OutputExtent read{2 * s.pool.out_h, 2 * s.pool.out_w};
    const bool winograd = c.pool == 2 && WinogradSaves(s.conv, Activation::kRelu, read, 2);
    CHECK(winograd == (i + kWinogradCases >= count));
  }
}

// The pooled outputs and their argmax (as floats' bit patterns), fused or
// as the two passes, of a convolution with activation `act`. A ReLU's
// argmax is taken before it when fused: where the pooled output is 0, the
// argmax is set to 0 on both sides, as no gradient flows through it.
std::vector<uint32_t> Pooled(const FusedCase& c, bool fused,
                             Activation act = Activation::kLinear) {
  const Shapes s = ShapesOf(c);
  const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 21, 0.4f);
  const auto W = RandomMatrix(s.conv.patch() * c.filters, 22);
  const auto b = RandomMatrix(c.filters, 23);
  const size_t outputs = s.pool.rows() * c.filters;
  std::vector<float> y(outputs);
  std::vector<uint32_t> argmax(outputs);
  if (fused) {
    Conv2DMaxPooling2DForward(s.conv, c.filters, x.data(), W.data(), b.data(), act, s.pool,
                              y.data(), argmax.data());
  } else {
    std::vector<float> Y(s.conv.rows() * c.filters);
    Conv2DForward(s.conv, c.filters, x.data(), W.data(), b.data(), act, nullptr, Y.data());
    MaxPooling2DForward(s.pool, Y.data(), y.data(), argmax.data());
  }
  if (act == Activation::kRelu) {
    for (size_t i = 0; i < outputs; ++i) {
      if (y[i] == 0.0f) argmax[i] = 0;
    }
  }
  std::vector<uint32_t> all(argmax);
  all.resize(2 * outputs);
  std::memcpy(all.data() + outputs, y.data(), outputs * sizeof(float));
  return all;
}

TEST_CASE("Conv2D with max pooling fused is bitwise the two passes on every target",
          "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (const FusedCase& c : kCases) {
      INFO(Describe(c));
      const Shapes s = ShapesOf(c);
      for (const Activation act : {Activation::kLinear, Activation::kRelu}) {
        INFO("activation " << static_cast<int>(act));
        REQUIRE(FusesWithMaxPooling(s.conv, act, s.pool));
        const std::vector<uint32_t> fused = Pooled(c, true, act);
        CHECK(fused == Pooled(c, false, act));
        if (act == Activation::kRelu) {
          // Some outputs are positive and some are cut to 0, or the case
          // would not test the ReLU.
          const size_t outputs = fused.size() / 2;
          size_t zeros = 0;
          for (size_t i = outputs; i < fused.size(); ++i) zeros += fused[i] == 0;
          CHECK(zeros > 0);
          CHECK(zeros < outputs);
        }
      }
    }
  });
}

// An activation layer after the pooling, run inside the fused pass: its
// output is bitwise ActivationInPlace of a copy of the pooled output, which
// is itself unchanged.
TEST_CASE("Conv2D with max pooling fused applies a following activation as its layer would",
          "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (const FusedCase& c : kCases) {
      for (const Activation act : {Activation::kRelu, Activation::kTanh, Activation::kLinear}) {
        INFO(Describe(c) << ", activation " << static_cast<int>(act));
        const Shapes s = ShapesOf(c);
        const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 24, 0.4f);
        const auto W = RandomMatrix(s.conv.patch() * c.filters, 25);
        const auto b = RandomMatrix(c.filters, 26);
        const size_t outputs = s.pool.rows() * c.filters;
        std::vector<float> y(outputs), y_alone(outputs), activated(outputs, -7.0f);
        std::vector<uint32_t> argmax(outputs), argmax_alone(outputs);
        const Activation linear = Activation::kLinear;
        Conv2DMaxPooling2DForward(s.conv, c.filters, x.data(), W.data(), b.data(), linear, s.pool,
                                  y_alone.data(), argmax_alone.data());
        Conv2DMaxPooling2DForward(s.conv, c.filters, x.data(), W.data(), b.data(), linear, s.pool,
                                  y.data(), argmax.data(), act, activated.data());
        std::vector<float> expected(y_alone);
        ActivationInPlace(act, expected.data(), outputs);
        CHECK(std::memcmp(y.data(), y_alone.data(), outputs * sizeof(float)) == 0);
        CHECK(argmax == argmax_alone);
        CHECK(std::memcmp(activated.data(), expected.data(), outputs * sizeof(float)) == 0);
      }
    }
  });
}

TEST_CASE("Conv2D with max pooling fused matches the direct loops", "[kernels]") {
  for (const FusedCase& c : kCases) {
    INFO(Describe(c));
    const Shapes s = ShapesOf(c);
    const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 21, 0.4f);
    const auto W = RandomMatrix(s.conv.patch() * c.filters, 22);
    const auto b = RandomMatrix(c.filters, 23);
    std::vector<float> Y(s.conv.rows() * c.filters), y(s.pool.rows() * c.filters), yr(y.size());
    std::vector<uint32_t> argmax(y.size()), argmax_r(y.size());
    reference::Conv2DForward(s.conv, c.filters, x.data(), W.data(), b.data(), Activation::kLinear,
                             Y.data());
    reference::MaxPooling2DForward(s.pool, Y.data(), yr.data(), argmax_r.data());
    Conv2DMaxPooling2DForward(s.conv, c.filters, x.data(), W.data(), b.data(),
                              Activation::kLinear, s.pool, y.data(), argmax.data());
    RequireClose(y, yr, 1e-5f, "y");
  }
}

TEST_CASE("Conv2D with max pooling fused is bitwise the same at 1, 2 and 4 threads",
          "[kernels]") {
  for (const FusedCase& c : kCases) {
    INFO(Describe(c));
    std::vector<std::vector<uint32_t>> results;
    for (int threads : {1, 2, 4}) {
      omp_set_num_threads(threads);
      std::vector<uint32_t> both = Pooled(c, true);
      const std::vector<uint32_t> relu = Pooled(c, true, Activation::kRelu);
      both.insert(both.end(), relu.begin(), relu.end());
      results.push_back(both);
    }
    omp_set_num_threads(omp_get_num_procs());
    CHECK(results[1] == results[0]);
    CHECK(results[2] == results[0]);
  }
}

TEST_CASE("Only a linear or ReLU convolution pooled by disjoint windows inside it fuses",
          "[kernels]") {
  const WindowShape conv = MakeWindowShape(1, 28, 28, 1, 5, 5, 1, 1, Padding::kValid);
  const auto pool = [&](size_t k, size_t stride, Padding padding) {
    return MakeWindowShape(1, conv.out_h, conv.out_w, 16, k, k, stride, stride, padding);
  };
  CHECK(FusesWithMaxPooling(conv, Activation::kLinear, pool(2, 2, Padding::kValid)));
  CHECK(FusesWithMaxPooling(conv, Activation::kLinear, pool(2, 2, Padding::kSame)));  // 24 even
  CHECK(FusesWithMaxPooling(conv, Activation::kRelu, pool(2, 2, Padding::kValid)));
  CHECK_FALSE(FusesWithMaxPooling(conv, Activation::kTanh, pool(2, 2, Padding::kValid)));
  CHECK_FALSE(FusesWithMaxPooling(conv, Activation::kGelu, pool(2, 2, Padding::kValid)));
  CHECK_FALSE(FusesWithMaxPooling(conv, Activation::kLinear, pool(3, 2, Padding::kValid)));
  CHECK_FALSE(FusesWithMaxPooling(conv, Activation::kLinear, pool(5, 5, Padding::kSame)));
  const WindowShape other = MakeWindowShape(1, 20, 20, 16, 2, 2, 2, 2, Padding::kValid);
  CHECK_FALSE(FusesWithMaxPooling(conv, Activation::kLinear, other));
}

// A first layer's weight gradient read through the pooling after it: dW
// and db, as bit patterns, for pooled gradients dy (with zeros and a -0)
// spread by MaxPooling2DBackward, masked by a ReLU's derivative when the
// convolution has one, then Conv2DBackwardWeights; or folded.
std::vector<uint32_t> PooledWeightGradient(const FusedCase& c, Activation act, bool folded) {
  const Shapes s = ShapesOf(c);
  const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 31, 0.4f);
  const auto W = RandomMatrix(s.conv.patch() * c.filters, 32);
  const auto b = RandomMatrix(c.filters, 33);
  std::vector<float> Y(s.conv.rows() * c.filters), y(s.pool.rows() * c.filters);
  std::vector<uint32_t> argmax(y.size());
  Conv2DForward(s.conv, c.filters, x.data(), W.data(), b.data(), act, nullptr, Y.data());
  MaxPooling2DForward(s.pool, Y.data(), y.data(), argmax.data());
  auto dy = RandomMatrix(y.size(), 34, 0.3f);
  dy[0] = -0.0f;
  std::vector<float> dW(W.size(), 7.0f), db(c.filters, 7.0f);
  if (folded) {
    Conv2DMaxPooling2DBackwardWeights(s.conv, c.filters, x.data(), s.pool, dy.data(),
                                      argmax.data(),
                                      act == Activation::kRelu ? y.data() : nullptr, dW.data(),
                                      db.data());
  } else {
    std::vector<float> dY(Y.size(), 7.0f);
    MaxPooling2DBackward(s.pool, dy.data(), argmax.data(), dY.data());
    ActivationGradientInPlace(act, nullptr, Y.data(), dY.data(), dY.size());
    Conv2DBackwardWeights(s.conv, c.filters, x.data(), dY.data(), dW.data(), db.data());
  }
  std::vector<uint32_t> bits(dW.size() + db.size());
  std::memcpy(bits.data(), dW.data(), dW.size() * sizeof(float));
  std::memcpy(bits.data() + dW.size(), db.data(), db.size() * sizeof(float));
  return bits;
}

TEST_CASE("A first convolution's weight gradient through its pooling is bitwise the two passes",
          "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (FusedCase c : kCases) {
      for (const Activation act : {Activation::kLinear, Activation::kRelu}) {
        INFO(Describe(c) << ", activation " << static_cast<int>(act));
        const Shapes s = ShapesOf(c);
        const bool folds = FoldsMaxPoolingBackward(s.conv, act, s.pool);
        CHECK(folds == (s.conv.patch() <= kDirectWeightsMaxPatch));
        if (!folds) continue;
        const auto two_passes = PooledWeightGradient(c, act, false);
        for (int threads : {1, 2, 4}) {
          INFO(threads << " threads");
          omp_set_num_threads(threads);
          CHECK(PooledWeightGradient(c, act, true) == two_passes);
        }
        omp_set_num_threads(omp_get_num_procs());
      }
    }
  });
}

TEST_CASE("Only a linear or ReLU convolution with a small patch folds its pooling's gradient",
          "[kernels]") {
  const WindowShape conv = MakeWindowShape(1, 28, 28, 1, 5, 5, 1, 1, Padding::kValid);
  const WindowShape pool = MakeWindowShape(1, 24, 24, 16, 2, 2, 2, 2, Padding::kValid);
  CHECK(FoldsMaxPoolingBackward(conv, Activation::kLinear, pool));
  CHECK(FoldsMaxPoolingBackward(conv, Activation::kRelu, pool));
  CHECK_FALSE(FoldsMaxPoolingBackward(conv, Activation::kTanh, pool));
  const WindowShape overlapping = MakeWindowShape(1, 24, 24, 16, 3, 3, 2, 2, Padding::kValid);
  CHECK_FALSE(FoldsMaxPoolingBackward(conv, Activation::kLinear, overlapping));
  const WindowShape wide = MakeWindowShape(1, 28, 28, 2, 5, 5, 1, 1, Padding::kValid);  // 50 taps
  CHECK_FALSE(FoldsMaxPoolingBackward(wide, Activation::kLinear, pool));
}

}  // namespace
}  // namespace mb
