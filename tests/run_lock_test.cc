// The lock a live run holds on its directory.
#include <catch2/catch.hpp>

#include <optional>

#include "common/error.h"
#include "report/run_lock.h"
#include "temp_dir.h"

TEST_CASE("A run directory is locked once, until its holder lets go", "[report]") {
  mb::TempDir dir;
  const std::string run_dir = dir.path().string();
  std::optional<mb::RunLock> first(std::in_place, run_dir);
  CHECK_THROWS_WITH(mb::RunLock(run_dir),
                    run_dir + ": the run is still running in another process");
  first.reset();
  CHECK_NOTHROW(mb::RunLock(run_dir));
  // A missing directory is left for the run's own checks to name.
  CHECK_NOTHROW(mb::RunLock(run_dir + "/missing"));
}
