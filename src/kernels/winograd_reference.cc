// Winograd's F(2x2, 3x3) convolution in plain scalar loops, one operation
// for each of kernels/winograd-inl.h's lane operations in the same order
// (the build's -ffp-contract=off keeps them apart, std::fma is the one
// fused multiply-add): the bits the SIMD kernel must give on every target
// with FMA.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/activation.h"
#include "kernels/conv2d.h"

namespace mb::reference {

void Conv2DWinogradForward(const WindowShape& s, size_t filters, const float* x,
                           const float* W, const float* b, Activation act, float* Y,
                           OutputExtent read) {
  read = ReadExtentOf(s, read);
  const size_t C = s.channels, K = filters;
  // U[xi][c][k] = (G g G^T)[xi].
  std::vector<float> U(16 * C * K);
  for (size_t c = 0; c < C; ++c) {
    for (size_t k = 0; k < K; ++k) {
      float g[3][3], h[4][3];
      for (size_t ky = 0; ky < 3; ++ky) {
        for (size_t kx = 0; kx < 3; ++kx) g[ky][kx] = W[((ky * 3 + kx) * C + c) * K + k];
      }
      for (size_t kx = 0; kx < 3; ++kx) {
        const float sum = g[0][kx] + g[2][kx];
        h[0][kx] = g[0][kx];
        h[1][kx] = (sum + g[1][kx]) * 0.5f;
        h[2][kx] = (sum - g[1][kx]) * 0.5f;
        h[3][kx] = g[2][kx];
      }
      for (size_t i = 0; i < 4; ++i) {
        const float sum = h[i][0] + h[i][2];
        const float u[4] = {h[i][0], (sum + h[i][1]) * 0.5f, (sum - h[i][1]) * 0.5f, h[i][2]};
        for (size_t j = 0; j < 4; ++j) U[((i * 4 + j) * C + c) * K + k] = u[j];
      }
    }
  }
  std::fill(Y, Y + s.rows() * K, 0.0f);
  std::vector<float> V(16 * C);
  for (size_t n = 0; n < s.batch; ++n) {
    for (size_t ty = 0; 2 * ty < read.h; ++ty) {
      for (size_t tx = 0; 2 * tx < read.w; ++tx) {
        // V[xi][c] = (B^T d B)[xi] of the tile's 4x4 patch, zeros outside the image.
        for (size_t c = 0; c < C; ++c) {
          float d[4][4], r[4][4];
          for (long i = 0; i < 4; ++i) {
            for (long j = 0; j < 4; ++j) {
              const long iy = static_cast<long>(2 * ty) + i - static_cast<long>(s.pad_top);
              const long ix = static_cast<long>(2 * tx) + j - static_cast<long>(s.pad_left);
              const bool inside = iy >= 0 && ix >= 0 && iy < static_cast<long>(s.height) &&
                                  ix < static_cast<long>(s.width);
              d[i][j] = inside ? x[((n * s.height + static_cast<size_t>(iy)) * s.width +
                                    static_cast<size_t>(ix)) * C + c]
                               : 0.0f;
            }
          }
          for (size_t j = 0; j < 4; ++j) {
            r[0][j] = d[0][j] - d[2][j];
            r[1][j] = d[1][j] + d[2][j];
            r[2][j] = d[2][j] - d[1][j];
            r[3][j] = d[1][j] - d[3][j];
          }
          for (size_t i = 0; i < 4; ++i) {
            V[(i * 4 + 0) * C + c] = r[i][0] - r[i][2];
            V[(i * 4 + 1) * C + c] = r[i][1] + r[i][2];
            V[(i * 4 + 2) * C + c] = r[i][2] - r[i][1];
            V[(i * 4 + 3) * C + c] = r[i][1] - r[i][3];
          }
        }
        for (size_t k = 0; k < K; ++k) {
          float m[16];
          for (size_t xi = 0; xi < 16; ++xi) {
            float sum = 0.0f;
            for (size_t c = 0; c < C; ++c) sum = std::fma(V[xi * C + c], U[(xi * C + c) * K + k], sum);
            m[xi] = sum;
          }
          float t[2][4];
          for (size_t j = 0; j < 4; ++j) {
            t[0][j] = (m[j] + m[4 + j]) + m[8 + j];
            t[1][j] = (m[4 + j] - m[8 + j]) - m[12 + j];
          }
          for (size_t i = 0; i < 2 && 2 * ty + i < read.h; ++i) {
            const float y[2] = {(t[i][0] + t[i][1]) + t[i][2], (t[i][1] - t[i][2]) - t[i][3]};
            for (size_t j = 0; j < 2 && 2 * tx + j < read.w; ++j) {
              const float z = b ? y[j] + b[k] : y[j];
              Y[((n * s.out_h + 2 * ty + i) * s.out_w + 2 * tx + j) * K + k] =
                  ActivationForward(act, z);
            }
          }
        }
      }
    }
  }
}

}  // namespace mb::reference
