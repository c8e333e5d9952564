#include "report/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"

namespace mb {

RunLock::RunLock(const std::string& run_dir) {
  fd_ = open(run_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) return;  // the run's own checks name a missing directory
  if (flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  const int error = errno;
  close(fd_);
  fd_ = -1;
  if (error == EWOULDBLOCK) {
    throw InputError(run_dir + ": the run is still running in another process");
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace mb
