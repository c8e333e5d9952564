#include "sweep/point_claim.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/hostname.h"

namespace mb {
namespace {

using json = nlohmann::json;

// The claim file's text, or nothing when it does not exist (any more).
std::optional<std::string> ReadClaimText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Seconds since the file was last modified, or nothing when it is gone.
std::optional<double> AgeSeconds(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return std::nullopt;
  const auto modified = std::chrono::system_clock::time_point(
      std::chrono::seconds(info.st_mtim.tv_sec) +
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(info.st_mtim.tv_nsec)));
  return std::chrono::duration<double>(std::chrono::system_clock::now() - modified).count();
}

bool ProcessExists(long pid) {
  return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

ClaimHolder ParseHolder(const std::string& text, double age) {
  ClaimHolder holder;
  holder.heartbeat_age_seconds = age;
  const json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    if (parsed.contains("host") && parsed["host"].is_string()) holder.host = parsed["host"];
    if (parsed.contains("pid") && parsed["pid"].is_number_integer()) holder.pid = parsed["pid"];
  }
  return holder;
}

// A holder is gone when its heartbeat stopped, or when it ran on this host
// and its pid is no more. A file not written yet (no host) is being
// claimed right now, unless it is that old.
bool IsStale(const ClaimHolder& holder) {
  if (holder.heartbeat_age_seconds > kClaimTimeoutSeconds) return true;
  return !holder.host.empty() && holder.host == ThisHost() && !ProcessExists(holder.pid);
}

std::string ClaimText() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return json{{"host", ThisHost()},
              {"pid", static_cast<long>(getpid())},
              {"claimed_at_ns",
               std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()}}
             .dump() +
         "\n";
}

// Creates `path` with O_EXCL and writes `text` into it: true if this
// process created it, false if it exists.
bool CreateExclusive(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    throw OutputError(path + ": cannot create the claim file (" + std::strerror(errno) + ")");
  }
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!written) {
    unlink(path.c_str());
    throw OutputError(path + ": cannot write the claim file");
  }
  return true;
}

}  // namespace

void RemoveStaleClaim(const std::string& path, const std::string& stale_text) {
  const std::string lock = path + ".takeover";
  if (!CreateExclusive(lock, ClaimText())) {
    // A taker that died inside the few microseconds it holds the lock
    // leaves it behind; once it is as old as a stale claim, anyone may
    // remove it.
    const std::optional<double> age = AgeSeconds(lock);
    if (age && *age > kClaimTimeoutSeconds) unlink(lock.c_str());
    return;
  }
  if (ReadClaimText(path) == stale_text) unlink(path.c_str());
  unlink(lock.c_str());
}

std::string ClaimHolder::Describe() const {
  if (host.empty()) return "another process (claim not written yet)";
  return host + " (pid " + std::to_string(pid) + ")";
}

std::string ThisHost() { return Hostname(); }

std::vector<LiveClaim> FindLiveClaims(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string suffix = ".claim";
  std::vector<LiveClaim> claims;
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied,
                                           error),
       end;
       !error && it != end; it.increment(error)) {
    const std::string path = it->path().string();
    if (path.size() <= suffix.size() ||
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::optional<std::string> text = ReadClaimText(path);
    const std::optional<double> age = AgeSeconds(path);
    if (!text || !age) continue;  // released meanwhile
    const ClaimHolder holder = ParseHolder(*text, *age);
    if (!IsStale(holder)) claims.push_back({path.substr(0, path.size() - suffix.size()), holder});
  }
  std::sort(claims.begin(), claims.end(),
            [](const LiveClaim& a, const LiveClaim& b) { return a.run_dir < b.run_dir; });
  return claims;
}

std::unique_ptr<PointClaim> PointClaim::TryClaim(const std::string& path, ClaimHolder* holder,
                                                 std::chrono::milliseconds heartbeat) {
  // Each round either creates the claim, finds a live holder, or removes a
  // stale claim (or sees another process remove it), so a few rounds end
  // it; a holder that keeps appearing and dying is reported as holding it.
  std::optional<ClaimHolder> stale;
  for (int round = 0; round < 8; ++round) {
    if (CreateExclusive(path, ClaimText())) {
      return std::unique_ptr<PointClaim>(new PointClaim(path, heartbeat, stale));
    }
    const std::optional<std::string> text = ReadClaimText(path);
    const std::optional<double> age = AgeSeconds(path);
    if (!text || !age) continue;  // released meanwhile: try again
    *holder = ParseHolder(*text, *age);
    if (!IsStale(*holder)) return nullptr;
    stale = *holder;
    RemoveStaleClaim(path, *text);
  }
  return nullptr;
}

PointClaim::PointClaim(std::string path, std::chrono::milliseconds heartbeat,
                       std::optional<ClaimHolder> taken_over)
    : path_(std::move(path)),
      taken_over_(std::move(taken_over)),
      period_(heartbeat),
      heartbeat_([this] { Heartbeat(); }) {}

PointClaim::~PointClaim() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_one();
  heartbeat_.join();
  unlink(path_.c_str());
}

void PointClaim::Heartbeat() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_signal_.wait_for(lock, period_, [this] { return stopping_; })) {
    utimensat(AT_FDCWD, path_.c_str(), nullptr, 0);  // modification time := now
  }
}

}  // namespace mb
