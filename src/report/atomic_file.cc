#include "report/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "common/error.h"
#include "report/atomic_temporaries.h"

namespace mb {
namespace {

[[noreturn]] void ThrowCannotWrite(const std::string& path, int error_number) {
  throw OutputError(path + ": cannot write (" + std::generic_category().message(error_number) +
                    ")");
}

// write(2) may write fewer bytes than asked (signals, pipes, quotas) or be
// interrupted before writing anything; both are retried. Returns 0 or errno.
int WriteAll(int fd, std::string_view contents) {
  const char* next = contents.data();
  size_t remaining = contents.size();
  while (remaining > 0) {
    const ssize_t written = write(fd, next, remaining);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    next += written;
    remaining -= static_cast<size_t>(written);
  }
  return 0;
}

// The rename is only durable once the directory entry itself reaches the
// disk. A failure here cannot un-write the file and some file systems refuse
// to fsync a directory, so it is not an error.
void SyncDirectoryBestEffort(const std::string& file_path) {
  std::string directory = std::filesystem::path(file_path).parent_path().string();
  if (directory.empty()) directory = ".";
  const int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

}  // namespace

void WriteFileAtomic(const std::string& path, std::string_view contents) {
  // Same directory as the target, so the rename stays within one file system
  // and is atomic; named after this process, so that the next run can remove
  // it should this one be killed before the rename.
  std::string temp_path = AtomicTemporaryTemplate(path);
  const int fd = mkstemp(temp_path.data());
  if (fd < 0) ThrowCannotWrite(path, errno);

  int error = 0;
  // mkstemp creates the file 0600; results are meant to be shared.
  if (fchmod(fd, 0644) != 0) error = errno;
  if (error == 0) error = WriteAll(fd, contents);
  if (error == 0 && fsync(fd) != 0) error = errno;
  // NFS and some full disks report a failed write-back only here. The
  // descriptor is released even when close fails, so it is never retried.
  if (close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && std::rename(temp_path.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    unlink(temp_path.c_str());
    ThrowCannotWrite(path, error);
  }
  SyncDirectoryBestEffort(path);
}

}  // namespace mb
