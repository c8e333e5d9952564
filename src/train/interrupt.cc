#include "train/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "common/error.h"

namespace mb {

namespace {

std::atomic<bool> g_interrupted{false};

// The prefix of the handler's line, copied in before the handler is
// installed; every run of a process sets the same one.
char g_prefix[128];
std::atomic<size_t> g_prefix_length{0};

extern "C" void OnInterrupt(int) {
  if (g_interrupted.exchange(true)) _exit(kExitInterrupted);  // the second signal
  static const char kMessage[] =
      "interrupt: stopping after this step (interrupt again to exit at once)\n";
  // One write, so that the line stays whole among other ranks' lines.
  // Unprefixed output may have a live bar to end first.
  char line[sizeof g_prefix + sizeof kMessage];
  const size_t prefix_length = g_prefix_length.load();
  size_t length = 0;
  if (prefix_length == 0) {
    line[length++] = '\n';
  } else {
    std::memcpy(line, g_prefix, prefix_length);
    length = prefix_length;
  }
  std::memcpy(line + length, kMessage, sizeof kMessage - 1);
  length += sizeof kMessage - 1;
  [[maybe_unused]] const ssize_t ignored = write(STDERR_FILENO, line, length);
}

}  // namespace

void InstallInterruptHandlers(std::string_view line_prefix) {
  const size_t length = std::min(line_prefix.size(), sizeof g_prefix - 1);
  std::memcpy(g_prefix, line_prefix.data(), length);
  g_prefix_length.store(length);
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool InterruptRequested() { return g_interrupted.load(std::memory_order_relaxed); }

}  // namespace mb
