#include "report/safetensors.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>

#include "common/error.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using mb::TempDir;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A safetensors file assembled by hand: 8-byte little-endian length, header,
// data.
std::string RawFile(const std::string& header, const std::string& data = "",
                    uint64_t header_length = UINT64_MAX) {
  if (header_length == UINT64_MAX) header_length = header.size();
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(header_length >> (8 * i)));
  return bytes + header + data;
}

// The message ReadSafetensors throws for a file with these bytes. Every
// message is one line that starts with the path.
std::string ReadError(const std::string& bytes) {
  TempDir dir;
  const fs::path path = dir.path() / "bad.safetensors";
  WriteBytes(path, bytes);
  try {
    mb::ReadSafetensors(path.string());
  } catch (const mb::InputError& e) {
    const std::string message = e.what();
    CHECK_THAT(message, StartsWith(path.string() + ": "));
    CHECK(message.find('\n') == std::string::npos);
    return message;
  }
  FAIL("ReadSafetensors accepted a corrupt file");
  return "";
}

// "file bytes <from> to <to>" for bytes [from, to) of the data after `header`.
std::string FileBytes(const std::string& header, uint64_t from, uint64_t to) {
  const uint64_t data_start = 8 + header.size();
  return "file bytes " + std::to_string(data_start + from) + " to " +
         std::to_string(data_start + to);
}

std::string OneTensor(const std::string& entry) {
  return "{\"__metadata__\":{\"format\":\"pt\"},\"w\":" + entry + "}";
}

// Bitwise, so that NaN and -0.0 count as preserved.
bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE("safetensors round trip keeps shapes and exact float bits", "[report]") {
  TempDir dir;
  const std::string path = (dir.path() / "model.safetensors").string();
  mb::TensorMap tensors;
  for (int i = 0; i < 15; ++i) tensors["layer0.weight"].data.push_back(0.1f * i - 0.7f);
  tensors["layer0.weight"].shape = {3, 5};
  tensors["layer0.bias"] = {
      {5},
      {-0.0f, std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::infinity(),
       std::numeric_limits<float>::quiet_NaN(), 1e30f}};
  // Empty tensors are valid safetensors (the reference implementation writes
  // them), and a scalar has shape [] and one element.
  tensors["empty"] = {{0}, {}};
  tensors["empty_matrix"] = {{4, 0}, {}};
  tensors["scalar"] = {{}, {42.5f}};
  tensors["Upper"] = {{1}, {3.0f}};  // sorts before "__metadata__" bytewise

  mb::WriteSafetensors(path, tensors);
  const mb::TensorMap read = mb::ReadSafetensors(path);

  REQUIRE(read.size() == tensors.size());
  for (const auto& [name, tensor] : tensors) {
    INFO(name);
    REQUIRE(read.count(name) == 1);
    CHECK(read.at(name).shape == tensor.shape);
    CHECK(SameBits(read.at(name).data, tensor.data));
  }
}

TEST_CASE("safetensors header is padded to a multiple of 8 with spaces", "[report]") {
  TempDir dir;
  for (const std::string name :
       {"a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"}) {
    INFO(name);
    const fs::path path = dir.path() / (name + ".safetensors");
    mb::WriteSafetensors(path.string(), {{name, {{1}, {1.0f}}}});
    const std::string bytes = ReadBytes(path);
    uint64_t header_length = 0;
    for (int i = 0; i < 8; ++i) {
      header_length |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    }
    CHECK(header_length % 8 == 0);
    CHECK(bytes.size() == 8 + header_length + 4);
    const std::string header = bytes.substr(8, header_length);
    CHECK_THAT(header, StartsWith("{\"__metadata__\":{\"format\":\"pt\"},"));
    CHECK(header.find_last_not_of(' ') == header.rfind('}'));
  }
}

TEST_CASE("safetensors writes the reference byte layout", "[report]") {
  TempDir dir;
  const fs::path path = dir.path() / "tiny.safetensors";
  mb::WriteSafetensors(path.string(), {{"b", {{2}, {1.0f, -2.0f}}}});

  // 85 bytes of JSON + 3 spaces = 88 = 0x58; 1.0f = 0x3f800000, -2.0f = 0xc0000000.
  const std::string expected =
      std::string("\x58\0\0\0\0\0\0\0", 8) +
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   " +
      std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);
  CHECK(ReadBytes(path) == expected);
}

