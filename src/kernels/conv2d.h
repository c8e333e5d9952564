// 2-D convolution of channels-last images (Keras' Conv2D: cross-correlation,
// kernel [kh, kw, in, out]) as matrix products on the im2col matrix `cols`,
// whose row (n, oy, ox) is the receptive field of output pixel (n, oy, ox):
// the layer is then the dense products of kernels/gemm-inl.h on
// [batch * out_h * out_w, kh * kw * in] rows, and the Keras kernel,
// flattened, is exactly the [kh * kw * in, out] matrix.
//   forward:        y = act(cols W + b)
//   weight grad:    dW = cols^T dY,  db = column sums of dY
//   input grad:     dcols = dY W^T;  dx = Col2Im(dcols)
// cols is never stored: the products read it in place in the image through
// offset tables, which saves writing and reading back kh * kw times the
// image per pass.
// Every sum has one order whatever the thread count or vector width, as the
// dense kernels' (docs/numerics.md): each output sums its taps in the order
// (ky, kx, c), one fused multiply-add each, then adds the bias; Col2Im adds
// each input pixel's contributions in the order of the output pixels and
// kernel taps, one sample per thread.
//
// A 3x3 kernel at stride 1 on enough channels runs forward by Winograd's
// F(2x2, 3x3) or F(3x3, 3x3) instead (winograd-inl.h, WinogradTileSize
// below), with an order of its own, as fixed.
//
// conv2d_reference.cc holds direct loops over the convolution, the ground
// truth for tests.
#pragma once

#include <cstddef>

#include "common/activation.h"
#include "common/padding.h"

namespace mb {

// Patches up to this size take the direct weight gradient
// (direct_weights-inl.h), larger ones Gemm (both sum in the same order: the
// choice cannot change a bit). A 5x5 kernel on one channel at batch 256 (bench_kernels
// Conv2DBackwardWeights/mnistbench/256/28/28/1/24/5, Zen 5): 6.0 ms in Gemm,
// 1.0-1.15 ms direct; pinned to AVX2 (--target=AVX2) 5.3 ms and 2.9 ms, and
// the book's 3x3 on one channel at batch 64 0.44 ms and 0.38 ms.
constexpr size_t kDirectWeightsMaxPatch = 25;

// The geometry of a convolution or pooling window over a batch.
struct WindowShape {
  size_t batch = 0, height = 0, width = 0, channels = 0;  // input [batch, height, width, channels]
  size_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1;
  size_t pad_top = 0, pad_left = 0;
  size_t out_h = 0, out_w = 0;

