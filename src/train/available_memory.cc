#include "train/available_memory.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "common/error.h"

namespace mb {
namespace {

constexpr const char* kLimitVariable = "MB_MEMORY_LIMIT_BYTES";

std::optional<uint64_t> ParseBytes(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// The first word of a cgroup limit file: a number of bytes, or "max" (v2's
// "no limit"). Nothing when the file is missing, unreadable or "max".
std::optional<uint64_t> ReadLimitFile(const std::string& path) {
  std::ifstream file(path);
  std::string word;
  if (!(file >> word)) return std::nullopt;
  return ParseBytes(word);
}

// Lowers `available` to `bytes` when that is smaller.
void Consider(AvailableMemory& available, std::optional<uint64_t> bytes,
              const std::string& source) {
  if (bytes && *bytes < available.bytes) {
    available.bytes = *bytes;
    available.source = source;
  }
}

// A cgroup is limited by its own limit and by every ancestor's: looks at
// `file` in the cgroup's directory under `mount` and in each directory above
// it, up to the hierarchy's root.
void ConsiderCgroup(AvailableMemory& available, const std::string& mount, std::string cgroup,
                    const char* file) {
  for (;;) {
    const std::string path = mount + (cgroup == "/" ? "" : cgroup) + "/" + file;
    Consider(available, ReadLimitFile(path), "cgroup limit " + path);
    if (cgroup.empty() || cgroup == "/") return;
    cgroup.erase(cgroup.rfind('/'));
    if (cgroup.empty()) cgroup = "/";
  }
}

// proc/self/cgroup lists "hierarchy:controllers:path" per hierarchy: v2's
// is "0::path"; v1's memory controller is the one whose controllers
// include "memory". Both are mounted where systemd and Docker put them.
void ConsiderCgroups(AvailableMemory& available, const std::string& root) {
  std::ifstream cgroups(root + "proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string hierarchy = line.substr(0, first);
    const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    const std::string cgroup = line.substr(second + 1);
    if (hierarchy == "0" && controllers == ",,") {
      ConsiderCgroup(available, root + "sys/fs/cgroup", cgroup, "memory.max");
    } else if (controllers.find(",memory,") != std::string::npos) {
      ConsiderCgroup(available, root + "sys/fs/cgroup/memory", cgroup, "memory.limit_in_bytes");
    }
  }
}

// "MemAvailable:   22040120 kB" in proc/meminfo: the kernel's estimate of
// what can be allocated without swapping.
void ConsiderMemAvailable(AvailableMemory& available, const std::string& root) {
  const std::string path = root + "proc/meminfo";
  std::ifstream meminfo(path);
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    uint64_t kilobytes = 0;
    std::string unit;
    if (fields >> kilobytes >> unit && unit == "kB") {
      Consider(available, kilobytes * 1024, "MemAvailable in " + path);
    }
    return;
  }
}

}  // namespace

AvailableMemory FindAvailableMemory(const std::string& root, const char* limit_variable) {
  const std::string prefix = root.empty() || root.back() == '/' ? root : root + "/";
  AvailableMemory available;
  ConsiderCgroups(available, prefix);
  ConsiderMemAvailable(available, prefix);
  if (limit_variable != nullptr) {
    const std::optional<uint64_t> limit = ParseBytes(limit_variable);
    if (!limit) {
      throw InputError(std::string(kLimitVariable) + ": '" + limit_variable +
                       "' is not a number of bytes");
    }
    Consider(available, limit, kLimitVariable);
  }
  return available;
}

AvailableMemory FindAvailableMemory() {
  return FindAvailableMemory("/", std::getenv(kLimitVariable));
}

}  // namespace mb
