// Conv2D through the dense products of gemm-inl.h, compiled once per SIMD
// target as gemm.cc: the forward pass and the weight gradient read the
// im2col matrix in place in the image (Im2ColIndex), the input gradient
// computes dcols a few samples at a time and adds each chunk back with
// Col2Im while it is in the cache. Where the forward pass takes Winograd's
// 3x3 tiles, both gradients take them too (winograd-inl.h). When dY is
// mostly zeros (after max pooling and ReLU) both gradients skip them
// (sparse_gradient-inl.h), with the same sums.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/conv2d.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>

#include <omp.h>

#include "common/team.h"
#include "hwy/highway.h"
#include "kernels/batch_halves.h"
#include "kernels/conv2d.h"
#include "kernels/direct_weights-inl.h"
#include "kernels/gemm-inl.h"
#include "kernels/im2col_index.h"
#include "kernels/masked_segment-inl.h"
#include "kernels/sparse_gradient-inl.h"
#include "kernels/winograd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace mb {
namespace HWY_NAMESPACE {

void Conv2DWinogradForward(const WindowShape& s, size_t filters, const float* x,
                           const float* W, const float* b, Activation act, float* Z, float* Y,
                           OutputExtent read, size_t tile) {
  Conv2DWinogradForwardImpl(s, filters, x, W, b, act, Z, Y, read, tile);
}

void Conv2DForward(const WindowShape& s, size_t filters, const float* x, const float* W,
                   const float* b, Activation act, float* Z, float* Y, OutputExtent read) {
  if (const size_t tile = WinogradTileSize(s, act, read)) {
    return Conv2DWinogradForwardImpl(s, filters, x, W, b, act, Z, Y, read, tile);
  }
  const IndexedMatrix cols = Im2ColMatrix(s, x);
  Gemm(s.rows(), filters, s.patch(), nullptr, s.patch(), 1, W, filters,
       /*b_transposed=*/false, ForwardEpilogue{Y, Z, b, act, filters}, nullptr, &cols);
}

// dY's share of non-zeros up to which the backward products skip its zeros
// (sparse_gradient-inl.h; both kinds of kernel give the same bits). At the
// speedrun's second convolution, batch 256, dY non-zero at random (bench
// entries Conv2DBackward*/sparse_dy, Zen 5): at 25% the sparse kernels
// took 0.43 and 0.50 ms (weights, input) where the dense ones take 0.93
// and 1.0-1.5 ms, at 40% they were no faster; pinned to AVX2, 1.04 and 1.02
// ms at 25% against 2.0 and 2.8 ms.
constexpr double kSparseGradientDensity = 0.3;

// dW = cols^T dY over a mostly-zero dY: the threads split the filters,
// each item walking all rows for its filters, so no sum is split.
void SparseBackwardWeights(const WindowShape& s, size_t filters, const IndexedMatrix& cols,
                           const float* dY, float* dW, float* db) {
  const size_t L = hn::Lanes(DF()), M = s.rows(), P = s.patch();
  const bool team = UseTeam(M * P * filters >= kMinParallelWork);
  const size_t threads = team ? static_cast<size_t>(omp_get_max_threads()) : 1;
  // The team's share of the filters, in whole vectors when it has one.
  size_t group = (filters + threads - 1) / threads;
  if (group > L) group = (group + L - 1) / L * L;
  const long items = static_cast<long>((filters + group - 1) / group);
#pragma omp parallel for schedule(static) if (team)
  for (long item = 0; item < items; ++item) {
    static thread_local PackBuffer scratch;
    const size_t f0 = static_cast<size_t>(item) * group;
    const size_t G = std::min(group, filters - f0);
    SparseBackwardWeightsItem(M, P, filters, cols, dY, f0, G,
                              scratch.Get(SparseWeightsScratch(G, P)), dW, db);
  }
}

// Conv2DBackwardWeights over a whole batch, or one half of it.
void Conv2DBackwardWeightsOfBatch(const WindowShape& s, size_t filters, const float* x,
                                  const float* dY, float* dW, float* db) {
  if (WinogradBackwardApplies(s)) {
    return Conv2DWinogradBackwardWeightsImpl(s, filters, x, dY, dW, db);
  }
  const IndexedMatrix cols = Im2ColMatrix(s, x);
  if (s.patch() <= kDirectWeightsMaxPatch) {
    const StoredGradientRows rows{dY, filters, s.rows(), s.out_w};
    return DirectBackwardWeights(s, filters, cols, rows, dW, db);
  }
  if (SparseWindowsFit(s.channels) &&
      SampledDensity(dY, s.rows(), filters) <= kSparseGradientDensity) {
    return SparseBackwardWeights(s, filters, cols, dY, dW, db);
  }
  // dW = cols^T dY: row k of dW reads column k of cols.
  Gemm(s.patch(), filters, s.rows(), nullptr, 1, s.patch(), dY, filters,
       /*b_transposed=*/false, StoreEpilogue{dW, filters}, db, &cols);
}

// Its two halves (batch_halves.h), a thread each.
void Conv2DBackwardWeights(const WindowShape& s, size_t filters, const float* x,
                           const float* dY, float* dW, float* db) {
  const bool team = s.rows() * s.patch() * filters >= kMinParallelWork;
  SumConvolutionBatchHalves(s, filters, x, dY, team, dW, db, Conv2DBackwardWeightsOfBatch);
}

// Col2Im below this many floats is not worth waking the team for.
constexpr size_t kCol2ImTeamMinFloats = size_t{1} << 15;

// The outputs [*begin, *end) along one axis whose windows read input
// coordinate `in`: those with 0 <= in + pad - out * stride < k, ascending.
inline void OutputsReading(size_t in, size_t stride, size_t pad, size_t k, size_t outputs,
                           size_t* begin, size_t* end) {
  const long at = static_cast<long>(in + pad);
  const long first = at - static_cast<long>(k) + 1;  // lowest out * stride
  const long s = static_cast<long>(stride);
  *begin = first <= 0 ? 0 : static_cast<size_t>((first + s - 1) / s);
  *end = std::min(outputs, static_cast<size_t>(at / s) + 1);
  if (*begin > *end) *begin = *end;
}

// dx = Col2Im(dcols), gathered: each input element sums, in a register, the
// dcols elements that read it, in the order of the output pixels (ascending
// oy, then ox: each reads the element through one tap), then is stored once.
// (Scattering each dcols row into dx, in the same order, chained every
// element's adds through memory: 27% of the input gradient's time on the
// speedrun's second convolution.) A vector of channels at a time, the last
// overlapping the one before; fewer channels than lanes one by one.
void Col2Im(const WindowShape& s, const float* dcols, float* dx) {
  const DF d32;
  const size_t L = hn::Lanes(d32);
  const size_t patch = s.patch(), C = s.channels, image = s.height * s.width * C;
  const long batch = static_cast<long>(s.batch);
  // One sample per thread, whatever the thread count.
#pragma omp parallel for schedule(static) if (UseTeam(s.rows() * patch >= kCol2ImTeamMinFloats))
  for (long n = 0; n < batch; ++n) {
    float* HWY_RESTRICT d = dx + static_cast<size_t>(n) * image;
    const float* HWY_RESTRICT in = dcols + static_cast<size_t>(n) * s.out_h * s.out_w * patch;
    for (size_t iy = 0; iy < s.height; ++iy) {
      size_t oy0, oy1;
      OutputsReading(iy, s.stride_h, s.pad_top, s.kernel_h, s.out_h, &oy0, &oy1);
      for (size_t ix = 0; ix < s.width; ++ix) {
        size_t ox0, ox1;
        OutputsReading(ix, s.stride_w, s.pad_left, s.kernel_w, s.out_w, &ox0, &ox1);
        float* target = d + (iy * s.width + ix) * C;
        // dcols' element for output (oy, ox) and channel c.
        const auto from = [&](size_t oy, size_t ox) {
          const size_t ky = iy + s.pad_top - oy * s.stride_h;
          const size_t kx = ix + s.pad_left - ox * s.stride_w;
          return in + (oy * s.out_w + ox) * patch + (ky * s.kernel_w + kx) * C;
        };
        for (size_t c = 0; C >= L && c < C; c = NextVector(c, L, C)) {
          auto sum = hn::Zero(d32);
          for (size_t oy = oy0; oy < oy1; ++oy) {
            for (size_t ox = ox0; ox < ox1; ++ox) {
              sum = hn::Add(sum, hn::LoadU(d32, from(oy, ox) + c));
            }
          }
          hn::StoreU(sum, d32, target + c);
          if (c + L == C) break;
        }
        for (size_t c = 0; C < L && c < C; ++c) {
          float sum = 0.0f;
          for (size_t oy = oy0; oy < oy1; ++oy) {
            for (size_t ox = ox0; ox < ox1; ++ox) sum += from(oy, ox)[c];
          }
          target[c] = sum;
        }
      }
    }
  }
}

// The input gradient's samples per item of Conv2DBackwardInput: their dcols
// rows, about 256 KB at most, stay in L2 (Zen 3 has 512 KB per core) from
// the product that writes them to Col2Im, which reads them back.
constexpr size_t kDcolsChunkFloats = size_t{1} << 16;

// dx = Col2Im(dY W^T), a few samples at a time: each thread computes the
// dcols rows of its samples into its own buffer and adds them into dx at
// once. (The whole batch's dcols, 14.7 MB for the speedrun's second
// convolution at batch 256, went to memory and came back: 1.50 ms per
// batch.) W^T is stored once, by the team, so that the chunks' products
// read it as a plain B (transposing it for every chunk cost 30% of the
// book's third convolution, 576 taps by 64 filters on 3x3 outputs).
// Neither changes a sum: each dcols element is its own sum over the
// filters, and Col2Im sums each sample alone.
void Conv2DBackwardInput(const WindowShape& s, size_t filters, const float* dY, const float* W,
                         float* dx) {
  if (WinogradBackwardApplies(s)) return Conv2DWinogradBackwardInputImpl(s, filters, dY, W, dx);
  const size_t pixels = s.out_h * s.out_w, patch = s.patch();
  const size_t image = s.height * s.width * s.channels;
  // Chunks of at most kDcolsChunkFloats, as many as a multiple of the
  // team, and of equal size but the last (12, 12, 12, 12, 12, 4 samples of
  // the book's batch of 64 left one thread 36 of them).
  const bool team = UseTeam(s.rows() * patch * filters >= kMinParallelWork);
  const size_t threads = team ? static_cast<size_t>(omp_get_max_threads()) : 1;
  const size_t most = std::max<size_t>(1, kDcolsChunkFloats / std::max<size_t>(1, pixels * patch));
  const size_t wanted = (s.batch + most - 1) / most;
  const size_t spread = (wanted + threads - 1) / threads * threads;
  const size_t chunk = (s.batch + spread - 1) / spread;
  const long items = static_cast<long>((s.batch + chunk - 1) / chunk);
  const bool sparse = SparseWindowsFit(s.channels) && s.pad_top == 0 && s.pad_left == 0 &&
                      SampledDensity(dY, s.rows(), filters) <= kSparseGradientDensity;
#pragma omp parallel if (team)
  {
    static thread_local PackBuffer transposed_buffer;
    float* Wt = transposed_buffer.Get(filters * patch);  // [filters, patch]
    PackTransposed(W, filters, filters, 0, patch, patch, Wt);
#pragma omp for schedule(static)
    for (long item = 0; item < items; ++item) {
      static thread_local PackBuffer dcols_buffer;
      const size_t n0 = static_cast<size_t>(item) * chunk;
      const size_t samples = std::min(chunk, s.batch - n0);
      if (sparse) {
        SparseInputGradient(s, filters, dY, Wt, n0, n0 + samples, dx);
        continue;
      }
      float* dcols = dcols_buffer.Get(samples * pixels * patch);
      // dcols = dY W^T, with B = W^T stored.
      GemmShare(1, 0, samples * pixels, patch, filters, dY + n0 * pixels * filters, filters, 1,
                Wt, patch, /*b_transposed=*/false, StoreEpilogue{dcols, patch}, nullptr);
      WindowShape part = s;
      part.batch = samples;
      HWY_NAMESPACE::Col2Im(part, dcols, dx + n0 * image);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace mb
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>

namespace mb {

HWY_EXPORT(Conv2DForward);
HWY_EXPORT(Conv2DWinogradForward);
HWY_EXPORT(Conv2DBackwardWeights);
HWY_EXPORT(Conv2DBackwardInput);
HWY_EXPORT(Col2Im);

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

namespace {

// The multiplies of F(tile x tile, 3x3) over the read extent, per channel
// and filter: (tile + 2)^2 per tile.
size_t WinogradMultiplies(OutputExtent read, size_t tile) {
  return (tile + 2) * (tile + 2) * ((read.h + tile - 1) / tile) * ((read.w + tile - 1) / tile);
}

}  // namespace

bool WinogradSaves(const WindowShape& s, Activation act, OutputExtent read, size_t tile) {
  if (s.kernel_h != 3 || s.kernel_w != 3 || s.stride_h != 1 || s.stride_w != 1) return false;
  if (act != Activation::kLinear && act != Activation::kRelu) return false;
  if (s.channels < kWinogradMinChannels) return false;
  read = ReadExtentOf(s, read);
  const size_t direct = 9 * read.h * read.w;
  return direct > 0 && WinogradMultiplies(read, tile) * 10 <= 6 * direct;
}

size_t WinogradTileSize(const WindowShape& s, Activation act, OutputExtent read) {
  if (WinogradSaves(s, act, read, 2)) return 2;
  return WinogradSaves(s, act, read, 3) ? 3 : 0;
}

bool WinogradBackwardApplies(const WindowShape& s) {
  return WinogradTileSize(s, Activation::kLinear, {}) == 3;
}

void Conv2DForward(const WindowShape& s, size_t filters, const float* x, const float* W,
                   const float* b, Activation act, float* Z, float* Y, OutputExtent read) {
  HWY_DYNAMIC_DISPATCH(Conv2DForward)(s, filters, x, W, b, act, Z, Y, read);
}

void Conv2DWinogradForward(const WindowShape& s, size_t filters, const float* x,
                           const float* W, const float* b, Activation act, float* Z, float* Y,
                           OutputExtent read, size_t tile) {
  HWY_DYNAMIC_DISPATCH(Conv2DWinogradForward)(s, filters, x, W, b, act, Z, Y, read, tile);
}

void Conv2DBackwardWeights(const WindowShape& s, size_t filters, const float* x,
                           const float* dY, float* dW, float* db) {
  HWY_DYNAMIC_DISPATCH(Conv2DBackwardWeights)(s, filters, x, dY, dW, db);
}

void Col2Im(const WindowShape& s, const float* dcols, float* dx) {
  HWY_DYNAMIC_DISPATCH(Col2Im)(s, dcols, dx);
}

void Conv2DBackwardInput(const WindowShape& s, size_t filters, const float* dY, const float* W,
                         float* dx) {
  HWY_DYNAMIC_DISPATCH(Conv2DBackwardInput)(s, filters, dY, W, dx);
}

}  // namespace mb
#endif  // HWY_ONCE
