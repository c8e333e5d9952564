// Whether a kernel splits its work over the OpenMP team.
#pragma once

#include <omp.h>

namespace mb {

// Only when the work is worth waking the team for, and never from inside a
// parallel region: the trainer runs the small layers of a step on one
// thread while another builds the next batch, and the kernels' own regions
// are then inactive (a team of one, the calling thread) even when nesting
// is enabled in the environment, which would otherwise oversubscribe the
// cores.
inline bool UseTeam(bool worth_it) { return worth_it && !omp_in_parallel(); }

}  // namespace mb
