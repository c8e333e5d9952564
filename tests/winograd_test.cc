// Conv2D forward by Winograd's F(2x2, 3x3) and F(3x3, 3x3), and both
// gradients by F(3x3, 3x3) (kernels/winograd-inl.h): the scalar
// reference's bits on every FMA target and at 1, 2 and 4 threads, the
// direct sums within float rounding, zeros outside the read extent, and
// which geometries take which tiles.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <omp.h>

#include "kernel_test_support.h"
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/target.h"

namespace mb {
namespace {

struct WinogradCase {
  size_t batch, height, width, channels, filters;
  Padding padding;
  OutputExtent read;
};
// The book convnet's second convolution (11x11 outputs, of which its
// pooling reads 10x10) and third (5x5 in, 3x3 out), then odd ones: fewer
// channels than lanes, filters that end in a partial vector, "same"
// padding, odd read extents and a width that leaves half tiles, more tiles
// than a thread's chunk.
const WinogradCase kCases[] = {
    {2, 13, 13, 32, 64, Padding::kValid, {10, 10}},
    {3, 5, 5, 64, 64, Padding::kValid, {}},  // the book convnet's third
    {2, 13, 13, 32, 64, Padding::kValid, {}},
    {3, 6, 7, 3, 5, Padding::kValid, {}},
    {2, 7, 9, 9, 20, Padding::kSame, {}},
    {2, 8, 8, 16, 17, Padding::kSame, {5, 7}},
    {1, 3, 3, 8, 16, Padding::kValid, {}},
    {5, 12, 12, 8, 33, Padding::kValid, {}},
};

WindowShape ShapeOf(const WinogradCase& c) {
  return MakeWindowShape(c.batch, c.height, c.width, c.channels, 3, 3, 1, 1, c.padding);
}

std::string Describe(const WinogradCase& c) {
  return std::to_string(c.batch) + "x" + std::to_string(c.height) + "x" + std::to_string(c.width) +
         "x" + std::to_string(c.channels) + " -> " + std::to_string(c.filters) +
         (c.padding == Padding::kSame ? " same" : " valid") + ", read " +
         std::to_string(c.read.h) + "x" + std::to_string(c.read.w);
}

struct Outputs {
  std::vector<float> Z, Y;
};

// Both tile sizes run on every case.
constexpr size_t kTiles[] = {2, 3};

// How far from the reference a tile size may round: F(3x3, 3x3)'s
// transforms (entries up to 4, and 1/6 inexact) round more than F(2x2,
// 3x3)'s halvings and unit sums; with FMA both stay within 1e-5, without
// it (SSE4) F(3x3) needs 3e-5.
float Tolerance(size_t tile) { return tile == 3 ? 3e-5f : 1e-5f; }

// The kernel's Z and Y over buffers filled with NaN, so that an output it
// leaves unwritten shows.
Outputs Winograd(const WinogradCase& c, Activation act, size_t tile) {
  const WindowShape s = ShapeOf(c);
  const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 31, 0.6f);
  const auto W = RandomMatrix(s.patch() * c.filters, 32);
  const auto b = RandomMatrix(c.filters, 33);
  Outputs out;
  out.Z.assign(s.rows() * c.filters, std::numeric_limits<float>::quiet_NaN());
  out.Y = out.Z;
  Conv2DWinogradForward(s, c.filters, x.data(), W.data(), b.data(), act, out.Z.data(),
                        out.Y.data(), c.read, tile);
  return out;
}

bool BitwiseEqual(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_CASE("Winograd F(2x2, 3x3) and F(3x3, 3x3) give the scalar reference's bits on every "
          "FMA target",
          "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (const WinogradCase& c : kCases) {
      for (const size_t tile : kTiles) {
        for (const Activation act : {Activation::kLinear, Activation::kRelu}) {
          INFO(Describe(c) << ", tiles " << tile << "x" << tile << ", act "
                           << ActivationName(act));
          const WindowShape s = ShapeOf(c);
          const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 31, 0.6f);
          const auto W = RandomMatrix(s.patch() * c.filters, 32);
          const auto b = RandomMatrix(c.filters, 33);
          std::vector<float> expected(s.rows() * c.filters);
          reference::Conv2DWinogradForward(s, c.filters, x.data(), W.data(), b.data(), act,
                                           expected.data(), c.read, tile);
          const Outputs out = Winograd(c, act, tile);
          // Z is Y before the activation.
          std::vector<float> activated(out.Z);
          for (float& v : activated) v = ActivationForward(act, v);
          CHECK(BitwiseEqual(activated, out.Y));
          if (NumericsClass() == "fma") {
            CHECK(BitwiseEqual(out.Y, expected));
          } else {
            RequireClose(out.Y, expected, Tolerance(tile), "Y");
          }
        }
      }
    }
  });
}