TEST_CASE("WriteSafetensors rejects data that does not match the shape", "[report]") {
  TempDir dir;
  const std::string path = (dir.path() / "x.safetensors").string();
  CHECK_THROWS_AS(mb::WriteSafetensors(path, {{"w", {{2, 2}, {1, 2, 3}}}}), std::invalid_argument);
  CHECK_THROWS_AS(mb::WriteSafetensors(path, {{"w", {{-1}, {}}}}), std::invalid_argument);
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("ReadSafetensors reports a missing file", "[report]") {
  TempDir dir;
  const std::string path = (dir.path() / "nope.safetensors").string();
  CHECK_THROWS_MATCHES(mb::ReadSafetensors(path), mb::InputError,
                       Catch::Message(path + ": cannot open (No such file or directory)"));
}

TEST_CASE("ReadSafetensors rejects a corrupt header", "[report]") {
  SECTION("file shorter than the length field") {
    CHECK_THAT(ReadError(std::string("\x08\0\0\0\0", 5)), Contains("file is 5 bytes, too short"));
  }
  SECTION("header length beyond the file") {
    CHECK_THAT(ReadError(RawFile("{}", "", 100)),
               Contains("header length 100 at byte 0 runs past the end of the file (10 bytes)"));
  }
  SECTION("header length beyond the 100 MB limit") {
    CHECK_THAT(ReadError(RawFile("{}", "", uint64_t{1} << 40)),
               Contains("header length 1099511627776 at byte 0 exceeds the limit"));
  }
  SECTION("header not JSON") {
    CHECK_THAT(ReadError(RawFile("{\"w\": nope}")),
               Contains("header at byte 8 is not valid JSON: [json.exception.parse_error"));
  }
  SECTION("header JSON but not an object") {
    CHECK_THAT(ReadError(RawFile("[1, 2]")),
               Contains("header at byte 8 is a JSON array, expected an object"));
  }
  SECTION("tensor entry not an object") {
    CHECK_THAT(ReadError(RawFile(OneTensor("3"))),
               Contains("tensor 'w': entry is a JSON number, expected an object"));
  }
}

TEST_CASE("ReadSafetensors rejects a bad dtype or shape", "[report]") {
  const std::string data(8, '\0');
  SECTION("wrong dtype") {
    TempDir dir;
    const std::string path = (dir.path() / "half.safetensors").string();
    WriteBytes(path,
               RawFile(OneTensor(R"({"dtype":"F16","shape":[4],"data_offsets":[0,8]})"), data));
    CHECK_THROWS_MATCHES(
        mb::ReadSafetensors(path), mb::InputError,
        Catch::Message(path + ": tensor 'w': dtype F16 not supported (expected F32)"));
  }
  SECTION("missing dtype") {
    CHECK_THAT(ReadError(RawFile(OneTensor(R"({"shape":[2],"data_offsets":[0,8]})"), data)),
               Contains("tensor 'w': missing string \"dtype\""));
  }
  SECTION("negative dimension") {
    CHECK_THAT(ReadError(RawFile(
                   OneTensor(R"({"dtype":"F32","shape":[2,-3],"data_offsets":[0,8]})"), data)),
               Contains("tensor 'w': shape[1] is -3, expected a non-negative integer"));
  }
  SECTION("fractional dimension") {
    CHECK_THAT(ReadError(RawFile(OneTensor(R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,8]})"),
                                 data)),
               Contains("tensor 'w': shape[0] is 2.5, expected a non-negative integer"));
  }
  SECTION("element count overflows") {
    CHECK_THAT(
        ReadError(RawFile(
            OneTensor(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})"),
            data)),
        Contains("tensor 'w': shape [4294967296,4294967296] has too many elements"));
  }
  SECTION("control characters in a name stay on one line") {
    CHECK_THAT(
        ReadError(RawFile(R"({"a\nb":{"dtype":"I8","shape":[],"data_offsets":[0,1]}})", data)),
        Contains("tensor 'a\\x0ab': dtype I8 not supported"));
  }
}

TEST_CASE("ReadSafetensors accepts a huge shape with a zero dimension", "[report]") {
  TempDir dir;
  const fs::path path = dir.path() / "empty.safetensors";
  WriteBytes(path,
             RawFile(OneTensor(
                 R"({"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]})")));
  const mb::TensorMap read = mb::ReadSafetensors(path.string());
  CHECK(read.at("w").shape == std::vector<int64_t>{4294967296, 4294967296, 0});
  CHECK(read.at("w").data.empty());
}