  // Rows of the im2col matrix: one per output pixel of the batch.
  size_t rows() const { return batch * out_h * out_w; }
  // Its columns: one per kernel tap and input channel.
  size_t patch() const { return kernel_h * kernel_w * channels; }
};

// The input coordinate that output coordinate `out` reads at kernel tap
// `tap` (along one axis of `extent` pixels), or -1 in the padding.
inline long WindowInput(size_t out, size_t stride, size_t pad, size_t tap, size_t extent) {
  const long at = static_cast<long>(out * stride + tap) - static_cast<long>(pad);
  return at >= 0 && at < static_cast<long>(extent) ? at : -1;
}

// The window geometry, or out_h = out_w = 0 when the kernel does not fit
// ("valid" with a kernel larger than the input).
WindowShape MakeWindowShape(size_t batch, size_t height, size_t width, size_t channels,
                            size_t kernel_h, size_t kernel_w, size_t stride_h, size_t stride_w,
                            Padding padding);

// Row (n, oy, ox) of cols, the im2col matrix, holds x[n, oy*sh - pt + ky,
// ox*sw - pl + kx, c] for ky, kx, c in that order, 0 where it falls in the
// padding (kernels/im2col_index.h reads it in place).
// dx [batch, height, width, channels] = the sum, over every row and column
// of dcols [rows(), patch()] that the im2col matrix fills from an input
// element, of dcols there.
void Col2Im(const WindowShape& s, const float* dcols, float* dx);

// The output rows [0, h) and columns [0, w) of each sample that a
// convolution's consumer reads: a valid max pooling whose windows stop
// short of an odd last row and column (the book convnet's second
// convolution, 11x11 pooled to 5x5, reads 10x10). {0, 0} stands for all.
struct OutputExtent {
  size_t h = 0, w = 0;
};

// `read` made explicit: all of s's output for {0, 0}, never more than it.
inline OutputExtent ReadExtentOf(const WindowShape& s, OutputExtent read) {
  if (read.h == 0 && read.w == 0) return {s.out_h, s.out_w};
  return {read.h < s.out_h ? read.h : s.out_h, read.w < s.out_w ? read.w : s.out_w};
}

// Whether Winograd's F(tile x tile, 3x3) (kernels/winograd-inl.h), tile 2
// or 3, can compute s and saves enough: a 3x3 kernel at stride 1 on at
// least kWinogradMinChannels channels, a linear or ReLU activation, and
// tiles over the read extent that cost at most 60% of the direct sums'
// multiplies ((tile + 2)^2 per tile against 9 per output).
bool WinogradSaves(const WindowShape& s, Activation act, OutputExtent read, size_t tile);
// The tile size with which Conv2DForward computes s by Winograd, 2 or 3, or
// 0 for the im2col product: 2 where F(2x2, 3x3) saves enough, else 3 where
// F(3x3, 3x3) does. 2x2 tiles first, even where 3x3 ones would save more,
// so that a convolution computed alone takes the tiles that its fusion
// with a 2x2 pooling takes (WinogradPools), with the same bits. The book
// convnet's second convolution takes 2x2 tiles, its third (3x3 outputs:
// one 3x3 tile, 25 multiplies against 81; four 2x2 tiles would cost 79%)
// 3x3 tiles. It depends on the geometry alone, so every machine and thread
// count takes the same path, and the paths' results differ in the last
// bits. The transforms' share grows as the channels shrink: at 16 channels
// and 32 filters (batch 128, 12x12 in; Zen 5, interleaved runs) F(2x2)
// measured about as fast as im2col with AVX-512 and 1.5x faster pinned to
// AVX2. Fewer channels are left to im2col, unmeasured.
constexpr size_t kWinogradMinChannels = 16;
size_t WinogradTileSize(const WindowShape& s, Activation act, OutputExtent read);
// Whether Conv2DBackwardWeights and Conv2DBackwardInput compute s by
// Winograd's F(3x3, 3x3): where the forward pass over all of s's outputs
// takes 3x3 tiles (the book convnet's third convolution: 25 multiplies per
// sample, channel and filter against 81). Geometry alone decides, before
// dY's density can choose the sparse kernels, so that the bits never depend
// on the data's zeros. (F(2x2, 3x3)'s matrices do not serve the weight
// gradient: its "filter" is a tile of dY, its outputs the 3x3 taps.)
bool WinogradBackwardApplies(const WindowShape& s);

// Conv2D forward: Z = cols W + b and Y = act(Z), both [rows(), filters]; Z
// may be null but for GELU. Outputs outside `read` may be left zero (the
// Winograd path computes only what is read).
void Conv2DForward(const WindowShape& s, size_t filters, const float* x, const float* W,
                   const float* b, Activation act, float* Z, float* Y,
                   OutputExtent read = {});
// The Winograd path itself with tiles of `tile` (2 or 3) outputs a side,
// whatever WinogradTileSize says (a 3x3 kernel at stride 1, a linear or
// ReLU activation): outputs within `read`, zeros outside it.
void Conv2DWinogradForward(const WindowShape& s, size_t filters, const float* x,
                           const float* W, const float* b, Activation act, float* Z, float* Y,
                           OutputExtent read, size_t tile);
// dW [patch(), filters] and db [filters] from the forward pass's input x:
// each half of the batch summed on its own, on a thread of its own, and
// the second half's sums added to the first's (batch_halves.h).
void Conv2DBackwardWeights(const WindowShape& s, size_t filters, const float* x,
                           const float* dY, float* dW, float* db);
// dx [batch, height, width, channels] = Col2Im(dcols), dcols = dY W^T
// [rows(), patch()] (each element's sum over the filters from the first up,
// one fused multiply-add each), a few samples at a time; by F(3x3, 3x3)
// turned back where WinogradBackwardApplies(s). dx is the gradient with
// respect to the layer's input: the previous layer's activation derivative
// is not applied.
void Conv2DBackwardInput(const WindowShape& s, size_t filters, const float* dY, const float* W,
                         float* dx);

namespace reference {
// Winograd's F(tile x tile, 3x3), tile 2 or 3, in scalar code, operation
// for operation as kernels/winograd-inl.h: the same bits on every target
// with FMA.
void Conv2DWinogradForward(const WindowShape& s, size_t filters, const float* x,
                           const float* W, const float* b, Activation act, float* Y,
                           OutputExtent read, size_t tile);
// Conv2DBackwardWeights by Winograd's F(3x3, 3x3), operation for operation
// as kernels/winograd-inl.h (for any s with a 3x3 kernel at stride 1), the
// batch's two halves summed apart and added (batch_halves.h).
void Conv2DWinogradBackwardWeights(const WindowShape& s, size_t filters, const float* x,
                                   const float* dY, float* dW, float* db);
// Conv2DBackwardInput by Winograd's F(3x3, 3x3) turned back, operation for
// operation as kernels/winograd-inl.h (for any s with a 3x3 kernel at
// stride 1).
void Conv2DWinogradBackwardInput(const WindowShape& s, size_t filters, const float* dY,
                                 const float* W, float* dx);
// Direct loops over the convolution: Y = act(conv(x, W) + b).
void Conv2DForward(const WindowShape& s, size_t filters, const float* x, const float* W,
                   const float* b, Activation act, float* Y);
void Conv2DBackwardWeights(const WindowShape& s, size_t filters, const float* x,
                           const float* dY, float* dW, float* db);
void Conv2DBackwardInput(const WindowShape& s, size_t filters, const float* dY, const float* W,
                         float* dx);
}  // namespace reference

}  // namespace mb
