#include "train/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <deque>

#include "common/error.h"

namespace mb {

namespace {

// What an interrupt does now. One atomic, so that switching to kExitAtOnce
// and learning whether a stop was asked for before cannot miss a signal
// that lands in between.
enum State : int {
  kExitAtOnce,     // nothing at stake: exit now
  kStopCleanly,    // results at stake: ask for a stop
  kStopRequested,  // asked for already: the next interrupt exits now
};

std::atomic<int> g_state{kExitAtOnce};
// The lines the handler prints. It may be printing one on another thread
// while the code sets the next, so a line, once set, is never freed or
// changed (a handful per run; see Keep).
std::atomic<const std::string*> g_exit_line{nullptr};
std::atomic<const std::string*> g_acknowledgement{nullptr};
std::atomic<const std::string*> g_second{nullptr};
// Set once per process, before the lines that use it.
std::string g_prefix;

const std::string* Keep(std::string text) {
  // Never destroyed, not even at exit, when a late signal may still read it.
  static auto* const kept = new std::deque<std::string>;
  kept->push_back(std::move(text));
  return &kept->back();
}

void WriteToStderr(const char* text, size_t size) {
  [[maybe_unused]] const ssize_t ignored = write(STDERR_FILENO, text, size);
}

void WriteToStderr(const std::string* text) {
  if (text != nullptr) WriteToStderr(text->data(), text->size());
}

extern "C" void OnInterrupt(int) {
  int state = g_state.load();
  while (state == kStopCleanly) {
    if (g_state.compare_exchange_weak(state, kStopRequested)) {
      WriteToStderr(g_acknowledgement.load());
      return;
    }
  }
  if (state == kExitAtOnce) {
    WriteToStderr(g_exit_line.load());
  } else {
    WriteToStderr(g_second.load());
  }
  _exit(kExitInterrupted);
}

// A line as the handler writes it, in one write so that it stays whole
// among other ranks' lines: unprefixed, after a newline that ends a live
// bar or the terminal's "^C"; prefixed, on a line of its own.
std::string HandlerLine(const std::string& text) {
  return (g_prefix.empty() ? "\n" : g_prefix) + text + "\n";
}

}  // namespace

void SetInterruptLinePrefix(std::string prefix) {
  g_prefix = std::move(prefix);
  g_second.store(Keep(HandlerLine("interrupted again: exiting at once")));
}

void InstallInterruptHandlers(std::string exit_line) {
  if (g_second.load() == nullptr) SetInterruptLinePrefix("");
  ExitAtOnceOnInterrupt(std::move(exit_line));
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool ExitAtOnceOnInterrupt(std::string line) {
  g_exit_line.store(Keep(HandlerLine(line)));
  return g_state.exchange(kExitAtOnce) == kStopRequested;
}

void StopCleanlyOnInterrupt(std::string what_happens) {
  g_acknowledgement.store(
      Keep(HandlerLine("interrupt: " + what_happens + " (interrupt again to exit at once)")));
  int from = kExitAtOnce;
  g_state.compare_exchange_strong(from, kStopCleanly);
}

bool InterruptRequested() { return g_state.load(std::memory_order_relaxed) == kStopRequested; }

}  // namespace mb
