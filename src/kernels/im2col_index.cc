#include "kernels/im2col_index.h"

#include <algorithm>

namespace mb {

namespace {

bool SameGeometry(const WindowShape& a, const WindowShape& b) {
  return a.batch == b.batch && a.height == b.height && a.width == b.width &&
         a.channels == b.channels && a.kernel_h == b.kernel_h && a.kernel_w == b.kernel_w &&
         a.stride_h == b.stride_h && a.stride_w == b.stride_w && a.pad_top == b.pad_top &&
         a.pad_left == b.pad_left && a.out_h == b.out_h && a.out_w == b.out_w;
}

}  // namespace

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
  for (size_t i = 0; i < kKeptGeometries; ++i) {
    if (tables_[i].built && SameGeometry(tables_[i].shape, s)) {
      current_ = i;
      return;
    }
  }
  current_ = next_;
  next_ = (next_ + 1) % kKeptGeometries;
  Tables& t = tables_[current_];
  t.shape = s;
  t.built = true;
  t.rows.resize(s.rows());
  size_t r = 0;
  for (size_t n = 0; n < s.batch; ++n) {
    for (size_t oy = 0; oy < s.out_h; ++oy) {
      for (size_t ox = 0; ox < s.out_w; ++ox) {
        t.rows[r++] = ((n * height + oy * s.stride_h) * width + ox * s.stride_w) * C;
      }
    }
  }
  t.taps.resize(s.patch());
  size_t k = 0;
  for (size_t ky = 0; ky < s.kernel_h; ++ky) {
    for (size_t kx = 0; kx < s.kernel_w; ++kx) {
      for (size_t c = 0; c < C; ++c) t.taps[k++] = (ky * width + kx) * C + c;
    }
  }
}

IndexedMatrix Im2ColMatrix(const WindowShape& s, const float* x) {
  static thread_local Im2ColIndex index;
  index.Build(s, x);
  return IndexedMatrix{index.image(), index.rows(), index.taps()};
}

}  // namespace mb
