// How the runner answers an interrupt while results are at stake: it asks
// for a stop, and the request stands until the code that switches to
// exiting at once takes it over. (Exiting at once is checked from the
// outside, by the CLI test scripts.)
#include <catch2/catch.hpp>

#include <signal.h>

#include "train/interrupt.h"

namespace mb {
namespace {

TEST_CASE("An interrupt while results are at stake asks for a stop and is handed on", "[train]") {
  InstallInterruptHandlers("interrupt_test: interrupted");
  StopCleanlyOnInterrupt("stopping in a test");
  CHECK_FALSE(InterruptRequested());
  raise(SIGINT);
  CHECK(InterruptRequested());
  StopCleanlyOnInterrupt("a request made before stands");
  CHECK(InterruptRequested());
  // Switching to "exit at once" tells the caller of the request it takes over.
  CHECK(ExitAtOnceOnInterrupt("interrupt_test: interrupted"));
  CHECK_FALSE(InterruptRequested());
  StopCleanlyOnInterrupt("stopping in a test");
  CHECK_FALSE(InterruptRequested());
  CHECK_FALSE(ExitAtOnceOnInterrupt("interrupt_test: interrupted"));
  // The other tests of this binary end as any process would.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

}  // namespace
}  // namespace mb
