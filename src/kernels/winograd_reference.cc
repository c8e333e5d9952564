// Winograd's F(2x2, 3x3) and F(3x3, 3x3) convolutions in plain scalar
// loops, one operation for each of kernels/winograd-inl.h's lane operations
// in the same order (the build's -ffp-contract=off keeps them apart,
// std::fma is the one fused multiply-add): the bits the SIMD kernel must
// give on every target with FMA.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/activation.h"
#include "kernels/batch_halves.h"
#include "kernels/conv2d.h"

namespace mb::reference {
namespace {

// F(3x3, 3x3)'s G, B^T and A^T times a column, as winograd-inl.h's
// WinogradF3KernelColumn, WinogradF3InputColumn and WinogradF3OutputColumn.
void F3KernelColumn(float g0, float g1, float g2, float (&out)[5]) {
  const float sixth = 1.0f / 6.0f;
  out[0] = g0 * 0.5f;
  out[1] = ((g0 + g1) + g2) * -0.5f;
  out[2] = ((g1 - g0) - g2) * sixth;
  out[3] = ((g0 + g1 * 2.0f) + g2 * 4.0f) * sixth;
  out[4] = g2;
}

void F3InputColumn(float d0, float d1, float d2, float d3, float d4, float (&r)[5]) {
  const float s = d3 - d2;
  r[3] = d3 - d1;
  r[0] = (d0 - d2) * 2.0f + r[3];
  r[1] = s - d1 * 2.0f;
  r[2] = s + (d1 - d2) * 2.0f;
  r[4] = (d1 - d3) * 2.0f + (d4 - d2);
}

void F3OutputColumn(float m0, float m1, float m2, float m3, float m4, float (&y)[3]) {
  const float a = m1 + m2, b = m1 - m2;
  y[0] = (m0 + a) + m3;
  y[1] = b + m3 * 2.0f;
  y[2] = (a + m3 * 4.0f) + m4;
}

// F(3x3, 3x3) turned back for the input gradient: A and B times a column,
// as winograd-inl.h's WinogradF3GradientColumn and
// WinogradF3InputGradientColumn.
void F3GradientColumn(float e0, float e1, float e2, float (&out)[5]) {
  const float s = e0 + e2;
  out[0] = e0;
  out[1] = s + e1;
  out[2] = s - e1;
  out[3] = e0 + (e1 + e2 * 2.0f) * 2.0f;
  out[4] = e2;
}

void F3InputGradientColumn(float m0, float m1, float m2, float m3, float m4, float (&r)[5]) {
  const float p = m0 + m3, q = m1 + m2;
  r[0] = m0 * 2.0f;
  r[1] = ((m2 - m1) + m4) * 2.0f - p;
  r[2] = -((((m0 + m2) * 2.0f) + q) + m4);
  r[3] = (p + q) - m4 * 2.0f;
  r[4] = m4;
}

// u = G g G^T of one 3x3 block g, alpha x alpha.
void KernelBlockTransform(const float (&g)[3][3], size_t tile, float (&u)[5][5]) {
  if (tile == 2) {
    float h[4][3];
    for (size_t kx = 0; kx < 3; ++kx) {
      const float sum = g[0][kx] + g[2][kx];
      h[0][kx] = g[0][kx];
      h[1][kx] = (sum + g[1][kx]) * 0.5f;
      h[2][kx] = (sum - g[1][kx]) * 0.5f;
      h[3][kx] = g[2][kx];
    }
    for (size_t i = 0; i < 4; ++i) {
      const float sum = h[i][0] + h[i][2];
      const float row[4] = {h[i][0], (sum + h[i][1]) * 0.5f, (sum - h[i][1]) * 0.5f,
                            h[i][2]};
      for (size_t j = 0; j < 4; ++j) u[i][j] = row[j];
    }
  } else {
    float h[5][3];
    for (size_t kx = 0; kx < 3; ++kx) {
      float column[5];
      F3KernelColumn(g[0][kx], g[1][kx], g[2][kx], column);
      for (size_t i = 0; i < 5; ++i) h[i][kx] = column[i];
    }
    for (size_t i = 0; i < 5; ++i) F3KernelColumn(h[i][0], h[i][1], h[i][2], u[i]);
  }
}

// U[xi][c][k] = (G g G^T)[xi] of every channel and filter.
std::vector<float> KernelTransform(const float* W, size_t C, size_t K, size_t tile) {
  const size_t alpha = tile + 2;
  std::vector<float> U(alpha * alpha * C * K);
  for (size_t c = 0; c < C; ++c) {
    for (size_t k = 0; k < K; ++k) {
      float g[3][3];
      for (size_t ky = 0; ky < 3; ++ky) {
        for (size_t kx = 0; kx < 3; ++kx) g[ky][kx] = W[((ky * 3 + kx) * C + c) * K + k];
      }
      float u[5][5];
      KernelBlockTransform(g, tile, u);
      for (size_t i = 0; i < alpha; ++i) {
        for (size_t j = 0; j < alpha; ++j) U[((i * alpha + j) * C + c) * K + k] = u[i][j];
      }
    }
  }
  return U;
}

// V[xi] = (B^T d B)[xi] of one channel's alpha x alpha patch d.
void InputTransform(const float (&d)[5][5], size_t tile, float (&v)[25]) {
  if (tile == 2) {
    float r[4][4];
    for (size_t j = 0; j < 4; ++j) {
      r[0][j] = d[0][j] - d[2][j];
      r[1][j] = d[1][j] + d[2][j];
      r[2][j] = d[2][j] - d[1][j];
      r[3][j] = d[1][j] - d[3][j];
    }
    for (size_t i = 0; i < 4; ++i) {
      v[i * 4 + 0] = r[i][0] - r[i][2];
      v[i * 4 + 1] = r[i][1] + r[i][2];
      v[i * 4 + 2] = r[i][2] - r[i][1];
      v[i * 4 + 3] = r[i][1] - r[i][3];
    }
    return;
  }
  float r[5][5];
  for (size_t j = 0; j < 5; ++j) {
    float column[5];
    F3InputColumn(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], column);
    for (size_t i = 0; i < 5; ++i) r[i][j] = column[i];
  }
  for (size_t i = 0; i < 5; ++i) {
    float row[5];
    F3InputColumn(r[i][0], r[i][1], r[i][2], r[i][3], r[i][4], row);
    for (size_t j = 0; j < 5; ++j) v[i * 5 + j] = row[j];
  }
}

// V of channel c of the patch under the tile whose first output is (oy0,
// ox0) in sample n, zeros outside the image.
// Where channel c of pixel (i, j) of the patch under the tile whose first
// output is (oy0, ox0) in sample n lies in an image of s's input shape, or
// -1 outside the image.
long PatchElement(const WindowShape& s, size_t n, size_t oy0, size_t ox0, size_t i, size_t j,
                  size_t c) {
  const long iy = static_cast<long>(oy0 + i) - static_cast<long>(s.pad_top);
  const long ix = static_cast<long>(ox0 + j) - static_cast<long>(s.pad_left);
  if (iy < 0 || ix < 0 || iy >= static_cast<long>(s.height) || ix >= static_cast<long>(s.width)) {
    return -1;
  }
  return static_cast<long>(((n * s.height + static_cast<size_t>(iy)) * s.width +
                            static_cast<size_t>(ix)) * s.channels + c);
}

void PatchTransform(const WindowShape& s, const float* x, size_t n, size_t oy0, size_t ox0,
                    size_t c, size_t tile, float (&v)[25]) {
  float d[5][5] = {};
  for (size_t i = 0; i < tile + 2; ++i) {
    for (size_t j = 0; j < tile + 2; ++j) {
      const long at = PatchElement(s, n, oy0, ox0, i, j, c);
      d[i][j] = at < 0 ? 0.0f : x[at];
    }
  }
  InputTransform(d, tile, v);
}

// y[i][j] = (A^T m A)[i][j] of one filter's products m[xi].
void OutputTransform(const float (&m)[25], size_t tile, float (&y)[3][3]) {
  if (tile == 2) {
    float t[2][4];
    for (size_t j = 0; j < 4; ++j) {
      t[0][j] = (m[j] + m[4 + j]) + m[8 + j];
      t[1][j] = (m[4 + j] - m[8 + j]) - m[12 + j];
    }
    for (size_t i = 0; i < 2; ++i) {
      y[i][0] = (t[i][0] + t[i][1]) + t[i][2];
      y[i][1] = (t[i][1] - t[i][2]) - t[i][3];
    }
    return;
  }
  float t[3][5];
  for (size_t j = 0; j < 5; ++j) {
    float column[3];
    F3OutputColumn(m[j], m[5 + j], m[10 + j], m[15 + j], m[20 + j], column);
    for (size_t i = 0; i < 3; ++i) t[i][j] = column[i];
  }
  for (size_t i = 0; i < 3; ++i) F3OutputColumn(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], y[i]);
}

