// How much memory this process may use, as the system limits it: the
// smallest of its cgroup's memory limit (cgroup v2 memory.max or v1
// memory.limit_in_bytes, of its own cgroup and every ancestor), the kernel's
// MemAvailable, and MB_MEMORY_LIMIT_BYTES when that variable is set (for
// tests: it lowers the figure deterministically, whatever the machine).
#pragma once

#include <cstdint>
#include <string>

namespace mb {

struct AvailableMemory {
  uint64_t bytes = UINT64_MAX;  // UINT64_MAX: no limit could be found
  std::string source;           // where `bytes` comes from, e.g. "MemAvailable in /proc/meminfo"
};

// For this process. Throws InputError when MB_MEMORY_LIMIT_BYTES is set but
// not a number of bytes.
AvailableMemory FindAvailableMemory();

// The same under `root` (a directory laid out like /: proc/self/cgroup,
// proc/meminfo, sys/fs/cgroup/...), with `limit_variable` as the value of
// MB_MEMORY_LIMIT_BYTES (null when unset): for tests.
AvailableMemory FindAvailableMemory(const std::string& root, const char* limit_variable);

}  // namespace mb
