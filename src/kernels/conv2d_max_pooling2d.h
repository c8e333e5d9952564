// A convolution whose output only a max pooling reads, in one pass: each
// thread computes a sample's convolution into a buffer that stays in its
// cache and pools it from there, so the convolution's output never goes to
// memory and comes back. (The speedrun's first convolution writes 9.4 MB
// per batch of 256, which the pooling then read back: together 1.4 ms of a
// 10 ms step.)
//
// The results are bitwise those of Conv2DForward followed by
// MaxPooling2DForward (kernels/conv2d.h, kernels/max_pooling2d.h): the same
// tiles compute every convolution output, and the same code pools them.
// Where Conv2DForward would use Winograd's F(2x2, 3x3) and the pooling's
// 2x2 windows are its 2x2 output tiles, each tile is pooled in the output
// transform, with the same comparisons in the same order.
// Only what the pooling reads is computed, and the convolution's own output
// is not stored, so the backward pass must not need it: its activation is
// linear (as when a separate activation layer follows the pooling), or a
// ReLU whose derivative the folded backward pass below takes from the
// pooled output. A ReLU is applied after the pooling: max and ReLU commute,
// so the pooled values are bitwise the same, and the convolution's own
// output, whose stores and reloads the fusion exists to avoid, would
// otherwise be needed for its derivative.
//
// The backward pass of a first layer (which needs no input gradient) folds
// the pooling's into its weight gradient the same way: each row of the
// convolution's output gradient is spread from the pooled gradient as it
// is needed, so the 9.4 MB of the speedrun's at batch 256, mostly zeros,
// is neither written nor read back. Its bits are those of
// MaxPooling2DBackward (and ActivationGradientInPlace for a ReLU) followed
// by Conv2DBackwardWeights.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/activation.h"
#include "kernels/conv2d.h"

namespace mb {

// Whether Conv2DMaxPooling2DForward takes convolution `conv` with
// activation `act`, pooled by `pool` (whose input is conv's output): a
// linear or ReLU activation, and pooling windows that neither overlap nor
// reach past the image.
bool FusesWithMaxPooling(const WindowShape& conv, Activation act, const WindowShape& pool);

// y and argmax [batch, pool.out_h, pool.out_w, filters] as
// MaxPooling2DForward(pool, Y) gives them for Y = conv_act(conv(x, W) + b)
// (see Conv2DForward), without storing Y. With a ReLU, argmax is that of
// the convolution before it: the same wherever y > 0; where y is 0 it may
// name another pixel of the window, through which no gradient flows. When
// `activated` is not null it also receives act(y), as an activation layer
// after the pooling would compute it (kernels/vector_math.h's
// ActivationInPlace on a copy), each sample's while it is in the cache.
// Requires FusesWithMaxPooling(conv, conv_act, pool); conv.batch is the
// batch.
void Conv2DMaxPooling2DForward(const WindowShape& conv, size_t filters, const float* x,
                               const float* W, const float* b, Activation conv_act,
                               const WindowShape& pool, float* y, uint32_t* argmax,
                               Activation act = Activation::kLinear, float* activated = nullptr);

// Whether Conv2DMaxPooling2DBackwardWeights takes convolution `conv` with
// activation `act` (linear or ReLU), pooled by `pool`: windows as for
// FusesWithMaxPooling, and a patch small enough for the direct weight
// gradient (kDirectWeightsMaxPatch).
bool FoldsMaxPoolingBackward(const WindowShape& conv, Activation act, const WindowShape& pool);

// dW [patch, filters] and db [filters] as Conv2DBackwardWeights(conv, x, dY)
// gives them for the dY that MaxPooling2DBackward(pool, dy, argmax) spreads
// (then masked by a ReLU's derivative when relu_y, the pooled outputs, is
// not null), without storing dY. dy, argmax and relu_y are [batch,
// pool.out_h, pool.out_w, filters]. Requires FoldsMaxPoolingBackward.
void Conv2DMaxPooling2DBackwardWeights(const WindowShape& conv, size_t filters, const float* x,
                                       const WindowShape& pool, const float* dy,
                                       const uint32_t* argmax, const float* relu_y, float* dW,
                                       float* db);

}  // namespace mb
