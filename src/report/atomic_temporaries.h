// The temporary files of atomic writes (report/atomic_file.h) and the
// removal of those a killed process left behind. A temporary's name says
// which process writes it,
//   <target>.tmp.<host>.<pid>.XXXXXX
// so that one whose writer no longer runs can be told from one being written
// at this moment, also by another shard writing into the same (shared)
// directory from another host.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace mb {

// The mkstemp(3) template for a temporary of `target` written by this
// process.
std::string AtomicTemporaryTemplate(const std::string& target);

// The writer of a temporary, from its file name (without directory).
struct TemporaryWriter {
  std::string host;  // as in the name: [A-Za-z0-9_-], other characters as '_'
  pid_t pid = 0;
};
// Nothing when `file_name` is not named as AtomicTemporaryTemplate names
// temporaries.
std::optional<TemporaryWriter> TemporaryWriterOf(const std::string& file_name);

// Removes, directly in `dir` (not below it), the temporaries whose writer was
// a process of this host that no longer runs; returns their paths. A missing
// or unreadable directory, or a file that cannot be removed, is passed over:
// this is housekeeping, never a reason to fail a run.
std::vector<std::string> RemoveStaleTemporaries(const std::string& dir);

// RemoveStaleTemporaries of `out_dir` and of every directory directly in it:
// the run directories that runs into `out_dir` (or a sweep's points) made.
std::vector<std::string> RemoveStaleTemporariesOfRuns(const std::string& out_dir);

}  // namespace mb