// Filter k's 3x3 block of dY (K filters) from output (oy0, ox0) of sample
// n, zero past the outputs.
void DyBlock(const WindowShape& s, size_t K, const float* dY, size_t n, size_t oy0, size_t ox0,
             size_t k, float (&e)[3][3]) {
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < 3; ++j) {
      const bool inside = oy0 + i < s.out_h && ox0 + j < s.out_w;
      e[i][j] = inside ? dY[((n * s.out_h + oy0 + i) * s.out_w + ox0 + j) * K + k] : 0.0f;
    }
  }
}

// Conv2DWinogradBackwardWeights over a whole batch, or one half of it.
void WinogradBackwardWeightsOfBatch(const WindowShape& s, size_t filters, const float* x,
                                    const float* dY, float* dW, float* db) {
  const size_t C = s.channels, K = filters;
  const size_t tiles_h = (s.out_h + 2) / 3, tiles_w = (s.out_w + 2) / 3;
  const size_t T = s.batch * tiles_h * tiles_w;
  // V[xi][t][c] of each tile's 5x5 patch, E[xi][t][k] of its 3x3 block of dY.
  std::vector<float> V(25 * T * C), E(25 * T * K);
  for (size_t t = 0; t < T; ++t) {
    const size_t n = t / (tiles_h * tiles_w);
    const size_t oy0 = 3 * (t % (tiles_h * tiles_w) / tiles_w), ox0 = 3 * (t % tiles_w);
    for (size_t c = 0; c < C; ++c) {
      float v[25];
      PatchTransform(s, x, n, oy0, ox0, c, 3, v);
      for (size_t xi = 0; xi < 25; ++xi) V[(xi * T + t) * C + c] = v[xi];
    }
    for (size_t k = 0; k < K; ++k) {
      float e[3][3];
      DyBlock(s, K, dY, n, oy0, ox0, k, e);
      float u[5][5];
      KernelBlockTransform(e, 3, u);
      for (size_t xi = 0; xi < 25; ++xi) E[(xi * T + t) * K + k] = u[xi / 5][xi % 5];
    }
  }
  for (size_t c = 0; c < C; ++c) {
    for (size_t k = 0; k < K; ++k) {
      float m[25];
      for (size_t xi = 0; xi < 25; ++xi) {
        float sum = 0.0f;
        for (size_t t = 0; t < T; ++t) {
          sum = std::fma(V[(xi * T + t) * C + c], E[(xi * T + t) * K + k], sum);
        }
        m[xi] = sum;
      }
      float y[3][3];
      OutputTransform(m, 3, y);
      for (size_t tap = 0; tap < 9; ++tap) dW[(tap * C + c) * K + k] = y[tap / 3][tap % 3];
    }
  }
  for (size_t k = 0; k < K; ++k) {
    float sum = 0.0f;
    for (size_t r = 0; r < s.rows(); ++r) sum += dY[r * K + k];
    db[k] = sum;
  }
}

}  // namespace

