#include "kernels/im2col_index.h"

#include <algorithm>

namespace mb {

void Im2ColIndex::Build(const WindowShape& s, const float* x) {
  const size_t C = s.channels;
  // The padded extents: the windows' reach, past the image where padding
  // adds rows and columns after it (no windows, no padding).
  size_t height = s.height, width = s.width;
  if (s.rows() > 0) {
    height = std::max(s.pad_top + s.height, (s.out_h - 1) * s.stride_h + s.kernel_h);
    width = std::max(s.pad_left + s.width, (s.out_w - 1) * s.stride_w + s.kernel_w);
  }
  image_ = x;
  if (height != s.height || width != s.width) {
    padded_.assign(s.batch * height * width * C, 0.0f);
    for (size_t n = 0; n < s.batch; ++n) {
      for (size_t y = 0; y < s.height; ++y) {
        const float* from = x + (n * s.height + y) * s.width * C;
        std::copy(from, from + s.width * C,
                  padded_.data() + ((n * height + s.pad_top + y) * width + s.pad_left) * C);
      }
    }
    image_ = padded_.data();
  }
  rows_.resize(s.rows());
  size_t r = 0;
  for (size_t n = 0; n < s.batch; ++n) {
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = 0; ox < s.out_w; ++ox) {
        rows_[r++] = ((n * height + oy * s.stride_h) * width + ox * s.stride_w) * C;
      }
    }
  }
  taps_.resize(s.patch());
  size_t k = 0;
  for (size_t ky = 0; ky < s.kernel_h; ++ky) {
    for (size_t kx = 0; kx < s.kernel_w; ++kx) {
      for (size_t c = 0; c < C; ++c) taps_[k++] = (ky * width + kx) * C + c;
    }
  }
}

}  // namespace mb
