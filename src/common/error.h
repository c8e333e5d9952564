// Error types and the process exit codes they map to.
//
// Every failure a user can cause (a bad config, a bad data file, a bad
// command line) is an InputError: main() prints its one-line message and
// exits with kExitInputError, before any run directory exists.
#pragma once

#include <stdexcept>
#include <string>

namespace mb {

// Exit codes of the runner (documented in README.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitInternalError = 1;  // a bug: please report it
inline constexpr int kExitInputError = 2;     // bad config, data file or CLI
inline constexpr int kExitDiverged = 3;       // NaN/Inf in loss or weights
inline constexpr int kExitOutputError = 4;    // results could not be written
inline constexpr int kExitInterrupted = 130;  // SIGINT/SIGTERM

// A problem with something the user gave us. The message is one line and
// names the file and the key path or byte offset.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message)
      : std::runtime_error(message) {}
};

// Results could not be written (disk full, read-only directory, ...).
class OutputError : public std::runtime_error {
 public:
  explicit OutputError(const std::string& message)
      : std::runtime_error(message) {}
};

}  // namespace mb
