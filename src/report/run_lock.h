// The lock a live run holds on its run directory, so that `runner resume`
// can tell a run that was cut off from one still running in another
// process: flock(2) on the directory itself, released by the kernel however
// the process ends, SIGKILL included. No file is added to the directory.
#pragma once

#include <string>

namespace mb {

class RunLock {
 public:
  // Takes the lock on `run_dir`, or throws InputError naming it when
  // another process holds it. Where the file system cannot lock (some
  // network file systems), the lock is not taken and nothing is refused:
  // the sweep's claims (sweep/point_claim.h) still keep sweeps apart.
  explicit RunLock(const std::string& run_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace mb
