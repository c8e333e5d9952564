// Max pooling along the channels, which are contiguous in channels-last
// images: each output pixel keeps its best values and their positions in
// registers, a vector of channels at a time, and stores them once. (Loops
// that updated y and argmax in memory for every tap ran at ~2 GB/s: the
// compiler could not keep them in registers, as they might alias x.)
// Comparisons and selections are exact, so the vector width cannot change a
// result. Compiled once per SIMD target, as gemm.cc.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/max_pooling2d.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/team.h"
#include "hwy/highway.h"
#include "kernels/conv2d.h"
#include "kernels/masked_segment-inl.h"
#include "kernels/max_pooling2d-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace {

// Pools below this many input floats are not worth waking the team for.
constexpr size_t kTeamMinFloats = size_t{1} << 15;

// The gradient of one output pixel whose window no other window overlaps:
// each of its input elements gets 0 + (the gradient if it is the argmax,
// else 0), the sum the scatter would form, written without reading dx.
void UnpoolPixel(const WindowShape& s, const Window& w, const float* HWY_RESTRICT dy,
                 const uint32_t* HWY_RESTRICT argmax, float* HWY_RESTRICT dx) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const size_t L = hn::Lanes(df), C = s.channels;
  const auto lanes = hn::Iota(du, 0);
  const auto zero = hn::Zero(df);
  // As PoolPixel: a last vector ending at C overlaps channels already done,
  // which get the same values again.
  for (size_t c = 0; c < C && C >= L; c = NextVector(c, L, C)) {
    const auto g = hn::LoadU(df, dy + c);
    const auto where = hn::LoadU(du, argmax + c);
    for (size_t iy = w.y0; iy < w.y1; ++iy) {
      for (size_t ix = w.x0; ix < w.x1; ++ix) {
        const size_t at = (iy * s.width + ix) * C + c;
        const auto chosen = hn::Eq(where, hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(at))));
        hn::StoreU(hn::Add(zero, hn::IfThenElseZero(hn::RebindMask(df, chosen), g)), df, dx + at);
      }
    }
    if (c + L == C) break;
  }
  for (size_t c = 0; c < C && C < L; ++c) {  // fewer channels than lanes
    for (size_t iy = w.y0; iy < w.y1; ++iy) {
      for (size_t ix = w.x0; ix < w.x1; ++ix) {
        const size_t at = (iy * s.width + ix) * C + c;
        dx[at] = 0.0f + (argmax[c] == at ? dy[c] : 0.0f);
      }
    }
  }
}

}  // namespace

void MaxPooling2DForward(const WindowShape& s, const float* x, float* y, uint32_t* argmax) {
  const size_t C = s.channels, image = s.height * s.width * C;
  const long batch = static_cast<long>(s.batch);
#pragma omp parallel for schedule(static) if (UseTeam(s.batch * image >= kTeamMinFloats))
  for (long n = 0; n < batch; ++n) {
    const float* in = x + static_cast<size_t>(n) * image;
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = 0; ox < s.out_w; ++ox) {
        const size_t out = ((static_cast<size_t>(n) * s.out_h + oy) * s.out_w + ox) * C;
        PoolPixel(s, WindowOf(s, oy, ox), in, y + out, argmax + out);
      }
    }
  }
}

void MaxPooling2DBackward(const WindowShape& s, const float* dy, const uint32_t* argmax,
                          float* dx) {
  const size_t image = s.height * s.width * s.channels;
  const size_t outputs = s.out_h * s.out_w * s.channels;
  // Windows that do not overlap (stride >= pool size, Keras' default) touch
  // each input element at most once, so each output's window can be written
  // whole, a vector of channels at a time; overlapping ones add in output
  // order.
  // Those windows write every element they cover, so only the rest is
  // zeroed first (the row and column past the book convnet's 10x10
  // windows on 11x11; nothing on the speedrun's 10x10): windows on a grid
  // cover the elements whose row is in a window row's range and whose
  // column is in a window column's.
  const bool disjoint = s.stride_h >= s.kernel_h && s.stride_w >= s.kernel_w;
  std::vector<uint8_t> row_covered(s.height, !disjoint), column_covered(s.width, !disjoint);
  for (size_t oy = 0; disjoint && oy < s.out_h; ++oy) {
    const Window w = WindowOf(s, oy, 0);
    std::fill(row_covered.begin() + w.y0, row_covered.begin() + w.y1, 1);
  }
  for (size_t ox = 0; disjoint && ox < s.out_w; ++ox) {
    const Window w = WindowOf(s, 0, ox);
    std::fill(column_covered.begin() + w.x0, column_covered.begin() + w.x1, 1);
  }
  const size_t C = s.channels;
  const long batch = static_cast<long>(s.batch);
#pragma omp parallel for schedule(static) if (UseTeam(s.batch * image >= kTeamMinFloats))
  for (long n = 0; n < batch; ++n) {
    float* d = dx + static_cast<size_t>(n) * image;
    const size_t base = static_cast<size_t>(n) * outputs;
    if (!disjoint) {
      std::fill(d, d + image, 0.0f);
      for (size_t i = 0; i < outputs; ++i) d[argmax[base + i]] += dy[base + i];
      continue;
    }
    for (size_t iy = 0; iy < s.height; ++iy) {
      for (size_t ix = 0; ix < s.width; ++ix) {
        if (row_covered[iy] && column_covered[ix]) continue;
        float* pixel = d + (iy * s.width + ix) * C;
        std::fill(pixel, pixel + C, 0.0f);
      }
    }
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = 0; ox < s.out_w; ++ox) {
        const size_t out = base + (oy * s.out_w + ox) * s.channels;
        UnpoolPixel(s, WindowOf(s, oy, ox), dy + out, argmax + out, d);
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "kernels/max_pooling2d.h"

namespace mb {

HWY_EXPORT(MaxPooling2DForward);
HWY_EXPORT(MaxPooling2DBackward);

void MaxPooling2DForward(const WindowShape& s, const float* x, float* y, uint32_t* argmax) {
  HWY_DYNAMIC_DISPATCH(MaxPooling2DForward)(s, x, y, argmax);
}

void MaxPooling2DBackward(const WindowShape& s, const float* dy, const uint32_t* argmax,
                          float* dx) {
  HWY_DYNAMIC_DISPATCH(MaxPooling2DBackward)(s, dy, argmax, dx);
}

}  // namespace mb
#endif  // HWY_ONCE
