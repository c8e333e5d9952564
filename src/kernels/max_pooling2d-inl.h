// Max pooling's per-window pieces, shared by the pooling kernels
// (max_pooling2d.cc) and the convolution that pools its own output
// (conv2d_max_pooling2d.cc). Included once per target by those files.

// Per-target include guard (Highway's idiom for -inl.h files).
#if defined(MB_KERNELS_MAX_POOLING2D_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MB_KERNELS_MAX_POOLING2D_INL_H_
#undef MB_KERNELS_MAX_POOLING2D_INL_H_
#else
#define MB_KERNELS_MAX_POOLING2D_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "hwy/highway.h"
#include "kernels/conv2d.h"
#include "kernels/masked_segment-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The input rows (or columns) a window starting at output `out` covers:
// [begin, end), clipped to the image.
inline void WindowRange(size_t out, size_t stride, size_t pad, size_t k, size_t extent,
                        size_t* begin, size_t* end) {
  const long first = static_cast<long>(out * stride) - static_cast<long>(pad);
  *begin = static_cast<size_t>(std::max(first, 0L));
  *end = static_cast<size_t>(std::min(first + static_cast<long>(k), static_cast<long>(extent)));
}

// The window of output pixel (oy, ox): input rows [y0, y1), columns [x0, x1).
struct Window {
  size_t y0, y1, x0, x1;
};

inline Window WindowOf(const WindowShape& s, size_t oy, size_t ox) {
  Window w;
  WindowRange(oy, s.stride_h, s.pad_top, s.kernel_h, s.height, &w.y0, &w.y1);
  WindowRange(ox, s.stride_w, s.pad_left, s.kernel_w, s.width, &w.x0, &w.x1);
  return w;
}

// PoolPixel for a whole 2x2 window of at least one vector of channels,
// from its top left element `first`: the same comparisons in the same
// order, unrolled (the general loops cost more than the pooling itself
// when the input is in L1, as in the convolution that pools its output).
inline void PoolPixel2x2(const WindowShape& s, size_t first, const float* HWY_RESTRICT in,
                         float* HWY_RESTRICT y, uint32_t* HWY_RESTRICT argmax) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const size_t L = hn::Lanes(df), C = s.channels;
  const auto lanes = hn::Iota(du, 0);
  const size_t taps[3] = {first + C, first + s.width * C, first + s.width * C + C};
  for (size_t c = 0;; c = NextVector(c, L, C)) {
    auto best = hn::LoadU(df, in + first + c);
    auto where = hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(first + c)));
    for (size_t at : taps) {
      const auto v = hn::LoadU(df, in + at + c);
      const auto better = hn::Gt(v, best);
      best = hn::IfThenElse(better, v, best);
      where = hn::IfThenElse(hn::RebindMask(du, better),
                             hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(at + c))), where);
    }
    hn::StoreU(best, df, y + c);
    hn::StoreU(where, du, argmax + c);
    if (c + L >= C) break;
  }
}

// One output pixel of one sample: channels [0, C) of y and argmax from the
// window's taps in order, the first maximum winning (a later tap must be
// greater to replace it).
inline void PoolPixel(const WindowShape& s, const Window& w, const float* HWY_RESTRICT in,
                      float* HWY_RESTRICT y, uint32_t* HWY_RESTRICT argmax) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const size_t L = hn::Lanes(df), C = s.channels;
  const auto lanes = hn::Iota(du, 0);
  const size_t first = (w.y0 * s.width + w.x0) * C;
  if (w.y1 - w.y0 == 2 && w.x1 - w.x0 == 2 && C >= L) return PoolPixel2x2(s, first, in, y, argmax);
  // Channels past the last whole vector: one more vector ending at C when
  // there is room, overlapping channels already done (their results are
  // written again unchanged: each lane's max is its channel's alone).
  // C = 24 on 16 lanes otherwise left a third of the data to the scalar loop.
  for (size_t c = 0; c < C && C >= L; c = NextVector(c, L, C)) {
    auto best = hn::LoadU(df, in + first + c);
    auto where = hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(first + c)));
    for (size_t iy = w.y0; iy < w.y1; ++iy) {
      for (size_t ix = (iy == w.y0 ? w.x0 + 1 : w.x0); ix < w.x1; ++ix) {
        const size_t at = (iy * s.width + ix) * C + c;
        const auto v = hn::LoadU(df, in + at);
        const auto better = hn::Gt(v, best);
        best = hn::IfThenElse(better, v, best);
        where = hn::IfThenElse(hn::RebindMask(du, better),
                               hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(at))), where);
      }
    }
    hn::StoreU(best, df, y + c);
    hn::StoreU(where, du, argmax + c);
    if (c + L == C) break;
  }
  for (size_t c = 0; c < C && C < L; ++c) {  // fewer channels than lanes
    float best = in[first + c];
    uint32_t where = static_cast<uint32_t>(first + c);
    for (size_t iy = w.y0; iy < w.y1; ++iy) {
      for (size_t ix = (iy == w.y0 ? w.x0 + 1 : w.x0); ix < w.x1; ++ix) {
        const size_t at = (iy * s.width + ix) * C + c;
        if (in[at] > best) {
          best = in[at];
          where = static_cast<uint32_t>(at);
        }
      }
    }
    y[c] = best;
    argmax[c] = where;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#endif  // MB_KERNELS_MAX_POOLING2D_INL_H_