TEST_CASE("ReadSafetensors rejects bad data offsets", "[report]") {
  // Header {"w": ...} is followed by 8 data bytes: file bytes 8+N to 16+N.
  const std::string data(8, '\0');
  SECTION("not a pair") {
    CHECK_THAT(
        ReadError(RawFile(OneTensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0]})"), data)),
        Contains("tensor 'w': \"data_offsets\" must be [begin, end]"));
  }
  SECTION("begin after end") {
    CHECK_THAT(
        ReadError(RawFile(OneTensor(R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})"), data)),
        Contains("tensor 'w': data_offsets [8,0] begin after they end"));
  }
  SECTION("end past the data") {
    const std::string header = OneTensor(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})");
    const std::string data_start = std::to_string(8 + header.size());
    const std::string data_end = std::to_string(16 + header.size());
    CHECK_THAT(
        ReadError(RawFile(header, data)),
        Contains("tensor 'w': data_offsets [0,16] end past the end of the file (data is bytes " +
                 data_start + " to " + data_end + ")"));
  }
  SECTION("size inconsistent with the shape") {
    const std::string header = OneTensor(R"({"dtype":"F32","shape":[3],"data_offsets":[4,8]})");
    CHECK_THAT(
        ReadError(RawFile(header, data)),
        Contains("tensor 'w': data_offsets [4,8] (file byte " +
                 std::to_string(8 + header.size() + 4) + ") hold 4 bytes but shape [3] needs 12"));
  }
  SECTION("overlapping tensors") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[2,10]}})";
    CHECK_THAT(ReadError(RawFile(header, std::string(10, '\0'))),
               Contains("tensors 'a' and 'b' overlap at file byte " +
                        std::to_string(8 + header.size() + 2)));
  }
}

// Regressions found by fuzzing (tests/fuzz/fuzz_safetensors.cc).
TEST_CASE("fuzz: a number too large for a double is an input error", "[report]") {
  // nlohmann::json throws out_of_range, not parse_error, for it: it escaped
  // as an internal error. The fuzzer's input: a 32-byte header.
  const std::string input("\x20\0\0\0\0\0\0\0" R"(4e+399{"__metadata__":{"format":"pt"}})", 46);
  CHECK_THAT(ReadError(input), Contains("header at byte 8 is not valid JSON: "
                                        "[json.exception.out_of_range.406] number overflow "
                                        "parsing '4e+399'"));
  CHECK_THAT(
      ReadError(RawFile(OneTensor(R"({"dtype":"F32","shape":[1e400],"data_offsets":[0,4]})"),
                        std::string(4, '\0'))),
      Contains("[json.exception.out_of_range.406] number overflow parsing '1e400'"));
}

TEST_CASE("fuzz: a deeply nested header is rejected, not a stack overflow", "[report]") {
  // Printing the bad shape element recursed once per level: 200000 levels
  // overflowed the stack.
  const auto nested = [](size_t levels) {
    return std::string(levels, '[') + std::string(levels, ']');
  };
  const std::string message = "header at byte 8 nests arrays or objects more than 32 levels deep";
  CHECK_THAT(ReadError(RawFile(OneTensor(R"({"dtype":"F32","shape":[)" + nested(200000) +
                                         R"(],"data_offsets":[0,4]})"),
                               std::string(4, '\0'))),
             Contains(message));
  // The header object is one level, so metadata may nest 31 more.
  TempDir dir;
  const fs::path path = dir.path() / "metadata.safetensors";
  WriteBytes(path, RawFile("{\"__metadata__\":" + nested(31) + "}"));
  CHECK(mb::ReadSafetensors(path.string()).empty());
  CHECK_THAT(ReadError(RawFile("{\"__metadata__\":" + nested(32) + "}")), Contains(message));
}

TEST_CASE("ReadSafetensors rejects a key given twice", "[report]") {
  const std::string entry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  const std::string data(4, '\0');
  SECTION("a tensor") {
    CHECK_THAT(ReadError(RawFile("{\"w\":" + entry + ",\"w\":" + entry + "}", data)),
               Contains("header at byte 8 has the key 'w' twice"));
  }
  SECTION("a field of an entry") {
    CHECK_THAT(ReadError(RawFile(OneTensor(
                   R"({"dtype":"F32","shape":[1],"shape":[2],"data_offsets":[0,4]})"), data)),
               Contains("header at byte 8 has the key 'shape' twice"));
  }
  SECTION("metadata") {
    CHECK_THAT(ReadError(RawFile(R"({"__metadata__":{"a":"1","a":"2"},"w":)" + entry + "}", data)),
               Contains("header at byte 8 has the key 'a' twice"));
  }
  SECTION("the same key in different objects is fine") {
    TempDir dir;
    const fs::path path = dir.path() / "ok.safetensors";
    WriteBytes(path, RawFile(R"({"__metadata__":{"w":"x"},"w":)" + entry + "}", data));
    CHECK(mb::ReadSafetensors(path.string()).at("w").shape == std::vector<int64_t>{1});
  }
}