TEST_CASE("Winograd F(2x2, 3x3) and F(3x3, 3x3) match direct loops within float rounding",
          "[kernels]") {
  ForEachTarget([](const std::string&) {
    for (const WinogradCase& c : kCases) {
      for (const size_t tile : kTiles) {
        INFO(Describe(c) << ", tiles " << tile << "x" << tile);
        const WindowShape s = ShapeOf(c);
        const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 31, 0.6f);
        const auto W = RandomMatrix(s.patch() * c.filters, 32);
        const auto b = RandomMatrix(c.filters, 33);
        std::vector<float> direct(s.rows() * c.filters);
        reference::Conv2DForward(s, c.filters, x.data(), W.data(), b.data(), Activation::kRelu,
                                 direct.data());
        // Outside the read extent the kernel writes zeros.
        const OutputExtent read = ReadExtentOf(s, c.read);
        for (size_t r = 0; r < s.rows(); ++r) {
          const size_t oy = r / s.out_w % s.out_h, ox = r % s.out_w;
          if (oy >= read.h || ox >= read.w) {
            std::fill(direct.begin() + r * c.filters, direct.begin() + (r + 1) * c.filters,
                      0.0f);
          }
        }
        RequireClose(Winograd(c, Activation::kRelu, tile).Y, direct, Tolerance(tile), "Y");
      }
    }
  });
}

TEST_CASE("Winograd F(2x2, 3x3) and F(3x3, 3x3) give the same bits at 1, 2 and 4 threads",
          "[kernels]") {
  const int saved = omp_get_max_threads();
  for (const WinogradCase& c : kCases) {
    for (const size_t tile : kTiles) {
      INFO(Describe(c) << ", tiles " << tile << "x" << tile);
      omp_set_num_threads(1);
      const Outputs one = Winograd(c, Activation::kRelu, tile);
      for (const int threads : {2, 4}) {
        omp_set_num_threads(threads);
        const Outputs more = Winograd(c, Activation::kRelu, tile);
        CHECK(BitwiseEqual(more.Y, one.Y));
        CHECK(BitwiseEqual(more.Z, one.Z));
      }
    }
  }
  omp_set_num_threads(saved);
}

TEST_CASE("Conv2D forward takes Winograd's path by geometry and activation alone", "[kernels]") {
  const auto shape = [](size_t size, size_t channels, size_t kernel, size_t stride) {
    return MakeWindowShape(64, size, size, channels, kernel, kernel, stride, stride,
                           Padding::kValid);
  };
  // The book convnet: its second convolution, whole or as its pooling reads
  // it: 2x2 tiles, as its fusion with the pooling takes them (on all 11x11
  // outputs 3x3 tiles would take 400 multiplies to 576).
  CHECK(WinogradTileSize(shape(13, 32, 3, 1), Activation::kRelu, {10, 10}) == 2);
  CHECK(WinogradTileSize(shape(13, 32, 3, 1), Activation::kLinear, {}) == 2);
  // Its third: 3x3 outputs in one 3x3 tile (in four 2x2 ones they would save
  // too little); 5x5 outputs likewise (2x2 tiles 64% of the direct sums).
  CHECK(WinogradTileSize(shape(5, 64, 3, 1), Activation::kRelu, {}) == 3);
  CHECK(WinogradTileSize(shape(7, 32, 3, 1), Activation::kRelu, {}) == 3);
  // Outputs of 1x1 are cheaper direct (9 multiplies against 16 or 25).
  CHECK(WinogradTileSize(shape(3, 64, 3, 1), Activation::kRelu, {}) == 0);
  // Its first, on one channel; a 5x5 kernel; a stride; a smooth activation.
  CHECK(WinogradTileSize(shape(28, 1, 3, 1), Activation::kRelu, {}) == 0);
  CHECK(WinogradTileSize(shape(13, 8, 3, 1), Activation::kRelu, {}) == 0);
  CHECK(WinogradTileSize(shape(12, 16, 5, 1), Activation::kRelu, {}) == 0);
  CHECK(WinogradTileSize(shape(13, 32, 3, 2), Activation::kRelu, {}) == 0);
  CHECK(WinogradTileSize(shape(13, 32, 3, 1), Activation::kGelu, {}) == 0);
  // Through Conv2DForward, the same bits as the Winograd kernel itself: the
  // book convnet's second convolution (2x2 tiles) and third (3x3 tiles).
  for (const auto& [c, tile] :
       {std::pair{kCases[0], size_t{2}}, std::pair{kCases[1], size_t{3}}}) {
    INFO(Describe(c));
    const WindowShape s = ShapeOf(c);
    const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 31, 0.6f);
    const auto W = RandomMatrix(s.patch() * c.filters, 32);
    const auto b = RandomMatrix(c.filters, 33);
    std::vector<float> Y(s.rows() * c.filters, std::numeric_limits<float>::quiet_NaN());
    Conv2DForward(s, c.filters, x.data(), W.data(), b.data(), Activation::kRelu, nullptr,
                  Y.data(), c.read);
    CHECK(BitwiseEqual(Y, Winograd(c, Activation::kRelu, tile).Y));
  }
}

