#include "train/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "common/error.h"

namespace mb {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void OnInterrupt(int) {
  if (g_interrupted.exchange(true)) _exit(kExitInterrupted);  // the second signal
  static const char kMessage[] =
      "\ninterrupt: stopping after this step (interrupt again to exit at once)\n";
  [[maybe_unused]] const ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

}  // namespace

void InstallInterruptHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool InterruptRequested() { return g_interrupted.load(std::memory_order_relaxed); }

}  // namespace mb
