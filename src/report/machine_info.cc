#include "report/machine_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <fstream>
#include <thread>

#ifdef __SSE__
#include <xmmintrin.h>
#endif

#include "build_info.h"
#include "git_version.h"
#include "kernels/target.h"

namespace mb {
namespace {

std::string Trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string model = Trim(line.substr(colon + 1));
    if (!model.empty()) return model;
  }
  return "unknown";  // e.g. Arm kernels have no "model name" line
}

// The SIMD target the kernels dispatch to (after any pin), the ones the
// build has and the ones the CPU supports, compiled or not (what a rebuild
// with a newer Highway could gain), and the numerics class of the target.
nlohmann::json SimdInfo() {
  return {
      {"simd_target", KernelTargetName()},
      {"simd_targets_compiled", CompiledTargetNames()},
      {"simd_targets_supported", CpuTargetNames()},
      {"numerics_class", NumericsClass()},
  };
}

std::string OperatingSystem() {
  utsname system;
  if (uname(&system) != 0) return "unknown";
  return std::string(system.sysname) + " " + system.release;
}

// Flush-to-zero and denormals-are-zero change results (and speed) of float
// code with tiny values. MXCSR is per thread: this reads the caller's.
nlohmann::json FtzDaz() {
#ifdef __SSE__
  const unsigned csr = _mm_getcsr();
  constexpr unsigned kFlushToZero = 1u << 15;
  constexpr unsigned kDenormalsAreZero = 1u << 6;
  return {{"ftz", (csr & kFlushToZero) != 0}, {"daz", (csr & kDenormalsAreZero) != 0}};
#else
  return nullptr;
#endif
}

nlohmann::json TotalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return nullptr;
  return static_cast<int64_t>(pages) * page_size;
}

}  // namespace

GitState ParseGitDescribe(std::string_view describe) {
  constexpr std::string_view kDirtySuffix = "-dirty";
  bool dirty = false;
  if (describe.size() >= kDirtySuffix.size() &&
      describe.substr(describe.size() - kDirtySuffix.size()) == kDirtySuffix) {
    describe.remove_suffix(kDirtySuffix.size());
    dirty = true;
  }
  const bool is_full_hash =
      describe.size() == 40 && std::all_of(describe.begin(), describe.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      });
  if (!is_full_hash) return {"unknown", std::nullopt};
  return {std::string(describe), dirty};
}

nlohmann::json CollectMachineInfo(int threads_used) {
  nlohmann::json info = SimdInfo();
  info["cpu_model"] = CpuModel();
  info["logical_cores"] = std::thread::hardware_concurrency();
  info["compiler"] = MB_COMPILER;
  info["compiler_flags"] = MB_BUILD_FLAGS;
  info["highway_version"] = MB_HIGHWAY_VERSION;
#ifdef _OPENMP
  info["openmp_version"] = _OPENMP;  // the spec's date, e.g. 201511 for 4.5
#if defined(__GNUC__) && !defined(__clang__)
  info["openmp_runtime"] = "libgomp";
#endif
#else
  info["openmp_version"] = nullptr;
#endif
  info["threads"] = threads_used;
  info["hostname"] = Hostname();
  const GitState git = ParseGitDescribe(MB_GIT_DESCRIBE);
  info["git_commit"] = git.commit;
  info["git_dirty"] = git.dirty ? nlohmann::json(*git.dirty) : nlohmann::json(nullptr);
  info["mnistbench_version"] = MB_VERSION;
  info["os"] = OperatingSystem();
  info["ftz_daz"] = FtzDaz();
  info["total_memory_bytes"] = TotalMemoryBytes();
  return info;
}

}  // namespace mb