// The weight gradient by F(3x3, 3x3) (Conv2DWinogradBackwardWeightsImpl),
// through Conv2DBackwardWeights on geometries whose forward pass takes 3x3
// tiles: the book convnet's third convolution (one tile a sample), 5x5
// outputs in four tiles (half of them past the outputs) with filters
// ending in a partial vector, "same" padding over 17 channels, and 70
// tiles of fewer filters than lanes.
const WinogradCase kWeightCases[] = {
    {3, 5, 5, 64, 64, Padding::kValid, {}},
    {2, 7, 7, 32, 20, Padding::kValid, {}},
    {2, 5, 5, 17, 24, Padding::kSame, {}},
    {70, 5, 5, 16, 8, Padding::kValid, {}},
};

struct WeightGradients {
  std::vector<float> dW, db;
};

// What a weight-gradient function (the kernel or a reference) gives on the
// case's x and a dY with zeros (as a ReLU leaves it), into NaN-filled
// outputs, so that an element left unwritten shows.
using WeightsFunction = void (*)(const WindowShape&, size_t, const float*, const float*, float*,
                                 float*);
WeightGradients WeightsBy(WeightsFunction weights, const WinogradCase& c) {
  const WindowShape s = ShapeOf(c);
  const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 41, 0.6f);
  const auto dY = RandomMatrix(s.rows() * c.filters, 42, 0.5f);
  WeightGradients out;
  out.dW.assign(s.patch() * c.filters, std::numeric_limits<float>::quiet_NaN());
  out.db.assign(c.filters, std::numeric_limits<float>::quiet_NaN());
  weights(s, c.filters, x.data(), dY.data(), out.dW.data(), out.db.data());
  return out;
}

// check() on every target at 1, 2 and 4 threads, on each of kWeightCases
// (which all take F(3x3, 3x3) backward).
template <class Check>
void OnEveryTargetAndThreadCount(const Check& check) {
  const int saved = omp_get_max_threads();
  for (const WinogradCase& c : kWeightCases) {
    INFO(Describe(c));
    REQUIRE(WinogradBackwardApplies(ShapeOf(c)));
    ForEachTarget([&](const std::string&) {
      for (const int threads : {1, 2, 4}) {
        INFO(threads << " threads");
        omp_set_num_threads(threads);
        check(c);
      }
    });
  }
  omp_set_num_threads(saved);
}

TEST_CASE("Conv2D weight gradient by F(3x3, 3x3) gives the scalar reference's bits on every "
          "FMA target and at 1, 2 and 4 threads",
          "[kernels]") {
  OnEveryTargetAndThreadCount([](const WinogradCase& c) {
    const WeightGradients expected = WeightsBy(reference::Conv2DWinogradBackwardWeights, c);
    const WeightGradients out = WeightsBy(Conv2DBackwardWeights, c);
    if (NumericsClass() == "fma") {
      CHECK(BitwiseEqual(out.dW, expected.dW));
    } else {
      RequireClose(out.dW, expected.dW, Tolerance(3), "dW");
    }
    CHECK(BitwiseEqual(out.db, expected.db));
  });
}

TEST_CASE("Conv2D weight gradient by F(3x3, 3x3) matches direct loops within float rounding",
          "[kernels]") {
  for (const WinogradCase& c : kWeightCases) {
    INFO(Describe(c));
    const WeightGradients direct = WeightsBy(reference::Conv2DBackwardWeights, c);
    ForEachTarget([&](const std::string&) {
      const WeightGradients out = WeightsBy(Conv2DBackwardWeights, c);
      RequireClose(out.dW, direct.dW, Tolerance(3), "dW");
      RequireClose(out.db, direct.db, 1e-5f, "db");
    });
  }
}

