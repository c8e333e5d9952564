#include "report/atomic_temporaries.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "common/parse_decimal.h"
#include "common/hostname.h"

namespace mb {
namespace {

namespace fs = std::filesystem;

constexpr const char kMarker[] = ".tmp.";
constexpr size_t kMarkerLength = sizeof kMarker - 1;
constexpr size_t kRandomLength = 6;  // mkstemp's XXXXXX
constexpr size_t kMaxHostLength = 64;

// The host name as one component of a file name: '.' separates the
// components and '/' cannot appear, so both (and anything unusual) become
// '_'; cut to keep the name far below NAME_MAX.
std::string HostComponent(const std::string& host) {
  std::string component = host.substr(0, kMaxHostLength);
  for (char& c : component) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!plain) c = '_';
  }
  return component.empty() ? "_" : component;
}

const std::string& ThisHost() {
  static const std::string host = HostComponent(Hostname());
  return host;
}

// EPERM: it runs, as another user.
bool IsRunning(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

std::string AtomicTemporaryTemplate(const std::string& target) {
  return target + kMarker + ThisHost() + "." + std::to_string(getpid()) + "." +
         std::string(kRandomLength, 'X');
}

std::optional<TemporaryWriter> TemporaryWriterOf(const std::string& file_name) {
  // From the right, as the target's name may hold dots: the random part, the
  // pid, the host, and ".tmp." after a target of at least one character.
  const size_t random_dot = file_name.rfind('.');
  if (random_dot == std::string::npos || random_dot == 0 ||
      file_name.size() - random_dot - 1 != kRandomLength) {
    return std::nullopt;
  }
  const size_t pid_dot = file_name.rfind('.', random_dot - 1);
  if (pid_dot == std::string::npos || pid_dot == 0) return std::nullopt;
  const size_t host_dot = file_name.rfind('.', pid_dot - 1);
  if (host_dot == std::string::npos || host_dot + 1 == pid_dot || host_dot < kMarkerLength ||
      file_name.compare(host_dot + 1 - kMarkerLength, kMarkerLength, kMarker) != 0) {
    return std::nullopt;
  }
  const std::optional<size_t> pid =
      ParseDecimal(file_name.substr(pid_dot + 1, random_dot - pid_dot - 1), 9);
  // pid 0 would mean the process group to kill(2).
  if (!pid || *pid == 0) return std::nullopt;
  return TemporaryWriter{file_name.substr(host_dot + 1, pid_dot - host_dot - 1),
                         static_cast<pid_t>(*pid)};
}

std::vector<std::string> RemoveStaleTemporaries(const std::string& dir) {
  std::vector<std::string> removed;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    const std::optional<TemporaryWriter> writer =
        TemporaryWriterOf(it->path().filename().string());
    // A pid names a process on its own host only.
    if (!writer || writer->host != ThisHost() || IsRunning(writer->pid)) continue;
    std::error_code ignored;
    if (it->is_regular_file(ignored) && fs::remove(it->path(), ignored)) {
      removed.push_back(it->path().string());
    }
  }
  return removed;
}

std::vector<std::string> RemoveStaleTemporariesOfRuns(const std::string& out_dir) {
  std::vector<std::string> removed = RemoveStaleTemporaries(out_dir);
  std::error_code error;
  for (fs::directory_iterator it(out_dir, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code ignored;
    // Not into symlinked directories: they may be anyone's.
    if (it->is_symlink(ignored) || !it->is_directory(ignored)) continue;
    for (std::string& path : RemoveStaleTemporaries(it->path().string())) {
      removed.push_back(std::move(path));
    }
  }
  return removed;
}

}  // namespace mb
