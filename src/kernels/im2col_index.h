// A convolution's im2col matrix (kernels/conv2d.h) as two offset tables
// into its image, the form gemm-inl.h's IndexedMatrix reads in place:
// element (r, k) of cols is image[rows[r] + taps[k]].
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/conv2d.h"

namespace mb {

class Im2ColIndex {
 public:
  // The tables for s over x. With padding the image is a copy of x with
  // zero borders, so that every window lies inside it and its padded taps
  // read the zeros cols holds there. The buffers are kept and only grow:
  // after the first step of training nothing is allocated.
  void Build(const WindowShape& s, const float* x);

  const float* image() const { return image_; }
  const size_t* rows() const { return rows_.data(); }
  const size_t* taps() const { return taps_.data(); }

 private:
  std::vector<size_t> rows_, taps_;
  std::vector<float> padded_;
  const float* image_ = nullptr;
};

}  // namespace mb