TEST_CASE("ReadSafetensors rejects bytes that belong to no tensor", "[report]") {
  // The format's data section is the tensors' bytes back to back.
  SECTION("trailing bytes") {
    const std::string header = OneTensor(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})");
    CHECK_THAT(ReadError(RawFile(header, std::string(7, '\0'))),
               Contains(FileBytes(header, 4, 7) + " after the last tensor ('w') belong to no tensor"));
  }
  SECTION("bytes before the first tensor") {
    const std::string header = OneTensor(R"({"dtype":"F32","shape":[1],"data_offsets":[4,8]})");
    CHECK_THAT(ReadError(RawFile(header, std::string(8, '\0'))),
               Contains("before the first tensor ('w') belong to no tensor"));
  }
  SECTION("a gap between tensors") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
    CHECK_THAT(ReadError(RawFile(header, std::string(12, '\0'))),
               Contains(FileBytes(header, 4, 8) + " between tensors 'a' and 'b' belong to no tensor"));
  }
  SECTION("data but no tensor") {
    CHECK_THAT(ReadError(RawFile("{}", std::string(4, '\0'))),
               Contains("after a header that lists no tensor data belong to no tensor"));
  }
}

TEST_CASE("SafetensorsFile checks the header before reading any data", "[report]") {
  // Sparse files: 10 GiB on paper, no disk and, read as the header says,
  // no memory.
  constexpr uint64_t kTenGiB = uint64_t{10} << 30;
  TempDir dir;
  SECTION("a valid file followed by 10 GiB") {
    const fs::path path = dir.path() / "padded.safetensors";
    mb::WriteSafetensors(path.string(), {{"w", {{2}, {1.0f, 2.0f}}}});
    fs::resize_file(path, kTenGiB);
    try {
      mb::SafetensorsFile file(path.string());
      FAIL("a file with 10 GiB of trailing bytes was accepted");
    } catch (const mb::InputError& e) {
      CHECK_THAT(e.what(), Contains("to " + std::to_string(kTenGiB) +
                                    " after the last tensor ('w') belong to no tensor"));
    }
  }
  SECTION("a header promising a 10 GiB tensor opens without reading it") {
    const uint64_t elements = kTenGiB / 4;
    const std::string header = OneTensor(R"({"dtype":"F32","shape":[)" + std::to_string(elements) +
                                         R"(],"data_offsets":[0,)" + std::to_string(kTenGiB) +
                                         "]}");
    const fs::path path = dir.path() / "huge.safetensors";
    WriteBytes(path, RawFile(header));
    fs::resize_file(path, 8 + header.size() + kTenGiB);
    const mb::SafetensorsFile file(path.string());
    REQUIRE(file.tensors().size() == 1);
    CHECK(file.tensors().at("w").shape == std::vector<int64_t>{static_cast<int64_t>(elements)});
    CHECK(file.tensors().at("w").end == kTenGiB);
  }
}

TEST_CASE("SafetensorsFile reads a tensor larger than its read chunk exactly", "[report]") {
  TempDir dir;
  const std::string path = (dir.path() / "large.safetensors").string();
  // 2.4 MB: three 1 MiB chunks, the last one partial.
  mb::TensorMap tensors;
  tensors["a"] = {{3}, {1.0f, 2.0f, 3.0f}};
  tensors["b"] = {{600, 1000}, {}};
  for (int i = 0; i < 600000; ++i) tensors["b"].data.push_back(static_cast<float>(i) * 0.5f - 7.0f);
  mb::WriteSafetensors(path, tensors);
  const mb::SafetensorsFile file(path);
  std::vector<float> b(600000);
  file.ReadTensor("b", b.data());
  CHECK(SameBits(b, tensors["b"].data));
  const mb::TensorMap read = mb::ReadSafetensors(path);
  CHECK(SameBits(read.at("a").data, tensors["a"].data));
  CHECK(SameBits(read.at("b").data, tensors["b"].data));
}

TEST_CASE("Metadata pairs are written beside format and read back", "[report]") {
  TempDir dir;
  const std::string path = (dir.path() / "meta.safetensors").string();
  mb::WriteSafetensors(path, {{"w", {{1}, {1.0f}}}},
                       {{"epoch", "2"}, {"report", "{\"a\": [1, 2]}"}});
  const mb::SafetensorsFile file(path);
  CHECK(file.metadata() == mb::SafetensorsMetadata{
                               {"epoch", "2"}, {"format", "pt"}, {"report", "{\"a\": [1, 2]}"}});
  // Values that are not strings, which the format does not allow, are left out.
  const std::string header =
      R"({"__metadata__":{"format":"pt","n":3},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const fs::path odd = dir.path() / "odd.safetensors";
  WriteBytes(odd, RawFile(header, std::string(4, '\0')));
  CHECK(mb::SafetensorsFile(odd.string()).metadata() == mb::SafetensorsMetadata{{"format", "pt"}});
}
