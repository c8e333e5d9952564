// A convolution's im2col matrix (kernels/conv2d.h) as two offset tables
// into its image, the form gemm-inl.h's IndexedMatrix reads in place:
// element (r, k) of cols is image[rows[r] + taps[k]].
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "kernels/conv2d.h"

namespace mb {

// A matrix read through two offset tables: A(i, p) = base[rows[i] +
// taps[p]]. A convolution's im2col matrix is one over its (padded) image:
// rows[i] is where output pixel i's window starts, taps[p] where tap p
// lies within a window. The products (gemm-inl.h) then read the image in
// place, and the im2col matrix is never written out and read back.
struct IndexedMatrix {
  const float* base;
  const size_t* rows;
  const size_t* taps;
};

class Im2ColIndex {
 public:
  // The tables for s over x. With padding the image is a copy of x with
  // zero borders, so that every window lies inside it and its padded taps
  // read the zeros cols holds there. The buffers are kept and only grow:
  // after the first step of training nothing is allocated.
  void Build(const WindowShape& s, const float* x);

  const float* image() const { return image_; }
  const size_t* rows() const { return tables_[current_].rows.data(); }
  const size_t* taps() const { return tables_[current_].taps.data(); }

 private:
  // The tables depend on the geometry alone, so the last few geometries'
  // are kept: a training step's convolutions (two layers, forward and
  // weight gradient, at one batch size) then build none. Rebuilding them,
  // alone on one thread, took 6% of the speedrun's first convolution.
  struct Tables {
    WindowShape shape;
    bool built = false;
    std::vector<size_t> rows, taps;
  };
  static constexpr size_t kKeptGeometries = 4;
  std::array<Tables, kKeptGeometries> tables_;
  size_t current_ = 0, next_ = 0;  // the tables in use; the next to replace
  std::vector<float> padded_;
  const float* image_ = nullptr;
};

// The im2col matrix of s over x, through the calling thread's Im2ColIndex
// (its tables kept from call to call). The whole team may read it: call it
// before the parallel region, as a thread_local named inside one would be
// each thread's own, unbuilt.
IndexedMatrix Im2ColMatrix(const WindowShape& s, const float* x);

}  // namespace mb
