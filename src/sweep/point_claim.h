// Claims on a sweep's points, so that any number of processes on any hosts
// that share the sweep directory run each point once: two copies of one
// sweep, a requeued Slurm job, two shards given the same index.
//
// A claim is a file beside the point's run directory, <dir>.claim, created
// with O_EXCL (atomic on local file systems and on NFS v3 and later) and
// holding the claimant's host, pid and start time. While the point runs, a
// thread renews the file's modification time every kHeartbeatSeconds. A
// claim is stale, and another process may take the point over, when its
// holder is provably gone: the same host and a pid that no longer exists, or
// a heartbeat older than kClaimTimeoutSeconds (a host that crashed, or a
// process that was suspended that long). Taking over is serialised by a
// second O_EXCL file, <dir>.claim.takeover, so that of several processes
// that find one stale claim, one removes it and the claim is created anew.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mb {

inline constexpr int kHeartbeatSeconds = 10;
inline constexpr int kClaimTimeoutSeconds = 120;

// Who holds a claim, as read from its file.
struct ClaimHolder {
  std::string host;  // empty while the claimant has not written it yet
  long pid = 0;
  double heartbeat_age_seconds = 0;  // since the file was last renewed

  std::string Describe() const;  // "HOST (pid N)"
};

// A claim this process holds: renews its heartbeat until destroyed, then
// removes the claim file.
class PointClaim {
 public:
  // Claims the point whose claim file is `path`, taking over a stale claim
  // (taken_over() then names its holder). Returns nothing, with `holder`
  // filled in, when a live process holds it.
  // Throws OutputError when the file cannot be created for another reason.
  // `heartbeat` is how often the claim is renewed (shorter in tests).
  static std::unique_ptr<PointClaim> TryClaim(
      const std::string& path, ClaimHolder* holder,
      std::chrono::milliseconds heartbeat = std::chrono::seconds(kHeartbeatSeconds));

  ~PointClaim();
  PointClaim(const PointClaim&) = delete;
  PointClaim& operator=(const PointClaim&) = delete;

  // The holder of the stale claim this one replaced: the point was cut off
  // in a process that is gone (killed, cancelled, its host down).
  const std::optional<ClaimHolder>& taken_over() const { return taken_over_; }

 private:
  PointClaim(std::string path, std::chrono::milliseconds heartbeat,
             std::optional<ClaimHolder> taken_over);
  void Heartbeat();

  std::string path_;
  std::optional<ClaimHolder> taken_over_;
  std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread heartbeat_;
};

// Removes the claim file `path` judged stale when it held `stale_text`,
// unless another process replaced or removed it meanwhile. Of several
// processes that try at once, the one that creates <path>.takeover does it
// and the others leave it to that one (TryClaim then tries again).
void RemoveStaleClaim(const std::string& path, const std::string& stale_text);

// A point claimed by a live process: the run directory of claim file
// <run_dir>.claim and who holds it.
struct LiveClaim {
  std::string run_dir;
  ClaimHolder holder;
};

// The claims under `dir` (searched recursively, symlinks not followed) whose
// holders are alive, judged as TryClaim judges them, sorted by run_dir: the
// points that are running now, here or on another host.
std::vector<LiveClaim> FindLiveClaims(const std::string& dir);

// The host name this process records in its claims.
std::string ThisHost();

}  // namespace mb
