// Which SIMD target the kernels run on, and which numbers that target gives.
//
// Every kernel is compiled for each x86 target Highway reaches and the
// dynamic dispatch picks the best one the CPU supports. The kernels are
// written so that the target cannot change a result (docs/numerics.md):
// every sum has one fixed order and grouping whatever the vector width, and
// exp/log/erf have one vectorised implementation. What remains is whether a
// multiply-add is fused, so targets fall into two numerics classes:
//   "fma"    targets with hardware fused multiply-add (AVX2, AVX3, AVX3_DL):
//            bitwise identical results, at any thread count;
//   "no-fma" the older targets (SSE4, SSSE3, SCALAR), whose multiply-adds
//            round twice: identical among themselves, different from "fma".
#pragma once

#include <string>
#include <vector>

namespace mb {

// Highway's name of the target the kernels dispatch to now: "AVX3", "AVX2", ...
std::string KernelTargetName();

// The numerics class of the target the kernels dispatch to now: "fma" or
// "no-fma" (see above).
std::string NumericsClass();

// The targets this build has kernels for, best first.
std::vector<std::string> CompiledTargetNames();
// The targets the CPU supports, best first, compiled or not, whatever is pinned.
std::vector<std::string> CpuTargetNames();

// "" when the kernels can be pinned to the target named `name` ("auto" or
// one of CompiledTargetNames() that the CPU supports), else why not, in one
// line naming the targets that can.
std::string KernelTargetProblem(const std::string& name);

// Restricts the dispatch to the target named `name`, or lifts any
// restriction with "auto". Throws std::invalid_argument with
// KernelTargetProblem(name) when that is not empty.
void PinKernelTarget(const std::string& name);

}  // namespace mb
