// Reading report.json files back for summarize, compare and plot: what is
// refused, with a one-line error naming the file.
#include "report/report_reader.h"

#include <catch2/catch.hpp>

#include "common/error.h"
#include "report/run_report.h"
#include "temp_dir.h"

namespace mb {
namespace {

using json = nlohmann::json;

json MinimalReport(const json& schema_version) {
  return {{"schema_version", schema_version},
          {"status", "completed"},
          {"config", json::object()},
          {"config_hash", "abc"},
          {"epochs", json::array()}};
}

TEST_CASE("ReadReport reads this build's schema_version", "[report]") {
  TempDir dir;
  const std::string path = dir.Write("report.json", MinimalReport(kReportSchemaVersion).dump());
  CHECK(ReadReport(path).json["status"] == "completed");
  CHECK(RunReport().ToJson()["schema_version"] == kReportSchemaVersion);
}

TEST_CASE("ReadReport refuses another schema_version, naming the file", "[report]") {
  TempDir dir;
  const std::string path = dir.Write("report.json", MinimalReport(999).dump());
  CHECK_THROWS_MATCHES(ReadReport(path), InputError,
                       Catch::Message(path + ": schema_version: 999 is not supported (this "
                                             "build reads 1)"));
  CHECK_THROWS_MATCHES(FindReports({dir.path().string()}), InputError,
                       Catch::Message(path + ": schema_version: 999 is not supported (this "
                                             "build reads 1)"));
  dir.Write("report.json", MinimalReport(0).dump());
  CHECK_THROWS_AS(ReadReport(path), InputError);
  dir.Write("report.json", MinimalReport("1").dump());
  CHECK_THROWS_WITH(ReadReport(path),
                    path + ": schema_version: missing or not an integer (not a mnistbench report?)");
}

}  // namespace
}  // namespace mb
