// Direct loops over the convolution in double precision: the ground truth
// the im2col path of conv2d.cc is tested against.
#include <vector>

#include "kernels/activation.h"
#include "kernels/conv2d.h"

namespace mb::reference {
namespace {

// Calls fn(n, oy, ox, ky, kx, input offset of channel 0) for every tap of
// every output pixel that falls inside the image.
template <class Fn>
void ForEachTap(const WindowShape& s, Fn&& fn) {
  for (size_t n = 0; n < s.batch; ++n) {
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = 0; ox < s.out_w; ++ox) {
        for (size_t ky = 0; ky < s.kernel_h; ++ky) {
          for (size_t kx = 0; kx < s.kernel_w; ++kx) {
            const long iy = WindowInput(oy, s.stride_h, s.pad_top, ky, s.height);
            const long ix = WindowInput(ox, s.stride_w, s.pad_left, kx, s.width);
            if (iy < 0 || ix < 0) continue;
            fn(n, oy, ox, ky, kx, ((n * s.height + iy) * s.width + ix) * s.channels);
          }
        }
      }
    }
  }
}

size_t OutputRow(const WindowShape& s, size_t n, size_t oy, size_t ox) {
  return (n * s.out_h + oy) * s.out_w + ox;
}

size_t KernelRow(const WindowShape& s, size_t ky, size_t kx, size_t c) {
  return (ky * s.kernel_w + kx) * s.channels + c;
}

}  // namespace

void Conv2DForward(const WindowShape& s, size_t filters, const float* x, const float* W,
                   const float* b, Activation act, float* Y) {
  std::vector<double> sums(s.rows() * filters, 0.0);
  ForEachTap(s, [&](size_t n, size_t oy, size_t ox, size_t ky, size_t kx, size_t in) {
    double* out = sums.data() + OutputRow(s, n, oy, ox) * filters;
    for (size_t c = 0; c < s.channels; ++c) {
      for (size_t f = 0; f < filters; ++f) {
        out[f] += double{x[in + c]} * W[KernelRow(s, ky, kx, c) * filters + f];
      }
    }
  });
  for (size_t r = 0; r < s.rows(); ++r) {
    for (size_t f = 0; f < filters; ++f) {
      Y[r * filters + f] = ActivationForward(act, static_cast<float>(sums[r * filters + f] + b[f]));
    }
  }
}

void Conv2DBackwardWeights(const WindowShape& s, size_t filters, const float* x,
                           const float* dY, float* dW, float* db) {
  std::vector<double> dw(s.patch() * filters, 0.0), bias(filters, 0.0);
  ForEachTap(s, [&](size_t n, size_t oy, size_t ox, size_t ky, size_t kx, size_t in) {
    const float* dy = dY + OutputRow(s, n, oy, ox) * filters;
    for (size_t c = 0; c < s.channels; ++c) {
      for (size_t f = 0; f < filters; ++f) {
        dw[KernelRow(s, ky, kx, c) * filters + f] += double{x[in + c]} * dy[f];
      }
    }
  });
  for (size_t r = 0; r < s.rows(); ++r) {
    for (size_t f = 0; f < filters; ++f) bias[f] += dY[r * filters + f];
  }
  for (size_t i = 0; i < dw.size(); ++i) dW[i] = static_cast<float>(dw[i]);
  for (size_t f = 0; f < filters; ++f) db[f] = static_cast<float>(bias[f]);
}

void Conv2DBackwardInput(const WindowShape& s, size_t filters, const float* dY, const float* W,
                         float* dx) {
  std::vector<double> sums(s.batch * s.height * s.width * s.channels, 0.0);
  ForEachTap(s, [&](size_t n, size_t oy, size_t ox, size_t ky, size_t kx, size_t in) {
    const float* dy = dY + OutputRow(s, n, oy, ox) * filters;
    for (size_t c = 0; c < s.channels; ++c) {
      for (size_t f = 0; f < filters; ++f) {
        sums[in + c] += double{dy[f]} * W[KernelRow(s, ky, kx, c) * filters + f];
      }
    }
  });
  for (size_t i = 0; i < sums.size(); ++i) dx[i] = static_cast<float>(sums[i]);
}

}  // namespace mb::reference