// The input gradient by F(3x3, 3x3) turned back
// (Conv2DWinogradBackwardInputImpl), through Conv2DBackwardInput on the
// same geometries: one tile a sample, four overlapping tiles (half of them
// past the outputs), "same" padding over 17 channels (a partial vector in
// the output transform), filters that end in a partial vector, and more
// tiles than a thread's chunk.
std::vector<float> InputGradientBy(void (*input)(const WindowShape&, size_t, const float*,
                                                 const float*, float*),
                                   const WinogradCase& c, float dy_density = 0.5f) {
  const WindowShape s = ShapeOf(c);
  const auto W = RandomMatrix(s.patch() * c.filters, 51);
  const auto dY = RandomMatrix(s.rows() * c.filters, 52, dy_density);
  std::vector<float> dx(c.batch * c.height * c.width * c.channels,
                        std::numeric_limits<float>::quiet_NaN());
  input(s, c.filters, dY.data(), W.data(), dx.data());
  return dx;
}

TEST_CASE("Conv2D input gradient by F(3x3, 3x3) gives the scalar reference's bits on every "
          "FMA target and at 1, 2 and 4 threads",
          "[kernels]") {
  OnEveryTargetAndThreadCount([](const WinogradCase& c) {
    const auto expected = InputGradientBy(reference::Conv2DWinogradBackwardInput, c);
    const auto dx = InputGradientBy(Conv2DBackwardInput, c);
    if (NumericsClass() == "fma") {
      CHECK(BitwiseEqual(dx, expected));
    } else {
      RequireClose(dx, expected, Tolerance(3), "dx");
    }
  });
}

TEST_CASE("Conv2D input gradient by F(3x3, 3x3) matches direct loops within float rounding",
          "[kernels]") {
  for (const WinogradCase& c : kWeightCases) {
    INFO(Describe(c));
    const auto direct = InputGradientBy(reference::Conv2DBackwardInput, c);
    ForEachTarget([&](const std::string&) {
      RequireClose(InputGradientBy(Conv2DBackwardInput, c), direct, Tolerance(3), "dx");
    });
  }
}

TEST_CASE("Conv2D gradients take F(3x3, 3x3) by geometry alone", "[kernels]") {
  const auto shape = [](size_t size, size_t channels, size_t stride) {
    return MakeWindowShape(64, size, size, channels, 3, 3, stride, stride, Padding::kValid);
  };
  CHECK(WinogradBackwardApplies(shape(5, 64, 1)));    // the book convnet's third convolution
  CHECK(WinogradBackwardApplies(shape(7, 16, 1)));    // 5x5 outputs
  CHECK_FALSE(WinogradBackwardApplies(shape(13, 32, 1)));  // its second: 2x2 tiles forward
  CHECK_FALSE(WinogradBackwardApplies(shape(12, 16, 1)));  // the speedrun's second
  CHECK_FALSE(WinogradBackwardApplies(shape(5, 8, 1)));    // too few channels
  CHECK_FALSE(WinogradBackwardApplies(shape(7, 64, 2)));   // a stride
  CHECK_FALSE(WinogradBackwardApplies(shape(3, 64, 1)));   // 1x1 outputs
  // A dY that is mostly zeros, which would take the sparse kernels
  // elsewhere, takes the same path and gives the same bits as a dense one.
  const WinogradCase c = kWeightCases[0];
  const WindowShape s = ShapeOf(c);
  const auto x = RandomMatrix(c.batch * c.height * c.width * c.channels, 41, 0.6f);
  const auto dY = RandomMatrix(s.rows() * c.filters, 43, 0.05f);
  std::vector<float> dW(s.patch() * c.filters), db(c.filters), dW_ref(dW.size()),
      db_ref(db.size());
  Conv2DBackwardWeights(s, c.filters, x.data(), dY.data(), dW.data(), db.data());
  reference::Conv2DWinogradBackwardWeights(s, c.filters, x.data(), dY.data(), dW_ref.data(),
                                           db_ref.data());
  if (NumericsClass() == "fma") CHECK(BitwiseEqual(dW, dW_ref));
  // So does the input gradient.
  const auto dx = InputGradientBy(Conv2DBackwardInput, c, 0.05f);
  const auto dx_ref = InputGradientBy(reference::Conv2DWinogradBackwardInput, c, 0.05f);
  if (NumericsClass() == "fma") CHECK(BitwiseEqual(dx, dx_ref));
}

}  // namespace
}  // namespace mb
