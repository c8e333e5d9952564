// Conv2D through the dense products: Im2Col and Col2Im are copies and sums
// in a fixed order, the products are kernels/gemm.h's.
#include "kernels/conv2d.h"

#include <algorithm>
#include <cstring>

#include "common/team.h"
#include "kernels/gemm.h"

namespace mb {
namespace {

// Copies below this many floats are not worth waking the team for.
constexpr size_t kTeamMinFloats = size_t{1} << 15;

}  // namespace

WindowShape MakeWindowShape(size_t batch, size_t height, size_t width, size_t channels,
                            size_t kernel_h, size_t kernel_w, size_t stride_h, size_t stride_w,
                            Padding padding) {
  WindowShape s;
  s.batch = batch;
  s.height = height;
  s.width = width;
  s.channels = channels;
  s.kernel_h = kernel_h;
  s.kernel_w = kernel_w;
  s.stride_h = stride_h;
  s.stride_w = stride_w;
  s.out_h = WindowOutputExtent(height, kernel_h, stride_h, padding);
  s.out_w = WindowOutputExtent(width, kernel_w, stride_w, padding);
  if (s.out_h == 0 || s.out_w == 0) {
    s.out_h = s.out_w = 0;
  } else if (padding == Padding::kSame) {
    const size_t total_h = std::max((s.out_h - 1) * stride_h + kernel_h, height) - height;
    const size_t total_w = std::max((s.out_w - 1) * stride_w + kernel_w, width) - width;
    s.pad_top = total_h / 2;
    s.pad_left = total_w / 2;
  }
  return s;
}

void Im2Col(const WindowShape& s, const float* x, float* cols) {
  const size_t patch = s.patch(), C = s.channels;
  const long rows = static_cast<long>(s.rows());
#pragma omp parallel for schedule(static) if (UseTeam(s.rows() * patch >= kTeamMinFloats))
  for (long row = 0; row < rows; ++row) {
    const size_t n = static_cast<size_t>(row) / (s.out_h * s.out_w);
    const size_t oy = static_cast<size_t>(row) / s.out_w % s.out_h;
    const size_t ox = static_cast<size_t>(row) % s.out_w;
    float* out = cols + static_cast<size_t>(row) * patch;
    for (size_t ky = 0; ky < s.kernel_h; ++ky) {
      const long iy = WindowInput(oy, s.stride_h, s.pad_top, ky, s.height);
      for (size_t kx = 0; kx < s.kernel_w; ++kx, out += C) {
        const long ix = WindowInput(ox, s.stride_w, s.pad_left, kx, s.width);
        if (iy < 0 || ix < 0) {
          std::fill(out, out + C, 0.0f);
        } else {
          std::memcpy(out, x + ((n * s.height + iy) * s.width + ix) * C, C * sizeof(float));
        }
      }
    }
  }
}

void Col2Im(const WindowShape& s, const float* dcols, float* dx) {
  const size_t patch = s.patch(), C = s.channels, image = s.height * s.width * C;
  const long batch = static_cast<long>(s.batch);
  // One sample per thread: each input element's sum then runs over the
  // output pixels and taps in one order, whatever the thread count.
#pragma omp parallel for schedule(static) if (UseTeam(s.rows() * patch >= kTeamMinFloats))
  for (long n = 0; n < batch; ++n) {
    float* d = dx + static_cast<size_t>(n) * image;
    std::fill(d, d + image, 0.0f);
    const float* in = dcols + static_cast<size_t>(n) * s.out_h * s.out_w * patch;
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = 0; ox < s.out_w; ++ox) {
        for (size_t ky = 0; ky < s.kernel_h; ++ky) {
          const long iy = WindowInput(oy, s.stride_h, s.pad_top, ky, s.height);
          for (size_t kx = 0; kx < s.kernel_w; ++kx, in += C) {
            const long ix = WindowInput(ox, s.stride_w, s.pad_left, kx, s.width);
            if (iy < 0 || ix < 0) continue;
            float* target = d + (static_cast<size_t>(iy) * s.width + ix) * C;
            for (size_t c = 0; c < C; ++c) target[c] += in[c];
          }
        }
      }
    }
  }
}

void Conv2DForward(const WindowShape& s, size_t filters, const float* x, const float* W,
                   const float* b, Activation act, float* cols, float* Z, float* Y) {
  Im2Col(s, x, cols);
  DenseForward(s.rows(), s.patch(), filters, cols, W, b, act, Z, Y);
}

void Conv2DBackwardWeights(const WindowShape& s, size_t filters, const float* cols,
                           const float* dY, float* dW, float* db) {
  DenseBackwardWeights(s.rows(), s.patch(), filters, cols, dY, dW, db);
}

void Conv2DBackwardInput(const WindowShape& s, size_t filters, const float* dY, const float* W,
                         float* dcols, float* dx) {
  // A linear "previous activation" leaves the products as they are; its
  // A_prev is never read, but must point into memory (UBSan checks the
  // offsets the kernels take from it).
  DenseBackwardInput(s.rows(), s.patch(), filters, dY, W, Activation::kLinear, nullptr, dcols,
                     dcols);
  Col2Im(s, dcols, dx);
}

}  // namespace mb
