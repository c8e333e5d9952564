// Claims on sweep points (sweep/point_claim.h): one holder at a time, live
// holders respected, provably gone ones taken over, and of many processes
// that find one stale claim exactly one gets it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "sweep/point_claim.h"

namespace mb {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("mb_claim_test_" + std::to_string(getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

void WriteClaim(const fs::path& path, const std::string& text, double age_seconds) {
  std::ofstream(path) << text;
  const auto when = std::chrono::system_clock::now() -
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(
                        std::chrono::duration<double>(age_seconds));
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch());
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(ns.count() / 1000000000);
  times[0].tv_nsec = times[1].tv_nsec = static_cast<long>(ns.count() % 1000000000);
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

std::string HolderText(const std::string& host, long pid) {
  return "{\"host\": \"" + host + "\", \"pid\": " + std::to_string(pid) + "}\n";
}

// The pid of a process that has ended.
long DeadPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

TEST_CASE("A claim has one holder and is released when dropped", "[sweep]") {
  TempDir dir;
  const std::string path = (dir.path / "000-abc.claim").string();
  ClaimHolder holder;
  auto claim = PointClaim::TryClaim(path, &holder);
  REQUIRE(claim);
  CHECK(fs::exists(path));
  CHECK_FALSE(PointClaim::TryClaim(path, &holder));
  CHECK(holder.host == ThisHost());
  CHECK(holder.pid == getpid());
  CHECK(holder.Describe() == ThisHost() + " (pid " + std::to_string(getpid()) + ")");
  claim.reset();
  CHECK_FALSE(fs::exists(path));
  claim = PointClaim::TryClaim(path, &holder);
  REQUIRE(claim);
  CHECK_FALSE(claim->taken_over());  // released, not taken over
}

TEST_CASE("A claim whose holder is provably gone is taken over", "[sweep]") {
  TempDir dir;
  const fs::path path = dir.path / "000-abc.claim";
  ClaimHolder holder;
  SECTION("this host, a pid that has ended") {
    const long dead = DeadPid();
    WriteClaim(path, HolderText(ThisHost(), dead), 0);
    const auto claim = PointClaim::TryClaim(path.string(), &holder);
    REQUIRE(claim);
    // The sweep names the process it takes the point over from.
    REQUIRE(claim->taken_over());
    CHECK(claim->taken_over()->Describe() == ThisHost() + " (pid " + std::to_string(dead) + ")");
  }
  SECTION("another host, a heartbeat older than the timeout") {
    WriteClaim(path, HolderText("elsewhere.example", 4242), kClaimTimeoutSeconds + 5);
    CHECK(PointClaim::TryClaim(path.string(), &holder));
  }
  SECTION("a claim never written, as old as the timeout") {
    WriteClaim(path, "", kClaimTimeoutSeconds + 5);
    CHECK(PointClaim::TryClaim(path.string(), &holder));
  }
  SECTION("a taker that died holding the take-over lock") {
    WriteClaim(path, HolderText(ThisHost(), DeadPid()), 0);
    WriteClaim(path.string() + ".takeover", "", kClaimTimeoutSeconds + 5);
    CHECK(PointClaim::TryClaim(path.string(), &holder));
    CHECK_FALSE(fs::exists(path.string() + ".takeover"));
  }
}

TEST_CASE("A claim whose holder may be alive is respected", "[sweep]") {
  TempDir dir;
  const fs::path path = dir.path / "000-abc.claim";
  ClaimHolder holder;
  SECTION("another host with a fresh heartbeat") {
    WriteClaim(path, HolderText("elsewhere.example", 4242), kClaimTimeoutSeconds - 30);
    CHECK_FALSE(PointClaim::TryClaim(path.string(), &holder));
    CHECK(holder.Describe() == "elsewhere.example (pid 4242)");
  }
  SECTION("this host, a live pid") {
    WriteClaim(path, HolderText(ThisHost(), getppid()), 0);
    CHECK_FALSE(PointClaim::TryClaim(path.string(), &holder));
  }
  SECTION("a claim being written") {
    WriteClaim(path, "", 0);
    CHECK_FALSE(PointClaim::TryClaim(path.string(), &holder));
    CHECK(holder.Describe() == "another process (claim not written yet)");
  }
  CHECK(fs::exists(path));
}

TEST_CASE("A held claim's heartbeat keeps it fresh", "[sweep]") {
  TempDir dir;
  const std::string path = (dir.path / "000-abc.claim").string();
  ClaimHolder holder;
  const auto claim = PointClaim::TryClaim(path, &holder, std::chrono::milliseconds(20));
  REQUIRE(claim);
  WriteClaim(path, HolderText(ThisHost(), getpid()), kClaimTimeoutSeconds + 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  struct stat info;
  REQUIRE(stat(path.c_str(), &info) == 0);
  CHECK(time(nullptr) - info.st_mtim.tv_sec < 10);
}

// What a summary lists as running: the claims of live holders only.
TEST_CASE("FindLiveClaims lists the claims of live holders under a directory", "[sweep]") {
  TempDir dir;
  fs::create_directories(dir.path / "sweep" / "000-abc");
  WriteClaim(dir.path / "sweep" / "001-def.claim", HolderText("elsewhere.example", 4242), 30);
  WriteClaim(dir.path / "sweep" / "000-abc.claim", HolderText(ThisHost(), getppid()), 0);
  WriteClaim(dir.path / "sweep" / "002-ghi.claim", HolderText(ThisHost(), DeadPid()), 0);
  WriteClaim(dir.path / "sweep" / "003-jkl.claim",
             HolderText("elsewhere.example", 4242), kClaimTimeoutSeconds + 5);
  WriteClaim(dir.path / "sweep" / "004-mno.claim.takeover", "", 0);
  const std::vector<LiveClaim> live = FindLiveClaims(dir.path.string());
  REQUIRE(live.size() == 2);
  CHECK(live[0].run_dir == (dir.path / "sweep" / "000-abc").string());
  CHECK(live[0].holder.pid == getppid());
  CHECK(live[1].run_dir == (dir.path / "sweep" / "001-def").string());
  CHECK(live[1].holder.Describe() == "elsewhere.example (pid 4242)");
  CHECK(FindLiveClaims((dir.path / "no-such-dir").string()).empty());
}

// The two races of a take-over, made to happen: a claim renewed or replaced
// after it was judged stale, and two takers at once.
TEST_CASE("A stale claim is removed only as it was judged, by one taker", "[sweep]") {
  TempDir dir;
  const fs::path path = dir.path / "000-abc.claim";
  const std::string stale = HolderText("elsewhere.example", 4242);
  SECTION("replaced by a new holder since") {
    WriteClaim(path, HolderText(ThisHost(), getpid()), 0);
    RemoveStaleClaim(path.string(), stale);
    CHECK(fs::exists(path));
  }
  SECTION("another taker is removing it") {
    WriteClaim(path, stale, kClaimTimeoutSeconds + 5);
    WriteClaim(path.string() + ".takeover", "", 0);
    RemoveStaleClaim(path.string(), stale);
    CHECK(fs::exists(path));
    CHECK(fs::exists(path.string() + ".takeover"));
  }
  SECTION("as judged") {
    WriteClaim(path, stale, kClaimTimeoutSeconds + 5);
    RemoveStaleClaim(path.string(), stale);
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(path.string() + ".takeover"));
  }
}

TEST_CASE("Of many takers of one stale claim, exactly one gets it", "[sweep]") {
  TempDir dir;
  const fs::path path = dir.path / "000-abc.claim";
  for (int round = 0; round < 20; ++round) {
    WriteClaim(path, HolderText("elsewhere.example", 4242), kClaimTimeoutSeconds + 5);
    std::vector<std::unique_ptr<PointClaim>> claims(8);
    std::atomic<int> ready{0};
    std::vector<std::thread> takers;
    for (auto& claim : claims) {
      takers.emplace_back([&] {
        ++ready;
        while (ready < 8) std::this_thread::yield();
        ClaimHolder holder;
        claim = PointClaim::TryClaim(path.string(), &holder);
      });
    }
    for (std::thread& t : takers) t.join();
    int held = 0;
    for (const auto& claim : claims) held += claim ? 1 : 0;
    INFO("round " << round);
    REQUIRE(held == 1);
  }
}

}  // namespace
}  // namespace mb