void Conv2DWinogradBackwardInput(const WindowShape& s, size_t filters, const float* dY,
                                 const float* W, float* dx) {
  const size_t C = s.channels, K = filters;
  const std::vector<float> U = KernelTransform(W, C, K, 3);  // U[xi][c][k]
  std::fill(dx, dx + s.batch * s.height * s.width * C, 0.0f);
  std::vector<float> dM(25 * K);
  for (size_t n = 0; n < s.batch; ++n) {
    for (size_t oy0 = 0; oy0 < s.out_h; oy0 += 3) {
      for (size_t ox0 = 0; ox0 < s.out_w; ox0 += 3) {
        // dM[xi][k] = (A e_k A^T)[xi] of the tile's 3x3 block of dY, zero
        // past the outputs: down each column, then along each row.
        for (size_t k = 0; k < K; ++k) {
          float e[3][3];
          DyBlock(s, K, dY, n, oy0, ox0, k, e);
          float h[5][3];
          for (size_t j = 0; j < 3; ++j) {
            float column[5];
            F3GradientColumn(e[0][j], e[1][j], e[2][j], column);
            for (size_t i = 0; i < 5; ++i) h[i][j] = column[i];
          }
          for (size_t i = 0; i < 5; ++i) {
            float row[5];
            F3GradientColumn(h[i][0], h[i][1], h[i][2], row);
            for (size_t j = 0; j < 5; ++j) dM[(i * 5 + j) * K + k] = row[j];
          }
        }
        for (size_t c = 0; c < C; ++c) {
          float v[25];
          for (size_t xi = 0; xi < 25; ++xi) {
            float sum = 0.0f;
            for (size_t k = 0; k < K; ++k) {
              sum = std::fma(dM[xi * K + k], U[(xi * C + c) * K + k], sum);
            }
            v[xi] = sum;
          }
          // dd = B dV B^T, down each column, then along each row, added
          // where the patch lies in the image.
          float r[5][5];
          for (size_t j = 0; j < 5; ++j) {
            float column[5];
            F3InputGradientColumn(v[j], v[5 + j], v[10 + j], v[15 + j], v[20 + j], column);
            for (size_t i = 0; i < 5; ++i) r[i][j] = column[i];
          }
          for (size_t i = 0; i < 5; ++i) {
            float row[5];
            F3InputGradientColumn(r[i][0], r[i][1], r[i][2], r[i][3], r[i][4], row);
            for (size_t j = 0; j < 5; ++j) {
              const long at = PatchElement(s, n, oy0, ox0, i, j, c);
              if (at >= 0) dx[at] += row[j];
            }
          }
        }
      }
    }
  }
}

