// Error types and the process exit codes they map to.
//
// Every failure a user can cause (a bad config, a bad data file, a bad
// command line) is an InputError: main() prints its one-line message and
// exits with kExitInputError, before any run directory exists.
#pragma once

#include <stdexcept>
#include <string>

namespace mb {

// Exit codes of the runner (documented in docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitInternalError = 1;  // a bug: please report it
inline constexpr int kExitInputError = 2;     // bad config, data file or CLI
inline constexpr int kExitDiverged = 3;       // NaN/Inf in loss or weights
inline constexpr int kExitOutputError = 4;    // results could not be written
inline constexpr int kExitInterrupted = 130;  // SIGINT/SIGTERM

// `text` with its control characters written as \xNN, so that text from the
// user (a key, a value, a path) cannot break a message over lines.
inline std::string OneLine(const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string line;
  line.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      line += "\\x";
      line += kHex[byte >> 4];
      line += kHex[byte & 0xf];
    } else {
      line += c;
    }
  }
  return line;
}

// A problem with something the user gave us. The message is one line (see
// OneLine) and names the file and the key path or byte offset.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message)
      : std::runtime_error(OneLine(message)) {}
};

// Results could not be written (disk full, read-only directory, ...). The
// message is one line too: it holds the --out path, which may be anything.
class OutputError : public std::runtime_error {
 public:
  explicit OutputError(const std::string& message)
      : std::runtime_error(OneLine(message)) {}
};

}  // namespace mb
