// 2-D max pooling of channels-last images (Keras' MaxPooling2D). The window
// geometry is kernels/conv2d.h's WindowShape (kernel = pool size); with
// "same" padding the padded positions are not candidates.
//
// Ties and the gradient: each output remembers the first of its window's
// maxima in the order of the taps (row by row), and the backward pass
// routes the output's gradient there, as TensorFlow's and PyTorch's CPU
// kernels do. Overlapping windows add their gradients into one input
// element, in the order of the outputs, one sample per thread, so the sums
// do not depend on the thread count. Comparisons, selections and these sums
// are exact or in one order, so the SIMD target cannot change a result.
//
// max_pooling2d_reference.cc holds the one-element-at-a-time ground truth.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/conv2d.h"

namespace mb {

// y and argmax [batch, out_h, out_w, channels]; argmax holds the index of
// the chosen input element within its sample's [height, width, channels].
void MaxPooling2DForward(const WindowShape& s, const float* x, float* y, uint32_t* argmax);
// dx [batch, height, width, channels] = 0, plus each dy at its argmax.
void MaxPooling2DBackward(const WindowShape& s, const float* dy, const uint32_t* argmax,
                          float* dx);

namespace reference {
// One output element at a time: the maximum and its first position.
void MaxPooling2DForward(const WindowShape& s, const float* x, float* y, uint32_t* argmax);
// dx = 0, then each dy added at its argmax, in output order.
void MaxPooling2DBackward(const WindowShape& s, const float* dy, const uint32_t* argmax,
                          float* dx);
}  // namespace reference

}  // namespace mb