void Conv2DWinogradForward(const WindowShape& s, size_t filters, const float* x,
                           const float* W, const float* b, Activation act, float* Y,
                           OutputExtent read, size_t tile) {
  read = ReadExtentOf(s, read);
  const size_t C = s.channels, K = filters, alpha = tile + 2, planes = alpha * alpha;
  const std::vector<float> U = KernelTransform(W, C, K, tile);
  std::fill(Y, Y + s.rows() * K, 0.0f);
  std::vector<float> V(planes * C);
  for (size_t n = 0; n < s.batch; ++n) {
    for (size_t ty = 0; tile * ty < read.h; ++ty) {
      for (size_t tx = 0; tile * tx < read.w; ++tx) {
        // V[xi][c] of the tile's patch, zeros outside the image.
        for (size_t c = 0; c < C; ++c) {
          float v[25];
          PatchTransform(s, x, n, tile * ty, tile * tx, c, tile, v);
          for (size_t xi = 0; xi < planes; ++xi) V[xi * C + c] = v[xi];
        }
        for (size_t k = 0; k < K; ++k) {
          float m[25] = {};
          for (size_t xi = 0; xi < planes; ++xi) {
            float sum = 0.0f;
            for (size_t c = 0; c < C; ++c) {
              sum = std::fma(V[xi * C + c], U[(xi * C + c) * K + k], sum);
            }
            m[xi] = sum;
          }
          float y[3][3];
          OutputTransform(m, tile, y);
          for (size_t i = 0; i < tile && tile * ty + i < read.h; ++i) {
            for (size_t j = 0; j < tile && tile * tx + j < read.w; ++j) {
              const float z = b ? y[i][j] + b[k] : y[i][j];
              Y[((n * s.out_h + tile * ty + i) * s.out_w + tile * tx + j) * K + k] =
                  ActivationForward(act, z);
            }
          }
        }
      }
    }
  }
}

void Conv2DWinogradBackwardWeights(const WindowShape& s, size_t filters, const float* x,
                                   const float* dY, float* dW, float* db) {
  SumConvolutionBatchHalves(s, filters, x, dY, /*team=*/false, dW, db,
                            WinogradBackwardWeightsOfBatch);
}

}  // namespace mb::reference
