// The im2col tables against their definition, when geometries alternate
// (as a training step's convolutions do) and when more of them than the
// index keeps take turns.
#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/im2col_index.h"

namespace mb {
namespace {

// Every element of cols through the index, against the image read directly
// (0 in the padding).
void CheckTables(const Im2ColIndex& index, const WindowShape& s, const std::vector<float>& x) {
  size_t r = 0;
  for (size_t n = 0; n < s.batch; ++n) {
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = 0; ox < s.out_w; ++ox, ++r) {
        size_t k = 0;
        for (size_t ky = 0; ky < s.kernel_h; ++ky) {
          const long iy = WindowInput(oy, s.stride_h, s.pad_top, ky, s.height);
          for (size_t kx = 0; kx < s.kernel_w; ++kx) {
            const long ix = WindowInput(ox, s.stride_w, s.pad_left, kx, s.width);
            for (size_t c = 0; c < s.channels; ++c, ++k) {
              const float expected =
                  iy < 0 || ix < 0
                      ? 0.0f
                      : x[((n * s.height + iy) * s.width + ix) * s.channels + c];
              REQUIRE(index.image()[index.rows()[r] + index.taps()[k]] == expected);
            }
          }
        }
      }
    }
  }
}

std::vector<float> Image(const WindowShape& s) {
  std::vector<float> x(s.batch * s.height * s.width * s.channels);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i + 1);
  return x;
}

TEST_CASE("Im2col tables stay right when geometries alternate", "[kernels]") {
  const std::vector<WindowShape> shapes = {
      MakeWindowShape(2, 8, 8, 1, 5, 5, 1, 1, Padding::kValid),
      MakeWindowShape(2, 4, 4, 3, 3, 3, 1, 1, Padding::kValid),
      MakeWindowShape(3, 4, 4, 3, 3, 3, 1, 1, Padding::kValid),  // another batch size
      MakeWindowShape(2, 7, 6, 2, 3, 2, 2, 1, Padding::kSame),
      MakeWindowShape(1, 5, 5, 2, 3, 3, 2, 2, Padding::kSame),
      MakeWindowShape(2, 6, 6, 1, 2, 2, 1, 1, Padding::kValid),
  };
  Im2ColIndex index;
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < shapes.size(); ++i) {
      INFO("round " << round << " shape " << i);
      const std::vector<float> x = Image(shapes[i]);
      index.Build(shapes[i], x.data());
      CheckTables(index, shapes[i], x);
      // Back to the first two, which the index may still keep.
      const std::vector<float> x0 = Image(shapes[i % 2]);
      index.Build(shapes[i % 2], x0.data());
      CheckTables(index, shapes[i % 2], x0);
    }
  }
}

}  // namespace
}  // namespace mb
