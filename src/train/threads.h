// The OpenMP team the kernels run on, and its floating-point mode.
#pragma once

namespace mb {

// Sets the number of OpenMP threads (0: all logical cores) and turns on
// flush-to-zero and denormals-are-zero in every thread of the team, as
// TensorFlow does on CPU: RMSprop's velocity for rarely lit pixels decays
// into the subnormal range, where each operation costs ~100 cycles.
// Returns the number of threads.
int ConfigureThreads(int requested);
// The number of threads ConfigureThreads(requested) sets.
int ThreadCount(int requested);

// Whether FTZ and DAZ are both on in the calling thread.
bool FlushDenormalsEnabled();

}  // namespace mb
