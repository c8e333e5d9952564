#include "kernels/max_pooling2d.h"

#include <algorithm>
#include <limits>

#include "common/team.h"

namespace mb {
namespace {

constexpr size_t kTeamMinFloats = size_t{1} << 15;

// The input rows (or columns) a window starting at output `out` covers:
// [begin, end), clipped to the image.
inline void WindowRange(size_t out, size_t stride, size_t pad, size_t k, size_t extent,
                        size_t* begin, size_t* end) {
  const long first = static_cast<long>(out * stride) - static_cast<long>(pad);
  *begin = static_cast<size_t>(std::max(first, 0L));
  *end = static_cast<size_t>(std::min(first + static_cast<long>(k), static_cast<long>(extent)));
}

}  // namespace

void MaxPooling2DForward(const WindowShape& s, const float* x, float* y, uint32_t* argmax) {
  const size_t C = s.channels, image = s.height * s.width * C;
  const long batch = static_cast<long>(s.batch);
#pragma omp parallel for schedule(static) if (UseTeam(s.rows() * C >= kTeamMinFloats))
  for (long n = 0; n < batch; ++n) {
    const float* in = x + static_cast<size_t>(n) * image;
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      size_t y0, y1;
      WindowRange(oy, s.stride_h, s.pad_top, s.kernel_h, s.height, &y0, &y1);
      for (size_t ox = 0; ox < s.out_w; ++ox) {
        size_t x0, x1;
        WindowRange(ox, s.stride_w, s.pad_left, s.kernel_w, s.width, &x0, &x1);
        const size_t out = ((static_cast<size_t>(n) * s.out_h + oy) * s.out_w + ox) * C;
        float* best = y + out;
        uint32_t* where = argmax + out;
        // The window's first tap, then the others in order; channels are
        // contiguous, so the inner loops run along them.
        const size_t first = (y0 * s.width + x0) * C;
        for (size_t c = 0; c < C; ++c) {
          best[c] = in[first + c];
          where[c] = static_cast<uint32_t>(first + c);
        }
        for (size_t iy = y0; iy < y1; ++iy) {
          for (size_t ix = (iy == y0 ? x0 + 1 : x0); ix < x1; ++ix) {
            const size_t at = (iy * s.width + ix) * C;
            for (size_t c = 0; c < C; ++c) {
              if (in[at + c] > best[c]) {
                best[c] = in[at + c];
                where[c] = static_cast<uint32_t>(at + c);
              }
            }
          }
        }
      }
    }
  }
}

void MaxPooling2DBackward(const WindowShape& s, const float* dy, const uint32_t* argmax,
                          float* dx) {
  const size_t image = s.height * s.width * s.channels;
  const size_t outputs = s.out_h * s.out_w * s.channels;
  const long batch = static_cast<long>(s.batch);
#pragma omp parallel for schedule(static) if (UseTeam(s.batch * image >= kTeamMinFloats))
  for (long n = 0; n < batch; ++n) {
    float* d = dx + static_cast<size_t>(n) * image;
    std::fill(d, d + image, 0.0f);
    const size_t base = static_cast<size_t>(n) * outputs;
    for (size_t i = 0; i < outputs; ++i) d[argmax[base + i]] += dy[base + i];
  }
}

namespace reference {

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

}  // namespace reference
}  // namespace mb
