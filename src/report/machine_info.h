// The fingerprint of the machine and build a run happened on, for
// report.json["machine"]: what explains a difference between two runs.
#pragma once

#include "common/hostname.h"  // Hostname(), in the fingerprint

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace mb {

// cpu_model, logical_cores, simd_target (the Highway target the dynamic
// dispatch chooses, or the one kernels.target pinned), simd_targets_compiled,
// simd_targets_supported, numerics_class (kernels/target.h), compiler,
// compiler_flags, highway_version, openmp_version (+ openmp_runtime with GCC),
// threads, hostname, git_commit, git_dirty, mnistbench_version, os, ftz_daz
// (of the calling thread; null off x86), total_memory_bytes (null if unknown).
nlohmann::json CollectMachineInfo(int threads_used);

// The build's MB_GIT_DESCRIBE ("<40 hex digits>[-dirty]", or "unknown" when
// built outside a git checkout) split into its parts.
struct GitState {
  std::string commit;         // the hash, or "unknown"
  std::optional<bool> dirty;  // empty when the commit is unknown
};
GitState ParseGitDescribe(std::string_view describe);

}  // namespace mb
