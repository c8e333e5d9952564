// This machine's fp32 FMA peak, measured rather than looked up: every
// thread of the OpenMP team runs independent multiply-add chains on the
// SIMD target the kernels dispatch to.
#pragma once

namespace mb {

// GFLOP/s (2 flops per lane per FMA) summed over the OpenMP team.
double MeasureFmaPeakGflops();

}  // namespace mb
