// Max pooling one output element at a time: the ground truth the vector
// kernels of max_pooling2d.cc are tested against.
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kernels/max_pooling2d.h"

namespace mb::reference {

void MaxPooling2DForward(const WindowShape& s, const float* x, float* y, uint32_t* argmax) {
  const size_t C = s.channels;
  for (size_t n = 0; n < s.batch; ++n) {
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = 0; ox < s.out_w; ++ox) {
        for (size_t c = 0; c < C; ++c) {
          float best = -std::numeric_limits<float>::infinity();
          long where = -1;
          for (size_t ky = 0; ky < s.kernel_h; ++ky) {
            for (size_t kx = 0; kx < s.kernel_w; ++kx) {
              const long iy = WindowInput(oy, s.stride_h, s.pad_top, ky, s.height);
              const long ix = WindowInput(ox, s.stride_w, s.pad_left, kx, s.width);
              if (iy < 0 || ix < 0) continue;
              const long at = (iy * static_cast<long>(s.width) + ix) * static_cast<long>(C) +
                              static_cast<long>(c);
              const float v = x[n * s.height * s.width * C + static_cast<size_t>(at)];
              if (where < 0 || v > best) {
                best = v;
                where = at;
              }
            }
          }
          const size_t out = ((n * s.out_h + oy) * s.out_w + ox) * C + c;
          y[out] = best;
          argmax[out] = static_cast<uint32_t>(where);
        }
      }
    }
  }
}

void MaxPooling2DBackward(const WindowShape& s, const float* dy, const uint32_t* argmax,
                          float* dx) {
  const size_t image = s.height * s.width * s.channels;
  const size_t outputs = s.out_h * s.out_w * s.channels;
  for (size_t i = 0; i < s.batch * image; ++i) dx[i] = 0.0f;
  for (size_t i = 0; i < s.batch * outputs; ++i) dx[i / outputs * image + argmax[i]] += dy[i];
}

}  // namespace mb::reference
