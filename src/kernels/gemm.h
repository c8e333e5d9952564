// The one interface through which every matrix product of the model runs:
// the three products of a dense layer, each with its element-wise epilogue
// fused in. Layers call these and never see how they are computed.
//
// Two implementations sit behind it: gemm.cc (Highway SIMD, dispatched at run
// time to the best target the CPU supports, OpenMP across output tiles) and
// gemm_reference.cc (plain loops, the ground truth for tests).
//
// Conventions: all matrices are row-major and densely packed (leading
// dimension = number of columns). For a dense layer with K inputs and N units
// on a batch of M samples: X is [M, K], W is [K, N] (the Keras kernel layout),
// b is [N], Y is [M, N].
//
// Determinism: every output element is a sum over the inner dimension taken
// in one fixed order that does not depend on the number of threads (the inner
// dimension is never split across threads), so results are bitwise identical
// for any thread count on the same SIMD target.
#pragma once

#include <cstddef>

#include "kernels/activation.h"

namespace mb {

// Z = X W + b; Y = act(Z). Z may be null, except for GELU, whose derivative
// needs the pre-activation; for every other activation the backward pass
// uses Y alone.
void DenseForward(size_t M, size_t K, size_t N, const float* X, const float* W,
                  const float* b, Activation act, float* Z, float* Y);

// dX = (dY W^T) * act'(Z_prev, A_prev): the gradient with respect to the
// previous layer's pre-activation, with that layer's activation derivative
// fused. dY is [M, N], W is [K, N], Z_prev/A_prev/dX are [M, K] (Z_prev may
// be null unless prev_act is GELU).
void DenseBackwardInput(size_t M, size_t K, size_t N, const float* dY,
                        const float* W, Activation prev_act, const float* Z_prev,
                        const float* A_prev, float* dX);

// dW = X^T dY ([K, N]) and db = column sums of dY ([N]).
void DenseBackwardWeights(size_t M, size_t K, size_t N, const float* X,
                          const float* dY, float* dW, float* db);

// Plain-loop versions of the three products: the reference for tests.
namespace reference {
void DenseForward(size_t M, size_t K, size_t N, const float* X, const float* W,
                  const float* b, Activation act, float* Z, float* Y);
void DenseBackwardInput(size_t M, size_t K, size_t N, const float* dY,
                        const float* W, Activation prev_act, const float* Z_prev,
                        const float* A_prev, float* dX);
void DenseBackwardWeights(size_t M, size_t K, size_t N, const float* X,
                          const float* dY, float* dW, float* db);
}  // namespace reference

}  // namespace mb
