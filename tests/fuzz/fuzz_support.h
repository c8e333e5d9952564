// Shared by the libFuzzer targets: the readers under test take file paths,
// so each input is written to a file first, and a broken invariant aborts
// with a message (libFuzzer then keeps the input as a crash).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "common/error.h"

namespace mb::fuzz {

// One in-memory file per process (memfd), rewritten for every input and
// named by its /proc/self/fd path: no disk traffic, nothing to clean up, and
// parallel fuzzing jobs cannot collide.
class InputFile {
 public:
  InputFile() : fd_(memfd_create("mnistbench-fuzz-input", MFD_CLOEXEC)) {
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }

  // Replaces the file's content with `data` and returns its path.
  const std::string& Write(const uint8_t* data, size_t size) {
    if (ftruncate(fd_, 0) != 0) Die("ftruncate");
    size_t done = 0;
    while (done < size) {
      const ssize_t wrote = pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (wrote <= 0) Die("pwrite");
      done += static_cast<size_t>(wrote);
    }
    return path_;
  }

 private:
  [[noreturn]] static void Die(const char* what) {
    std::perror(what);
    std::abort();
  }

  int fd_;
  std::string path_;
};

// Aborts (a crash to libFuzzer) when an invariant of a successful read fails.
inline void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

// The expected outcome of bad input: one line that starts with the file.
inline void RequireErrorNamesFile(const std::exception& error, const std::string& path) {
  const std::string message = error.what();
  Require(message.rfind(path + ": ", 0) == 0, "InputError does not start with the path");
  Require(message.find('\n') == std::string::npos, "InputError is not one line");
}

// Writes the input to this process's in-memory file and calls read(path).
// An InputError is the expected outcome of bad input and must name the file
// on one line; anything else read() throws, or an invariant it breaks, is a
// crash.
template <class Read>
void ReadInput(const uint8_t* data, size_t size, const Read& read) {
  static InputFile file;
  const std::string& path = file.Write(data, size);
  try {
    read(path);
  } catch (const InputError& error) {
    RequireErrorNamesFile(error, path);
  }
}

}  // namespace mb::fuzz
