#include "report/atomic_file.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.h"
#include "file_size_limit.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using mb::FileSizeLimit;
using mb::ReadFile;
using mb::TempDir;

namespace {

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

}  // namespace

TEST_CASE("WriteFileAtomic creates the file with exactly the contents", "[report]") {
  TempDir dir;
  const fs::path target = dir.path() / "out.bin";
  // Embedded NULs, and large enough that a dropped partial write would show.
  std::string contents("a\0b\n", 4);
  contents += std::string(200000, 'x');
  mb::WriteFileAtomic(target.string(), contents);
  CHECK(ReadFile(target) == contents);
  CHECK((fs::status(target).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
         fs::perms::others_read));
}

TEST_CASE("WriteFileAtomic writes an empty file", "[report]") {
  TempDir dir;
  const fs::path target = dir.path() / "empty";
  mb::WriteFileAtomic(target.string(), "");
  CHECK(fs::exists(target));
  CHECK(fs::file_size(target) == 0);
}

TEST_CASE("WriteFileAtomic replaces an existing file and leaves no temporaries", "[report]") {
  TempDir dir;
  const fs::path target = dir.path() / "report.json";
  mb::WriteFileAtomic(target.string(), "first, and longer than the second\n");
  mb::WriteFileAtomic(target.string(), "second\n");
  CHECK(ReadFile(target) == "second\n");
  CHECK(Entries(dir.path()) == std::vector<std::string>{"report.json"});
}

TEST_CASE("WriteFileAtomic into a missing directory throws OutputError", "[report]") {
  TempDir dir;
  const std::string target = (dir.path() / "missing" / "out.txt").string();
  CHECK_THROWS_MATCHES(mb::WriteFileAtomic(target, "x"), mb::OutputError,
                       Catch::Message(target + ": cannot write (No such file or directory)"));
  CHECK(Entries(dir.path()).empty());
}

TEST_CASE("WriteFileAtomic's error is one line whatever the path", "[report]") {
  TempDir dir;
  const std::string target = (dir.path() / "two\nlines" / "out.txt").string();
  CHECK_THROWS_MATCHES(mb::WriteFileAtomic(target, "x"), mb::OutputError,
                       Catch::Message(dir.path().string() + "/two\\x0alines/out.txt: cannot write "
                                      "(No such file or directory)"));
}

TEST_CASE("WriteFileAtomic below a regular file throws OutputError", "[report]") {
  TempDir dir;
  const fs::path not_a_directory = dir.path() / "plain";
  mb::WriteFileAtomic(not_a_directory.string(), "old");
  const std::string target = (not_a_directory / "out.txt").string();
  CHECK_THROWS_MATCHES(mb::WriteFileAtomic(target, "x"), mb::OutputError,
                       Catch::Message(target + ": cannot write (Not a directory)"));
  CHECK(ReadFile(not_a_directory) == "old");
}

TEST_CASE("WriteFileAtomic failing mid-write keeps the old contents", "[report]") {
  TempDir dir;
  const fs::path target = dir.path() / "model.safetensors";
  mb::WriteFileAtomic(target.string(), "old contents");
  {
    FileSizeLimit limit(1024);
    CHECK_THROWS_MATCHES(mb::WriteFileAtomic(target.string(), std::string(4096, 'n')),
                         mb::OutputError,
                         Catch::Message(target.string() + ": cannot write (File too large)"));
  }
  CHECK(ReadFile(target) == "old contents");
  CHECK(Entries(dir.path()) == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("WriteFileAtomic over a directory fails at the rename and cleans up", "[report]") {
  TempDir dir;
  const fs::path target = dir.path() / "occupied";
  fs::create_directory(target);
  mb::WriteFileAtomic((target / "inside").string(), "kept");
  CHECK_THROWS_AS(mb::WriteFileAtomic(target.string(), "x"), mb::OutputError);
  CHECK(ReadFile(target / "inside") == "kept");
  CHECK(Entries(dir.path()) == std::vector<std::string>{"occupied"});
}

TEST_CASE("WriteFileAtomic into a read-only directory throws OutputError", "[report]") {
  // Root ignores permission bits, so the directory would be writable anyway;
  // the cases above cover failures that root cannot bypass.
  if (geteuid() == 0) return;
  TempDir dir;
  const fs::path target = dir.path() / "out.txt";
  mb::WriteFileAtomic(target.string(), "old");
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  CHECK_THROWS_MATCHES(mb::WriteFileAtomic(target.string(), "new"), mb::OutputError,
                       Catch::Message(target.string() + ": cannot write (Permission denied)"));
  CHECK(ReadFile(target) == "old");
}
