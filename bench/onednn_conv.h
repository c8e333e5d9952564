// oneDNN's convolution as the reference line for mnistbench's Conv2D
// (kernels/conv2d.h): the same three products (forward with bias and ReLU,
// input gradient, weight gradient with the bias gradient) on the same
// shapes, each in the memory layouts oneDNN picks as fastest, so the line is
// oneDNN at its best, reorders to and from channels-last left out.
#pragma once

#include <cstddef>
#include <memory>

namespace mb {

enum class ConvPass { kForward, kBackwardInput, kBackwardWeights };

class OneDnnConv {
 public:
  // A "valid", stride-1 convolution of [batch, height, width, channels]
  // images with `filters` kernel x kernel filters.
  OneDnnConv(ConvPass pass, size_t batch, size_t height, size_t width, size_t channels,
             size_t filters, size_t kernel);
  ~OneDnnConv();
  OneDnnConv(const OneDnnConv&) = delete;
  OneDnnConv& operator=(const OneDnnConv&) = delete;

  // Runs the pass once and waits for it.
  void Run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mb
